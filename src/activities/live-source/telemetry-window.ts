/**
 * observeLive measured from the inference gateway's telemetry (VIGIL_LIVE_SOURCE=telemetry): the interval is
 * the bake that just ended — [at − bakeSeconds, at) for a canary step, [at − intervalSeconds, at) for a
 * monitoring window — and the arms are the gateway's routes (canary vs production), not simulated cases.
 */
import type { LiveMeasurement } from '../domain';
import { DEFAULT_SOURCE_WEIGHTS, type LiveArm, type LiveQuery, type LiveTelemetryPort } from '../telemetry/live-source';
import type { EvidencePort } from './deps';
import type { ObserveLiveInput } from './live';
import type { StageOutput } from './snapshot';

export const TELEMETRY_SOURCE = 'gateway-telemetry';

/** The prediction interval a look measures: the bake that ended at `input.at`. */
export function liveInterval(input: Pick<ObserveLiveInput, 'request' | 'mode' | 'step' | 'at'>): {
  from: string;
  to: string;
  seconds: number;
} {
  const policy = input.request.policy;
  const seconds =
    input.mode === 'canary' ? policy.canary.steps[input.step]?.bakeSeconds : policy.monitoring.intervalSeconds;
  if (seconds === undefined)
    throw new Error(`canary step ${input.step} is not in the policy (it has ${policy.canary.steps.length})`);
  const to = Date.parse(input.at);
  if (!Number.isFinite(to)) throw new Error(`observeLive: "at" is not a timestamp: ${input.at}`);
  return { from: new Date(to - seconds * 1000).toISOString(), to: new Date(to).toISOString(), seconds };
}

export async function observeLiveFromTelemetry(
  live: LiveTelemetryPort,
  evidence: EvidencePort,
  input: ObserveLiveInput,
): Promise<StageOutput<LiveMeasurement>> {
  const { request } = input;
  const ext = input.extension ?? 0;
  const { from, to } = liveInterval(input);
  const threshold = request.policy.operatingThreshold;
  const weights = request.policy.outcomes?.weights ?? DEFAULT_SOURCE_WEIGHTS;
  // The candidate serves the canary route during the canary and the production route once promoted.
  const modelVersions: LiveQuery['modelVersions'] =
    input.mode === 'canary'
      ? { canary: request.candidate.version, production: request.incumbent.version }
      : { production: request.candidate.version };
  const result = await live.measure({ model: request.modelName, from, to, threshold, weights, modelVersions });
  const window =
    input.mode === 'canary'
      ? `canary step ${input.step + 1} (${input.percent}%)${ext > 0 ? `, extension ${ext}` : ''}`
      : `monitoring interval ${input.step + 1}`;
  const treatmentArm = input.mode === 'canary' ? result.arms.canary : result.arms.production;
  const controlArm = input.mode === 'canary' ? result.arms.production : null;
  // Monitoring without a baseline: an empty comparator, as the simulated path gives (no control arm).
  const comparator = input.baseline ?? controlArm?.stats ?? result.arms.canary.stats;
  const unlabelled = {
    treatment: treatmentArm.unlabelled,
    comparator: input.baseline ? 0 : (controlArm?.unlabelled ?? 0),
  };
  const measurement: LiveMeasurement = {
    window,
    treatment: treatmentArm.stats,
    comparator,
    ...(unlabelled.treatment + unlabelled.comparator > 0 ? { unlabelled } : {}),
    overrides: { overridden: treatmentArm.overrides, alerts: treatmentArm.stats.alerts },
    latencyP99Ms: treatmentArm.p99LatencyMs,
    errors: { failed: treatmentArm.failures, requests: treatmentArm.predictions + treatmentArm.failures },
  };
  const ref = await evidence.putJson({
    kind: `vigil.${input.mode}-interval/v1`,
    releaseId: input.releaseId,
    at: input.at,
    source: TELEMETRY_SOURCE,
    trafficWindow: { model: request.modelName, from, to },
    step: input.step,
    percent: input.percent,
    comparator: input.baseline ? 'validated baseline (OFFLINE_EVAL)' : 'concurrent control arm (production route)',
    threshold,
    weights,
    measurement,
    telemetry: {
      treatment: operational(treatmentArm),
      ...(controlArm ? { control: operational(controlArm) } : {}),
      crossovers: result.crossovers,
    },
    segments: result.segments,
    completeness: result.completeness,
  });
  return { measurement, artifacts: [ref] };
}

function operational(a: LiveArm) {
  return {
    predictions: a.predictions,
    cases: a.stats.n,
    unlabelled: a.unlabelled,
    overrides: a.overrides,
    dismissedAlerts: a.dismissedAlerts,
    overrideRate: a.overrideRate,
    p99LatencyMs: a.p99LatencyMs,
    failures: a.failures,
    modelVersions: a.modelVersions,
    routeVersions: a.routeVersions,
    quality: a.quality,
  };
}
