/**
 * CANARY's measurement, also MONITORING's guardrail windows: one look at the arms over the bake that just ended,
 * measured by the worker's live source (src/activities/live-source) and recorded; the workflow judges it.
 */
import type { LiveSource, ObserveLiveInput, StageOutput } from '../contracts/live-source';
import type { LiveMeasurement } from '../domain';

export type { ObserveLiveInput };

export function canaryActivities({ live, simulated }: { live: LiveSource; simulated: LiveSource }) {
  return {
    /** One canary interval or monitoring window: measure, record, and let the workflow judge. */
    async observeLive(input: ObserveLiveInput): Promise<StageOutput<LiveMeasurement>> {
      // A drill's scenario is a simulated regression on a route table no patient uses: always the simulated world.
      return (input.scenario ? simulated : live).window(input);
    },
  };
}
