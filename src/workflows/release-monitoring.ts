/**
 * Post-release surveillance as a child workflow. Each interval measures live traffic against the
 * validated baseline and appends its verdict to the parent's evidence chain; the run continues-as-new
 * every `intervalsPerRun` intervals so its history stays bounded however long surveillance lasts.
 *
 * With `monitoring.drift` in the policy (behind `patched('monitoring-drift')`), each window whose guardrails did
 * not fail is also measured for drift against the locked evaluation split and judged by `judgeDrift`; the verdict
 * is a second chain entry for the same window. Drift detected → per `onDrift`: a "revalidation required" notice
 * once per drift episode and surveillance goes on ('notify'); the notice, a new release of the same candidate
 * (attempt + 1) queued behind this one, and surveillance ends with the release kept in service ('revalidate');
 * or the window fails like a guardrail and the parent rolls back ('rollback').
 */
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  isCancellation,
  log,
  patched,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type {
  ArmStats,
  ChainHead,
  Decision,
  DriftCarry,
  DriftPolicy,
  EvidenceRef,
  MonitoringDriftStatus,
  ReleaseRequest,
  RevalidationOutcome,
  StageRecord,
} from '../domain';
import { judgeDrift, judgeGuardrails, withMonitoringCohorts } from '../judging';
import { acts, appendChain, driftActionActs, driftActs, nowIso } from './activities-proxy';
import { honestWindow, recordMeasuredBy } from './honest-windows';

export interface MonitoringInput {
  releaseId: string;
  request: ReleaseRequest;
  /** The candidate's validated operating point from OFFLINE_EVAL. */
  baseline: ArmStats;
  chainHead: ChainHead | null;
  nextInterval: number;
  /** The previous run's archived history, linked from this run's first chain entry. */
  archived?: EvidenceRef[];
  /** Windows judged 'pass' so far, across continue-as-new runs. */
  passedIntervals?: number;
  /** Drift surveillance state across continue-as-new runs (policies with `monitoring.drift` only). */
  drift?: DriftCarry;
}

export interface MonitoringResult {
  decision: Decision;
  lastInterval: number;
  chainHead: ChainHead | null;
  /** This (last) run's archived history; the parent links it from its MONITORING entry. */
  archived: EvidenceRef[];
  /** Drift ended surveillance with "revalidation required" (onDrift: revalidate); absent otherwise. */
  revalidation?: RevalidationOutcome;
}

export interface MonitoringStatus {
  interval: number;
  intervals: number;
  last: Decision | null;
  /** Present when the policy has `monitoring.drift`. */
  drift?: MonitoringDriftStatus;
}

export const monitoringStatusQuery = defineQuery<MonitoringStatus>('monitoringStatus');

