/**
 * `vigil simulate`: what a canary would see in a simulated world. Cases are drawn per interval, the scenario's
 * fault and outcome delays applied, both models scored on their own pipelines' inputs, the arms split by the
 * same stable hash the gateway and the workflow use, and the policy's sequential guardrails applied look by look
 * exactly as the workflow does (extensions included). Optional telemetry-shaped events (predictions, delayed
 * outcomes) for feeding a gateway or inspecting by hand.
 */
import { casesAsInput } from '../activities/artifacts';
import { inCanaryArm } from './canary-arm';
import {
  DEFAULT_COHORT_GUARDRAILS,
  type ArmStats,
  type LiveMeasurement,
  type ReleasePolicy,
  type SequentialGuardrails,
  type TrafficScenario,
} from '../domain';
import { judgeGuardrailsSequential, type CohortVerdict } from '../judging';
import { cohortArms } from './cohort-arms';
import type { Scorer } from '../models';
import { armStats } from '../stats';
import { FEATURES, generateCohort, SITES } from './cohort';
import type { SimCase } from '../contracts/traffic';
import { prng } from './prng';
import { applyScenario, observedLabels } from './scenario';

export interface SimulatedLook {
  look: number;
  step: number;
  extension: number;
  percent: number;
  canary: ArmStats;
  control: ArmStats;
  /** Sensitivity per site and arm in this interval (where the fault shows first). */
  bySite: Record<string, { canary: number | null; control: number | null }>;
  /** The guardrails' verdict per cohort on the canary so far (absent when cohorts are not judged). */
  cohorts?: CohortVerdict[];
  verdict: 'pass' | 'fail' | 'inconclusive';
  reasons: string[];
  drop: number | null;
  lower: number | null;
  upper: number | null;
}

export interface CanarySimulation {
  scenario: TrafficScenario;
  looks: SimulatedLook[];
  outcome: 'promoted' | 'rolled-back' | 'rolled-back-inconclusive';
  summary: string;
}

export interface SimulatedEvent {
  kind: 'prediction' | 'outcome';
  at: string;
  caseId: string;
  site: string;
  route?: 'canary' | 'production';
  modelVersion?: string;
  score?: number;
  decision?: boolean;
  label?: 0 | 1;
  source?: 'clinician_review' | 'downstream_outcome';
  observedAt?: string;
}

export interface SimulateOptions {
  policy: ReleasePolicy;
  guardrails: SequentialGuardrails;
  scenario: TrafficScenario;
  candidate: { scorer: Scorer; version: string };
  incumbent: { scorer: Scorer; version: string };
  seed?: string;
  /** The model name the canary's assignment is salted with, as the gateway salts it (the URL's model name). */
  model: string;
  /**
   * The release the assignment is salted with besides the model, as the gateway does when the policy asks
   * (`canary.saltPerRelease`); ignored otherwise.
   */
  release?: string;
  /** Simulated clock start for events (ISO); intervals advance it by each step's bake time. */
  start?: string;
  /** Judge the guardrails per cohort too, as workflows with `cohort-guardrails` do (default true). */
  cohorts?: boolean;
  onLook?: (look: SimulatedLook) => void;
  onEvents?: (events: SimulatedEvent[]) => void;
}

