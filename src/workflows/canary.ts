/**
 * The canary under anytime-valid guardrails, shared by the release lifecycle and the rollback drill: every
 * interval is judged on the whole history so far (the sequential test's false-rollback rate stays at α however
 * often it looks). Inconclusive → the step bakes again, up to `maxExtensions` times; still inconclusive → fail,
 * never pass. Routes, stage bookkeeping and the chain belong to the caller (hooks).
 */
import { isCancellation, log, patched, sleep } from '@temporalio/workflow';
import {
  DEFAULT_COHORT_GUARDRAILS,
  LEGACY_COHORT_GUARDRAILS,
  type CanaryHold,
  type Decision,
  type EvidenceRef,
  type LiveMeasurement,
  type ReleaseRequest,
  type SequentialGuardrails,
  type TrafficScenario,
} from '../domain';
import type { RollbackInput } from '../activities';
import { judgeGuardrailsSequential, type SequentialGuardrailsDecision } from '../judging';
import { acts, notifyActs, nowIso } from './activities-proxy';
import { honestWindow } from './honest-windows';

export interface CanaryLook {
  step: number;
  extension: number;
  /** 1-based look of the sequential test. */
  look: number;
  where: string;
  decision: Decision;
  judged: SequentialGuardrailsDecision;
  /** The step's route change (first look of a step only), the interval's measurement and the verdict record. */
  artifacts: EvidenceRef[];
  /** The interval's measurement (its provenance goes on the stage record). */
  measurement: LiveMeasurement;
}

export interface CanaryFailure {
  where: string;
  /** The decision that ends the canary (an exhausted inconclusive becomes a fail naming why). */
  decision: Decision;
  statistics: SequentialGuardrailsDecision['evidence'];
  measurements: EvidenceRef[];
  /** Ended because it stayed inconclusive, not because a guardrail showed harm. */
  exhausted: boolean;
}

/** What a person (or a timeout) decided about a held canary. */
export interface HoldOutcome {
  decision: 'resume' | 'rollback';
  /** "<printed name> (<role>): <reason>", or why the hold ended by itself. */
  account: string;
  /** The decision's evidence record; null when the hold timed out. */
  evidence: EvidenceRef | null;
}

export interface CanaryHooks {
  route(
    table: { production: string; canary: { model: string; percent: number; salt?: string } },
    reason: string,
  ): Promise<EvidenceRef>;
  /** Take the canary off patients (every route on the incumbent) while a person decides on an escalation. */
  suspend(reason: string): Promise<EvidenceRef>;
  /** Wait for a person's decision on a held canary; a timeout is a rollback. */
  hold(hold: Pick<CanaryHold, 'kind' | 'step' | 'failure'> & { timeoutSeconds: number | null }): Promise<HoldOutcome>;
  /** Before each interval's bake (the lifecycle enters the CANARY stage record here). */
  beforeLook(step: number, extension: number): void;
  /** After each judged interval (the lifecycle appends the chain entry here). */
  afterLook(look: CanaryLook): Promise<void>;
}

/** The canary's outcome, plus evidence of decisions taken after its last look (for the caller's next entry). */
export interface CanaryRun {
  failure: CanaryFailure | null;
  carry: EvidenceRef[];
}

const DEFAULT_ESCALATION_SECONDS = 24 * 3600;