export async function releaseMonitoring(input: MonitoringInput): Promise<MonitoringResult> {
  const { request, baseline } = input;
  const policy = request.policy.monitoring;
  const holder = { releaseId: input.releaseId, chainHead: input.chainHead };
  let interval = input.nextInterval;
  let last: Decision | null = null;
  let passed = input.passedIntervals ?? 0;
  let carried = input.archived ?? [];
  const archive = (reason: 'completion' | 'continue-as-new') => {
    const { workflowId, runId } = workflowInfo();
    return acts.archiveHistory({ releaseId: input.releaseId, workflowId, runId, reason, at: nowIso() });
  };
  // Policies pinned before drift surveillance existed never carry `monitoring.drift`: without it, the commands are
  // exactly those of earlier versions and no marker is recorded.
  const driftPolicy = policy.drift;
  const driftOn = driftPolicy !== undefined && patched('monitoring-drift');
  const drift: DriftCarry = input.drift ?? {
    recent: [],
    episodeSince: null,
    detectedWindows: 0,
    notices: 0,
    last: null,
  };
  let revalidation: RevalidationOutcome | null = null;
  setHandler(monitoringStatusQuery, () => ({
    interval,
    intervals: policy.intervals,
    last,
    ...(driftOn
      ? {
          drift: {
            onDrift: driftPolicy!.onDrift,
            last: drift.last,
            detectedWindows: drift.detectedWindows,
            episodeSince: drift.episodeSince,
            notices: drift.notices,
            revalidation,
          },
        }
      : {}),
  }));

  const watch: DriftWatch = {
    input,
    holder,
    drift,
    passed: () => passed,
    archive,
    revalidated: (r) => (revalidation = r),
  };

  const runEnd = Math.min(policy.intervals, input.nextInterval + policy.intervalsPerRun);
  for (; interval < runEnd; interval++) {
    const startedAt = nowIso();
    await sleep(policy.intervalSeconds * 1000);
    const out = await acts.observeLive({
      releaseId: input.releaseId,
      request,
      mode: 'monitoring',
      step: interval,
      percent: 100,
      cases: policy.cases,
      baseline,
      at: nowIso(),
    });
    const whole = judgeGuardrails(out.measurement, policy.guardrails);
    // Per cohort against its validated figures, when the window measured cohorts (windows recorded before the
    // measurement had them never reach patched(), so their histories record no marker and replay as before).
    const judged: Decision =
      out.measurement.cohorts !== undefined && patched('monitoring-cohorts')
        ? pick(withMonitoringCohorts(whole, out.measurement, request.policy))
        : whole;
    // An incomplete telemetry window is not judged: recorded inconclusive, and surveillance goes on.
    const decision = honestWindow(judged, out.measurement, request.policy);
    const record: StageRecord = {
      stage: 'MONITORING',
      step: interval,
      startedAt,
      endedAt: null,
      decision: null,
      artifacts: [],
      chainEntry: null,
    };
    recordMeasuredBy(record, out.measurement);
    await appendChain(holder, record, decision, [...out.artifacts, ...carried]);
    carried = [];
    last = decision;
    if (decision.verdict === 'pass') passed++;
    // Inconclusive windows (labels not in yet) are recorded and surveillance goes on; failures stop it.
    if (decision.verdict === 'fail')
      return { decision, lastInterval: interval, chainHead: holder.chainHead, archived: await archive('completion') };
    if (driftOn) {
      const ended = await watchDrift(watch, driftPolicy!, interval);
      if (ended) return ended;
    }
  }

  if (interval < policy.intervals) {
    await condition(allHandlersFinished);
    const archived = await archive('continue-as-new');
    return continueAsNew<typeof releaseMonitoring>({
      ...input,
      chainHead: holder.chainHead,
      nextInterval: interval,
      archived,
      passedIntervals: passed,
      ...(driftOn ? { drift } : {}),
    });
  }
  return {
    decision: surveillanceDecision(policy.intervals, passed, driftOn ? drift : null),
    lastInterval: interval - 1,
    chainHead: holder.chainHead,
    archived: await archive('completion'),
  };
}

/** The decision the chain records (verdict and reasons; the per-cohort statistics stay in the measurement). */
function pick(d: Decision): Decision {
  return { verdict: d.verdict, reasons: d.reasons };
}

/** Surveillance that never had enough labelled outcomes to judge has shown nothing: never a pass. */
function surveillanceDecision(intervals: number, passed: number, drift: DriftCarry | null): Decision {
  const inconclusive = intervals - passed;
  const driftNote = drift
    ? `; drift detected in ${drift.detectedWindows} windows, ${drift.notices} revalidation notices`
    : '';
  const judged = `${passed} of ${intervals} windows judged${inconclusive > 0 ? `, ${inconclusive} inconclusive` : ''}${driftNote}`;
  return passed > 0
    ? {
        verdict: 'pass',
        reasons: [`${intervals} monitoring intervals completed without a guardrail failure (${judged})`],
      }
    : {
        verdict: 'inconclusive',
        reasons: [`no monitoring window had enough labelled outcomes to judge (${judged})`],
      };
}

/** What one window's drift check reads and updates of the monitoring run. */
interface DriftWatch {
  input: MonitoringInput;
  holder: { releaseId: string; chainHead: ChainHead | null };
  /** Carried across continue-as-new; updated in place. */
  drift: DriftCarry;
  passed(): number;
  archive(reason: 'completion'): Promise<EvidenceRef[]>;
  revalidated(outcome: RevalidationOutcome): void;
}

