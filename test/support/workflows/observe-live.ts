/** A one-activity workflow: observeLive with the production workflows' activity options (heartbeat 15 s). */
import type { ObserveLiveInput } from '../../../src/contracts/live-source';
import { acts } from '../../../src/workflows/activities-proxy';

export async function observeLiveOnce(input: ObserveLiveInput) {
  return acts.observeLive(input);
}
