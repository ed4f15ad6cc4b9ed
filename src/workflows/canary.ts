/**
 * The canary under anytime-valid guardrails, shared by the release lifecycle and the rollback drill: every
 * interval is judged on the whole history so far (the sequential test's false-rollback rate stays at α however
 * often it looks). Inconclusive → the step bakes again, up to `maxExtensions` times; still inconclusive → fail,
 * never pass. Routes, stage bookkeeping and the chain belong to the caller (hooks).
 */
import { isCancellation, log, sleep } from '@temporalio/workflow';
import type { Decision, EvidenceRef, LiveMeasurement, ReleaseRequest, SequentialGuardrails, TrafficScenario } from '../domain';
import type { RollbackInput } from '../activities';
import { judgeGuardrailsSequential, type SequentialGuardrailsDecision } from '../judging';
import { acts, notifyActs, nowIso } from './activities-proxy';

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

export interface CanaryHooks {
  route(table: { production: string; canary: { model: string; percent: number } }, reason: string): Promise<EvidenceRef>;
  /** Before each interval's bake (the lifecycle enters the CANARY stage record here). */
  beforeLook(step: number, extension: number): void;
  /** After each judged interval (the lifecycle appends the chain entry here). */
  afterLook(look: CanaryLook): Promise<void>;
}

export async function runSequentialCanary(
  releaseId: string,
  request: ReleaseRequest,
  g: SequentialGuardrails,
  hooks: CanaryHooks,
  scenario?: TrafficScenario,
): Promise<CanaryFailure | null> {
  const steps = request.policy.canary.steps;
  const history: LiveMeasurement[] = [];
  for (const [i, step] of steps.entries()) {
    const routeRef = await hooks.route({ production: request.incumbent.version, canary: { model: request.candidate.version, percent: step.percent } }, `canary step ${i + 1}: ${step.percent}%`);
    for (let extension = 0; ; extension++) {
      hooks.beforeLook(i, extension);
      await sleep(step.bakeSeconds * 1000);
      const out = await acts.observeLive({
        releaseId,
        request,
        mode: 'canary',
        step: i,
        percent: step.percent,
        cases: step.cases,
        baseline: null,
        at: nowIso(),
        extension,
        interval: history.length,
        ...(scenario ? { scenario } : {}),
      });
      history.push(out.measurement);
      const judged = judgeGuardrailsSequential(history, g, { final: i === steps.length - 1 });
      const decision: Decision = { verdict: judged.verdict, reasons: judged.reasons };
      const verdictRef = await acts.recordVerdict({ releaseId, stage: 'CANARY', step: i, look: history.length, verdict: judged, at: nowIso() });
      const where = `CANARY step ${i + 1} (${step.percent}%)${extension > 0 ? `, extension ${extension}` : ''}`;
      const artifacts = [...(extension === 0 ? [routeRef] : []), ...out.artifacts, verdictRef];
      await hooks.afterLook({ step: i, extension, look: history.length, where, decision, judged, artifacts });
      if (decision.verdict === 'pass') break;
      if (decision.verdict === 'inconclusive' && extension < g.maxExtensions) continue;
      const final: Decision =
        decision.verdict === 'inconclusive'
          ? { verdict: 'fail', reasons: [`still inconclusive after ${g.maxExtensions} extensions; an unproven canary is never promoted`, ...decision.reasons] }
          : decision;
      return { where, decision: final, statistics: judged.evidence, measurements: [...out.artifacts, verdictRef], exhausted: decision.verdict === 'inconclusive' };
    }
  }
  return null;
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
