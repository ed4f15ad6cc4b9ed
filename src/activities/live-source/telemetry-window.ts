/**
 * A canary look or monitoring window measured from the inference gateway's telemetry: the interval is the bake that
 * just ended — [at − bakeSeconds, at) for a canary step, [at − intervalSeconds, at) for a monitoring window — and
 * the arms are the gateway's routes (canary vs production), not simulated cases.
 */
import type { ObserveLiveInput, StageOutput } from '../../contracts/live-source';
import type { CohortArms, LiveMeasurement } from '../../domain';
import { guardedCohortAttributes } from '../../judging';
import {
  DEFAULT_SOURCE_WEIGHTS,
  type LiveArm,
  type LiveQuery,
  type LiveTelemetryPort,
  type LiveTelemetryResult,
} from '../../telemetry/live-source';
import type { EvidencePort } from '../../contracts/ports';
import { attemptField, heartbeating, liveInterval, windowName } from './windows';
import { monitoringCohortArms, validatedCohorts, type ReferenceLoader } from './monitoring-cohorts';
import { windowCompleteness } from '../../telemetry/watermarks';

export const TELEMETRY_SOURCE = 'gateway-telemetry' as const;

/**
 * The window's arms from the gateway's routes; during the canary also per guarded cohort (each route's join split by
 * the request's recorded attribute, src/telemetry/live-source.ts), so the same per-cohort judge runs as on simulated
 * traffic.
 */
export async function telemetryWindow(
  live: LiveTelemetryPort,
  evidence: EvidencePort,
  input: ObserveLiveInput,
  /** Monitoring per cohort: the validated figures per cohort come from the scored evaluation reference. */
  validated?: ReferenceLoader,
): Promise<StageOutput<LiveMeasurement>> {
  const { request } = input;
  const { from, to } = liveInterval(input);
  const threshold = request.policy.operatingThreshold;
  const weights = request.policy.outcomes?.weights ?? DEFAULT_SOURCE_WEIGHTS;
  // The candidate serves the canary route during the canary and the production route once promoted.
  const modelVersions: LiveQuery['modelVersions'] =
    input.mode === 'canary'
      ? { canary: request.candidate.version, production: request.incumbent.version }
      : { production: request.candidate.version };
  const guarded = guardedCohortAttributes(request.policy);
  const attributes = input.mode === 'canary' || validated ? guarded : [];
  const result = await heartbeating(
    live.measure({
      model: request.modelName,
      from,
      to,
      threshold,
      weights,
      modelVersions,
      ...(attributes.length > 0 ? { cohortAttributes: attributes } : {}),
    }),
    'reading gateway telemetry',
  );
  const treatmentArm = input.mode === 'canary' ? result.arms.canary : result.arms.production;
  const controlArm = input.mode === 'canary' ? result.arms.production : null;
  // Monitoring without a baseline: an empty comparator, as the simulated path gives (no control arm).
  const comparator = input.baseline ?? controlArm?.stats ?? result.arms.canary.stats;
  const unlabelled = {
    treatment: treatmentArm.unlabelled,
    comparator: input.baseline ? 0 : (controlArm?.unlabelled ?? 0),
  };
  // MONITORING per cohort: the released model's live counts per cohort against its validated counts there.
  const monitored =
    result.cohorts && input.mode === 'monitoring' && validated
      ? monitoringCohortArms(
          Object.fromEntries(Object.entries(result.cohorts).map(([key, r]) => [key, r.production])),
          validatedCohorts(await validated(request), attributes, threshold),
        )
      : undefined;
  const measurement: LiveMeasurement = {
    source: TELEMETRY_SOURCE,
    ...attemptField(),
    completeness: windowCompleteness(result.completeness, to),
    window: windowName(input),
    treatment: treatmentArm.stats,
    comparator,
    ...(unlabelled.treatment + unlabelled.comparator > 0 ? { unlabelled } : {}),
    overrides: { overridden: treatmentArm.overrides, alerts: treatmentArm.stats.alerts },
    latencyP99Ms: treatmentArm.p99LatencyMs,
    errors: { failed: treatmentArm.failures, requests: treatmentArm.predictions + treatmentArm.failures },
    ...(result.cohorts && input.mode === 'canary' ? { cohorts: canaryCohorts(result.cohorts) } : {}),
    ...(monitored ? { cohorts: monitored } : {}),
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
    ...(result.cohortsNotRecorded ? { cohortsNotRecorded: result.cohortsNotRecorded } : {}),
  });
  return { measurement, artifacts: [ref] };
}

/** Each cohort's canary route against its production route (the concurrent control), as the judge reads them. */
function canaryCohorts(cohorts: NonNullable<LiveTelemetryResult['cohorts']>): Record<string, CohortArms> {
  return Object.fromEntries(
    Object.entries(cohorts).map(([key, r]) => [key, { treatment: r.canary, comparator: r.production }]),
  );
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