export async function simulateCanary(o: SimulateOptions): Promise<CanarySimulation> {
  const { policy, guardrails: g, scenario } = o;
  const t = policy.operatingThreshold;
  const steps = policy.canary.steps;
  const history: LiveMeasurement[] = [];
  const looks: SimulatedLook[] = [];
  let clock = Date.parse(o.start ?? '2026-01-01T00:00:00Z');
  const release = policy.canary.saltPerRelease ? (o.release ?? null) : null;
  for (const [i, step] of steps.entries()) {
    for (let extension = 0; ; extension++) {
      const interval = history.length;
      const drawn = generateCohort(`simulate:${o.seed ?? 'vigil'}:${interval}`, step.cases);
      const cases = applyScenario(drawn, FEATURES, scenario, interval);
      const [sc, si] = await Promise.all([
        o.candidate.scorer.score(casesAsInput(FEATURES, cases, 'candidate')),
        o.incumbent.scorer.score(casesAsInput(FEATURES, cases, 'production')),
      ]);
      const labels = observedLabels(cases);
      const canaryIdx: number[] = [];
      const controlIdx: number[] = [];
      cases.forEach((c, k) => (inCanaryArm(c.caseId, step.percent, o.model, release) ? canaryIdx : controlIdx).push(k));
      const stats = (idx: number[], scores: Float64Array) =>
        armStats(
          idx.map((k) => scores[k]!),
          idx.map((k) => labels[k]!),
          t,
        );
      const canary = stats(canaryIdx, sc);
      const control = stats(controlIdx, si);
      const byCohort = o.cohorts === false ? undefined : (g.cohorts ?? DEFAULT_COHORT_GUARDRAILS);
      history.push({
        window: `step ${i + 1}${extension ? ` +${extension}` : ''}`,
        treatment: canary,
        comparator: control,
        ...(byCohort
          ? {
              cohorts: cohortArms(
                cases,
                byCohort.attributes,
                { treated: canaryIdx, control: controlIdx },
                { treated: sc, control: si },
                labels,
                t,
              ),
            }
          : {}),
      });
      const judged = judgeGuardrailsSequential(history, g, {
        final: i === steps.length - 1,
        ...(byCohort ? { cohorts: byCohort } : {}),
        mixture: 'planned', // as a new canary is judged (patched('planned-mixture'))
      });
      const seq = judged.evidence.sequential?.looks.at(-1);
      const bySite: SimulatedLook['bySite'] = {};
      for (const site of SITES) {
        const pick = (idx: number[]) => idx.filter((k) => cases[k]!.site === site);
        bySite[site] = {
          canary: stats(pick(canaryIdx), sc).sensitivity,
          control: stats(pick(controlIdx), si).sensitivity,
        };
      }
      const look: SimulatedLook = {
        look: history.length,
        step: i,
        extension,
        percent: step.percent,
        canary,
        control,
        bySite,
        ...(judged.evidence.cohorts ? { cohorts: judged.evidence.cohorts.cohorts } : {}),
        verdict: judged.verdict,
        reasons: judged.reasons,
        drop: seq?.drop ?? null,
        lower: seq?.lower ?? null,
        upper: seq?.upper ?? null,
      };
      looks.push(look);
      o.onLook?.(look);
      if (o.onEvents) o.onEvents(events(cases, canaryIdx, sc, si, t, clock, step.bakeSeconds, o));
      clock += step.bakeSeconds * 1000;
      if (judged.verdict === 'pass') break;
      if (judged.verdict === 'inconclusive' && extension < g.maxExtensions) continue;
      const outcome = judged.verdict === 'fail' ? 'rolled-back' : 'rolled-back-inconclusive';
      return {
        scenario,
        looks,
        outcome,
        summary: `${outcome === 'rolled-back' ? 'rolled back' : 'rolled back (still inconclusive)'} at look ${look.look} (step ${i + 1}): ${judged.reasons[0]}`,
      };
    }
  }
  return {
    scenario,
    looks,
    outcome: 'promoted',
    summary: `promoted after ${looks.length} looks: ${looks.at(-1)!.reasons[0]}`,
  };
}

/** Predictions spread over the interval; outcomes arrive later (review within hours, downstream within days). */
function events(
  cases: readonly SimCase[],
  canaryIdx: number[],
  sc: Float64Array,
  si: Float64Array,
  t: number,
  start: number,
  bakeSeconds: number,
  o: SimulateOptions,
): SimulatedEvent[] {
  const inCanary = new Set(canaryIdx);
  const out: SimulatedEvent[] = [];
  cases.forEach((c, k) => {
    const rand = prng(`events:${c.caseId}`);
    const at = start + rand() * bakeSeconds * 1000;
    const canary = inCanary.has(k);
    const score = canary ? sc[k]! : si[k]!;
    out.push({
      kind: 'prediction',
      at: new Date(at).toISOString(),
      caseId: c.caseId,
      site: c.site,
      route: canary ? 'canary' : 'production',
      modelVersion: canary ? o.candidate.version : o.incumbent.version,
      score,
      decision: score >= t,
    });
    const review = rand() < 0.6;
    const lagHours = review ? 1 + rand() * 11 : 24 + rand() * 96;
    const observedAt = new Date(at + lagHours * 3600_000).toISOString();
    out.push({
      kind: 'outcome',
      at: observedAt,
      caseId: c.caseId,
      site: c.site,
      label: c.label,
      source: review ? 'clinician_review' : 'downstream_outcome',
      observedAt,
    });
  });
  return out;
}