export async function runSequentialCanary(
  releaseId: string,
  request: ReleaseRequest,
  g: SequentialGuardrails,
  hooks: CanaryHooks,
  scenario?: TrafficScenario,
): Promise<CanaryRun> {
  const { steps, onFailure, escalationTimeoutSeconds } = request.policy.canary;
  const history: LiveMeasurement[] = [];
  // Evidence of people's decisions, linked from the next chain entry (a look, the rollback or the promotion).
  const carry: EvidenceRef[] = [];
  const take = (): EvidenceRef[] => carry.splice(0);
  let look = 0;
  // Guardrails per clinical cohort (site by default); canaries recorded before judged the whole canary only.
  // A policy without `cohorts` gets the default split; canaries before `cohort-alpha-split` had the 88/10/2 one.
  const cohorts = patched('cohort-guardrails')
    ? (g.cohorts ?? (patched('cohort-alpha-split') ? DEFAULT_COHORT_GUARDRAILS : LEGACY_COHORT_GUARDRAILS))
    : undefined;
  // The whole-canary comparison's mixture over the size of the harm: before `planned-mixture`, the half-normal.
  const mixture = patched('planned-mixture') ? ('planned' as const) : ('half-normal' as const);
  // Per-release salt (issue #22): the release id goes into the route table, so the gateway (and the simulated
  // source) draw this release's patients independently of earlier releases of the model; retries write the same id.
  const salt = request.policy.canary.saltPerRelease && patched('release-salt') ? { salt: releaseId } : {};
  for (const [i, step] of steps.entries()) {
    const canaryTable = {
      production: request.incumbent.version,
      canary: { model: request.candidate.version, percent: step.percent, ...salt },
    };
    let routeRef: EvidenceRef | null = await hooks.route(canaryTable, `canary step ${i + 1}: ${step.percent}%`);
    let inconclusiveRun = 0;
    for (let extension = 0; ; extension++) {
      hooks.beforeLook(i, extension);
      await sleep(step.bakeSeconds * 1000);
      const out = await observeCanary(releaseId, request, { step: i, extension, interval: look }, scenario);
      look++;
      const { measurement } = out;
      history.push(measurement);
      // An incomplete telemetry window is never a pass: the step bakes again within maxExtensions.
      const judged = honestWindow(
        judgeGuardrailsSequential(history, g, {
          final: i === steps.length - 1,
          ...(cohorts ? { cohorts } : {}),
          mixture,
        }),
        out.measurement,
        request.policy,
      );
      const decision: Decision = { verdict: judged.verdict, reasons: judged.reasons };
      const verdictRef = await acts.recordVerdict({
        releaseId,
        stage: 'CANARY',
        step: i,
        look,
        verdict: judged,
        at: nowIso(),
      });
      const where = `CANARY step ${i + 1} (${step.percent}%)${extension > 0 ? `, extension ${extension}` : ''}`;
      const artifacts = [...(routeRef ? [routeRef] : []), ...take(), ...out.artifacts, verdictRef];
      routeRef = null;
      await hooks.afterLook({ step: i, extension, look, where, decision, judged, artifacts, measurement });
      const failed = (final: Decision, exhausted: boolean): CanaryFailure => ({
        where,
        decision: final,
        statistics: judged.evidence,
        measurements: [...out.artifacts, verdictRef, ...take()],
        exhausted,
      });

      if (decision.verdict === 'pass') {
        if (step.pause) {
          const held = await hooks.hold({
            kind: 'pause',
            step: i,
            failure: null,
            timeoutSeconds: step.pause.timeoutSeconds ?? null,
          });
          if (held.evidence) carry.push(held.evidence);
          if (held.decision === 'rollback') {
            return {
              failure: failed(
                { verdict: 'fail', reasons: [`held after step ${i + 1}: rolled back by ${held.account}`] },
                false,
              ),
              carry: [],
            };
          }
        }
        break;
      }
      if (decision.verdict === 'inconclusive' && inconclusiveRun < g.maxExtensions) {
        inconclusiveRun++;
        continue;
      }
      const exhausted = decision.verdict === 'inconclusive';
      const final: Decision = exhausted
        ? {
            verdict: 'fail',
            reasons: [
              `still inconclusive after ${g.maxExtensions} extensions; an unproven canary is never promoted`,
              ...decision.reasons,
            ],
          }
        : decision;
      if (onFailure !== 'escalate') return { failure: failed(final, exhausted), carry: [] };

      // Escalation: patients go back to the validated model first, then a person decides.
      carry.push(await hooks.suspend(`escalated to a person: ${where}: ${final.reasons[0]}`));
      const held = await hooks.hold({
        kind: 'escalation',
        step: i,
        failure: final.reasons,
        timeoutSeconds: escalationTimeoutSeconds ?? DEFAULT_ESCALATION_SECONDS,
      });
      if (held.evidence) carry.push(held.evidence);
      if (held.decision === 'rollback') {
        return {
          failure: failed(
            { verdict: 'fail', reasons: [`escalated, then rolled back by ${held.account}`, ...final.reasons] },
            exhausted,
          ),
          carry: [],
        };
      }
      // Resumed by a person: a new sequential test starts from here (its α is spent afresh; the override is on record).
      history.length = 0;
      inconclusiveRun = 0;
      routeRef = await hooks.route(canaryTable, `canary step ${i + 1}: ${step.percent}% resumed by ${held.account}`);
    }
  }
  return { failure: null, carry: take() };
}

/** One canary interval's live measurement (the step's percentage and case count, from the policy). */
function observeCanary(
  releaseId: string,
  request: ReleaseRequest,
  at: { step: number; extension: number; interval: number },
  scenario: TrafficScenario | undefined,
) {
  const step = request.policy.canary.steps[at.step]!;
  return acts.observeLive({
    releaseId,
    request,
    mode: 'canary',
    step: at.step,
    percent: step.percent,
    cases: step.cases,
    baseline: null,
    at: nowIso(),
    extension: at.extension,
    interval: at.interval,
    ...(scenario ? { scenario } : {}),
  });
}

/**
 * After routes are back on the validated model: the rollback record (cause, trigger statistics, routes before
 * and after) and a signed notification. A dead webhook is logged, never allowed to undo or fail the rollback.
 */
export async function recordRollback(summary: RollbackInput): Promise<EvidenceRef[]> {
  const record = await acts.recordRollback(summary);
  const refs = [record];
  try {
    refs.push(await notifyActs.notifyRollback({ rollback: record, summary }));
  } catch (err) {
    if (isCancellation(err)) throw err;
    log.warn('rollback notification failed', { releaseId: summary.releaseId, error: String(err) });
  }
  return refs;
}
