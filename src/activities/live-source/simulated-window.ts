import { createHash } from 'node:crypto';
import { heartbeat } from '@temporalio/activity';
import type { ArmStats, LiveMeasurement, ReleaseRequest, TrafficScenario } from '../domain';
import type { SimCase } from '../sim/cohort';
import { applyScenario, observedLabels } from '../sim/scenario';
import { armStats } from '../stats';
import { closeAll, openScorers, scoreCases } from './artifacts';
import type { ActivityDeps } from './deps';
import { observeLiveFromTelemetry } from './live-telemetry';
import type { StageOutput } from './snapshot';

/** Stable assignment: a case (patient) always lands in the same arm for a given percentage. */
export function inCanaryArm(caseId: string, percent: number): boolean {
  const bucket = createHash('sha256').update(caseId).digest().readUInt32BE(0) / 2 ** 32;
  return bucket * 100 < percent;
}

export interface ObserveLiveInput {
  releaseId: string;
  request: ReleaseRequest;
  mode: 'canary' | 'monitoring';
  step: number;
  percent: number;
  cases: number;
  /** Monitoring compares against the validated operating point; canary against the concurrent control arm. */
  baseline: ArmStats | null;
  at: string;
  /** Re-observation of an inconclusive step (0 = first look at it); absent in earlier histories. */
  extension?: number;
  /** 0-based live interval across the whole canary, for traffic whose world changes over time. */
  interval?: number;
  /** A drill's simulated world, applied on top of the worker's traffic. */
  scenario?: TrafficScenario;
}

export function liveActivities({ evidence, traffic, live }: Pick<ActivityDeps, 'evidence' | 'traffic' | 'live'>) {
  /** Candidate and incumbent scored on the same cases (same float32 input); scorers are always closed. */
  async function scoreBoth(
    request: ReleaseRequest,
    columns: readonly string[],
    cases: readonly SimCase[],
  ): Promise<[Float64Array, Float64Array]> {
    const [candidate, incumbent] = await openScorers(evidence, [request.candidate, request.incumbent]);
    try {
      return await Promise.all([
        scoreCases(candidate!, request.candidate, columns, cases, 'candidate'),
        scoreCases(incumbent!, request.incumbent, columns, cases, 'production'),
      ]);
    } finally {
      await closeAll([candidate!, incumbent!]);
    }
  }

  return {
    /** One canary interval or monitoring window: measure, record, and let the workflow judge. */
    async observeLive(input: ObserveLiveInput): Promise<StageOutput<LiveMeasurement>> {
      // Gateway telemetry (VIGIL_LIVE_SOURCE=telemetry): the bake that just ended, measured per route
      // (src/activities/live-telemetry.ts). A drill's scenario is a simulated world: it stays simulated.
      if (live && !input.scenario) return observeLiveFromTelemetry(live, evidence, input);
      const { request } = input;
      const ext = input.extension ?? 0;
      const source = `${input.mode}:${request.candidate.artifact.sha256}:${input.step}${ext > 0 ? `:extension-${ext}` : ''}`;
      const window =
        input.mode === 'canary'
          ? `canary step ${input.step + 1} (${input.percent}%)${ext > 0 ? `, extension ${ext}` : ''}`
          : `monitoring interval ${input.step + 1}`;
      const interval = input.interval ?? input.step;
      const drawn = await traffic.cases(source, input.cases, interval);
      const { columns } = drawn;
      const cases = input.scenario ? applyScenario(drawn.cases, columns, input.scenario, interval) : drawn.cases;
      heartbeat();
      const t = request.policy.operatingThreshold;
      const [sc, si] = await scoreBoth(request, columns, cases);
      // Each arm's cases count with the model serving that arm.
      const treated = cases
        .map((_, k) => k)
        .filter((k) => input.mode === 'monitoring' || inCanaryArm(cases[k]!.caseId, input.percent));
      const control =
        input.mode === 'monitoring'
          ? []
          : cases.map((_, k) => k).filter((k) => !inCanaryArm(cases[k]!.caseId, input.percent));
      const labels = observedLabels(cases);
      const treatment = armStats(
        treated.map((k) => sc[k]!),
        treated.map((k) => labels[k]!),
        t,
      );
      const comparator =
        input.baseline ??
        armStats(
          control.map((k) => si[k]!),
          control.map((k) => labels[k]!),
          t,
        );
      const unlabelledIn = (ks: number[]) => ks.reduce((u, k) => u + (labels[k] === -1 ? 1 : 0), 0);
      const measurement: LiveMeasurement = {
        window,
        treatment,
        comparator,
        // Only when outcomes are outstanding: earlier measurements stay byte-identical.
        ...(labels.includes(-1)
          ? { unlabelled: { treatment: unlabelledIn(treated), comparator: unlabelledIn(control) } }
          : {}),
      };
      const ref = await evidence.putJson({
        kind: `vigil.${input.mode}-interval/v1`,
        releaseId: input.releaseId,
        at: input.at,
        trafficWindow: source,
        ...(input.scenario ? { scenario: input.scenario } : {}),
        step: input.step,
        percent: input.percent,
        comparator: input.baseline ? 'validated baseline (OFFLINE_EVAL)' : 'concurrent control arm (incumbent)',
        threshold: t,
        measurement,
      });
      return { measurement, artifacts: [ref] };
    },
  };
}
