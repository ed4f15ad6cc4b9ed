/**
 * A canary look or monitoring window measured on the worker's simulated traffic: both models score the window's
 * cases; each arm's cases count with the model serving that arm (canary: a stable share of cases, `inCanaryArm`).
 */
import { heartbeat } from '@temporalio/activity';
import type { ObserveLiveInput, StageOutput } from '../../contracts/live-source';
import type { LiveMeasurement, ReleaseRequest } from '../../domain';
import { inCanaryArm } from '../../sim/canary-arm';
import type { SimCase } from '../../contracts/traffic';
import { applyScenario, observedLabels } from '../../sim/scenario';
import { cohortArms } from '../../sim/cohort-arms';
import { guardedCohortAttributes } from '../../judging';
import { armStats } from '../../stats';
import { closeAll, openScorers, scoreCases } from '../artifacts';
import type { EvidencePort } from '../../contracts/ports';
import type { TrafficSource } from '../../contracts/traffic';
import { attemptField, windowName } from './windows';
import { monitoringCohortArms, validatedCohorts, type ReferenceLoader } from './monitoring-cohorts';

const SOURCE = 'simulated' as const;

/** Candidate and incumbent scored on the same cases (same float32 input); scorers are always closed. */
async function scoreBoth(
  evidence: EvidencePort,
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

/**
 * The window's arms from scored cases. Per-cohort measurement extends this function: `cases[k].site` names each
 * case's site, so a cohort is another filter of `treated` / `control`.
 */
function measureArms(
  input: ObserveLiveInput,
  cases: readonly SimCase[],
  scores: { candidate: Float64Array; incumbent: Float64Array },
): LiveMeasurement {
  const t = input.request.policy.operatingThreshold;
  const all = cases.map((_, k) => k);
  // Salted as the route table the workflow wrote: with the release id too when the policy salts per release.
  const salt = input.request.policy.canary.saltPerRelease ? input.releaseId : null;
  const inCanary = (k: number) => inCanaryArm(cases[k]!.caseId, input.percent, input.request.modelName, salt);
  const treated = all.filter((k) => input.mode === 'monitoring' || inCanary(k));
  const control = input.mode === 'monitoring' ? [] : all.filter((k) => !inCanary(k));
  const labels = observedLabels(cases);
  const stats = (ks: number[], s: Float64Array) =>
    armStats(
      ks.map((k) => s[k]!),
      ks.map((k) => labels[k]!),
      t,
    );
  const unlabelledIn = (ks: number[]) => ks.reduce((u, k) => u + (labels[k] === -1 ? 1 : 0), 0);
  return {
    source: SOURCE,
    window: windowName(input),
    treatment: stats(treated, scores.candidate),
    comparator: input.baseline ?? stats(control, scores.incumbent),
    // Only when outcomes are outstanding.
    ...(labels.includes(-1)
      ? { unlabelled: { treatment: unlabelledIn(treated), comparator: unlabelledIn(control) } }
      : {}),
    // The canary's arms per guarded cohort (src/judging/cohort-guardrails.ts).
    ...(input.mode === 'canary' && guardedCohortAttributes(input.request.policy).length > 0
      ? {
          cohorts: cohortArms(
            cases,
            guardedCohortAttributes(input.request.policy),
            { treated, control },
            { treated: scores.candidate, control: scores.incumbent },
            labels,
            t,
          ),
        }
      : {}),
  };
}

/** One canary interval or monitoring window on simulated traffic (a drill's scenario applied on top). */
export async function simulatedWindow(
  evidence: EvidencePort,
  traffic: TrafficSource,
  input: ObserveLiveInput,
  /** Monitoring per cohort: the validated figures per cohort come from the scored evaluation reference. */
  validated?: ReferenceLoader,
): Promise<StageOutput<LiveMeasurement>> {
  const { request } = input;
  const ext = input.extension ?? 0;
  const trafficWindow = `${input.mode}:${request.candidate.artifact.sha256}:${input.step}${ext > 0 ? `:extension-${ext}` : ''}`;
  const interval = input.interval ?? input.step;
  const drawn = await traffic.cases(trafficWindow, input.cases, interval);
  const { columns } = drawn;
  const cases = input.scenario ? applyScenario(drawn.cases, columns, input.scenario, interval) : drawn.cases;
  heartbeat();
  const [candidate, incumbent] = await scoreBoth(evidence, request, columns, cases);
  const measured = measureArms(input, cases, { candidate, incumbent });
  const attributes = guardedCohortAttributes(request.policy);
  // MONITORING per cohort: the released model's live counts per cohort against its validated counts there.
  const cohorts =
    input.mode === 'monitoring' && validated && attributes.length > 0
      ? monitoringCohortArms(
          Object.fromEntries(
            Object.entries(
              cohortArms(
                cases,
                attributes,
                { treated: cases.map((_, k) => k), control: [] },
                { treated: candidate, control: incumbent },
                observedLabels(cases),
                request.policy.operatingThreshold,
              ),
            ).map(([key, arms]) => [key, arms.treatment]),
          ),
          validatedCohorts(await validated(request), attributes, request.policy.operatingThreshold),
        )
      : undefined;
  const measurement: LiveMeasurement = { ...measured, ...attemptField(), ...(cohorts ? { cohorts } : {}) };
  const ref = await evidence.putJson({
    kind: `vigil.${input.mode}-interval/v1`,
    releaseId: input.releaseId,
    at: input.at,
    source: SOURCE,
    trafficWindow,
    ...(input.scenario ? { scenario: input.scenario } : {}),
    step: input.step,
    percent: input.percent,
    comparator: input.baseline ? 'validated baseline (OFFLINE_EVAL)' : 'concurrent control arm (incumbent)',
    threshold: request.policy.operatingThreshold,
    measurement,
  });
  return { measurement, artifacts: [ref] };
}