/** One window's drift: measure, act per policy, record; a result ends surveillance. */
async function watchDrift(w: DriftWatch, g: DriftPolicy, step: number): Promise<MonitoringResult | null> {
  const { input, holder, drift } = w;
  const { request } = input;
  const policy = request.policy.monitoring;
  const startedAt = nowIso();
  const out = await driftActs.observeDrift({
    releaseId: input.releaseId,
    request,
    step,
    cases: policy.cases,
    baseline: input.baseline,
    recent: drift.recent,
    at: nowIso(),
  });
  const judged = judgeDrift(out.measurement, g);
  // The chain records exactly the judge's verdict, so the audit recomputes it; what was done is in the artifacts.
  const decision: Decision = { verdict: judged.verdict, reasons: judged.reasons };
  const refs = [...out.artifacts];
  const detected = judged.verdict === 'fail';
  const action = { input, step, reasons: judged.reasons, drift: out.artifacts[0]! };
  if (detected && g.onDrift !== 'rollback' && drift.episodeSince === null) {
    const notice = await notifyDrift(action, g.onDrift);
    if (notice) {
      refs.push(notice);
      drift.notices++;
    }
  }
  const queue = detected && g.onDrift === 'revalidate' ? await queueRevalidation(action) : null;
  if (queue?.record) refs.push(queue.record);
  const record: StageRecord = {
    stage: 'MONITORING',
    step,
    startedAt,
    endedAt: null,
    decision: null,
    artifacts: [],
    chainEntry: null,
  };
  await appendChain(holder, record, decision, refs);
  drift.recent =
    g.windowsForPerformance > 1
      ? [...drift.recent, out.measurement.performance.current].slice(-(g.windowsForPerformance - 1))
      : [];
  drift.last = decision;
  if (detected) {
    drift.detectedWindows++;
    drift.episodeSince ??= step;
  } else if (judged.verdict === 'pass') {
    drift.episodeSince = null;
  }
  if (!detected || g.onDrift === 'notify') return null;
  if (g.onDrift === 'rollback')
    return { decision, lastInterval: step, chainHead: holder.chainHead, archived: await w.archive('completion') };
  const next = request.attempt + 1;
  const reason = `revalidation required: drift detected in monitoring interval ${step + 1}; ${
    queue?.queued
      ? `new release ${queue.queued} (attempt ${next}) queued`
      : `the new release (attempt ${next}) could not be queued: ${queue?.error ?? null}`
  }`;
  const revalidation: RevalidationOutcome = {
    interval: step,
    reason,
    queuedReleaseId: queue?.queued ?? null,
    evidence: refs,
  };
  w.revalidated(revalidation);
  // Surveillance that never judged a window has shown nothing: never a pass, even when it ends for revalidation.
  const passed = w.passed();
  const windows = `surveillance ended after ${step + 1} of ${policy.intervals} windows, ${passed} judged by the guardrails`;
  return {
    decision:
      passed > 0
        ? { verdict: 'pass', reasons: [`${reason}; the release stays in service`, windows, ...judged.reasons.slice(1)] }
        : {
            verdict: 'inconclusive',
            reasons: [
              `${reason}; no monitoring window had enough labelled outcomes to judge`,
              windows,
              ...judged.reasons.slice(1),
            ],
          },
    lastInterval: step,
    chainHead: holder.chainHead,
    archived: await w.archive('completion'),
    revalidation,
  };
}

/** A drift action's subject: the window, the judge's reasons and the drift record. */
interface DriftAction {
  input: MonitoringInput;
  step: number;
  reasons: string[];
  drift: EvidenceRef;
}

/** The "revalidation required" notice, best effort: a dead webhook is logged and surveillance goes on. */
async function notifyDrift(a: DriftAction, onDrift: DriftPolicy['onDrift']): Promise<EvidenceRef | null> {
  const { input, step } = a;
  try {
    return await driftActionActs.notifyRevalidation({
      releaseId: input.releaseId,
      modelName: input.request.modelName,
      candidateVersion: input.request.candidate.version,
      interval: step,
      onDrift,
      reasons: a.reasons,
      drift: a.drift,
      at: nowIso(),
    });
  } catch (err) {
    if (isCancellation(err)) throw err;
    log.warn('revalidation notice failed', { releaseId: input.releaseId, interval: step, error: String(err) });
    return null;
  }
}

/** Queue a new release of the same candidate (attempt + 1); a refusal is kept as the reason, never thrown. */
async function queueRevalidation(
  a: DriftAction,
): Promise<{ record: EvidenceRef | null; queued: string | null; error: string | null }> {
  const { input, step } = a;
  try {
    const q = await driftActionActs.requestRevalidation({
      releaseId: input.releaseId,
      request: input.request,
      attempt: input.request.attempt + 1,
      interval: step,
      reasons: a.reasons,
      drift: a.drift,
      at: nowIso(),
    });
    return { record: q.record, queued: q.releaseId, error: null };
  } catch (err) {
    if (isCancellation(err)) throw err;
    const error = err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
    log.warn('revalidation release could not be queued', {
      releaseId: input.releaseId,
      interval: step,
      error: String(err),
    });
    return { record: null, queued: null, error };
  }
}
