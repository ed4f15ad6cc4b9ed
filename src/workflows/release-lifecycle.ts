/**
 * releaseLifecycle: one durable workflow per model update.
 * SNAPSHOT → OFFLINE_EVAL → SHADOW → AWAITING_APPROVAL → CANARY[i] → MONITORING → RELEASED,
 * with REJECTED / EXPIRED / ROLLED_BACK as explicit ends. Activities measure; the pure
 * functions in ../judging decide; every decision is appended to the evidence chain.
 */
import {
  allHandlersFinished,
  CancellationScope,
  condition,
  isCancellation,
  executeChild,
  log,
  patched,
  setHandler,
  sleep,
  setCurrentDetails,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import {
  ReleaseRequestSchema,
  type ArmStats,
  type CanaryHold,
  type Decision,
  type EvidenceRef,
  type Outcome,
  type ReleaseRequest,
  type ReleaseResult,
  type RouteState,
  type SequentialGuardrails,
  type Stage,
  type StageRecord,
} from '../domain';
import {
  adjudicateCaseUpdate,
  approveReleaseUpdate,
  decideCanaryUpdate,
  releaseStatusQuery,
  SearchAttr,
  supersedeReleaseUpdate,
  withdrawSignatureUpdate,
} from '../domain/messages';
import { judgeGuardrails, judgeOffline, judgeSnapshot } from '../judging';
import { appendChain, acts, nowIso } from './activities-proxy';
import { recordRollback, runSequentialCanary, type HoldOutcome } from './canary';
import { parseInput } from './input';
import { withPolicyAsWritten } from './policy-as-written';
import { releaseMonitoring } from './release-monitoring';
import { ReleaseState } from './release-state';
import { operatorDetails } from './operator-details';
import { remind } from './approval-reminders';
import { decideCanary, sign, withdraw } from './release-updates';
import { ShadowReview } from './shadow';
import { honestWindow, recordMeasuredBy } from './honest-windows';
import { cannotProceed, STAGE_FAILURE_PATCH } from './stage-failure';

export async function releaseLifecycle(rawRequest: ReleaseRequest): Promise<ReleaseResult> {
  const request = withPolicyAsWritten(rawRequest, parseInput(ReleaseRequestSchema, rawRequest, 'release request'));
  const state = new ReleaseState(workflowInfo().workflowId, request);

  // Shadow adjudication (./shadow.ts): its progress joins the status; the Update is refused outside SHADOW.
  const review = new ShadowReview(state);
  setHandler(releaseStatusQuery, () => review.status(state.status()));
  setHandler(adjudicateCaseUpdate, (input) => review.adjudicate(input), {
    validator: (input) => {
      review.check(input);
    },
  });
  setHandler(approveReleaseUpdate, (input) => sign(state, input), {
    validator: (input) => {
      state.checkApproval(input);
    },
  });
  setHandler(decideCanaryUpdate, (input) => decideCanary(state, input), {
    validator: (input) => {
      state.checkCanaryDecision(input);
    },
  });
  setHandler(withdrawSignatureUpdate, (input) => withdraw(state, input), {
    validator: (input) => {
      state.checkWithdrawal(input);
    },
  });
  // The pre-approval stages run in their own scope so that superseding can stop them mid-timer or mid-activity.
  const lifecycle = new CancellationScope();
  setHandler(
    supersedeReleaseUpdate,
    async (input) => {
      state.superseded = state.checkSupersede(input);
      lifecycle.cancel();
      await condition(() => state.outcome !== null);
      return {
        releaseId: state.releaseId,
        outcome: 'SUPERSEDED' as const,
        chainEntry: state.chainHead?.digest ?? null,
      };
    },
    {
      validator: (input) => {
        state.checkSupersede(input);
      },
    },
  );
  upsertSearchAttributes([
    { key: SearchAttr.model, value: request.modelName },
    { key: SearchAttr.stage, value: state.stage },
  ]);

  let ending: Ending;
  try {
    ending = await lifecycle.run(() => runLifecycle(state, review));
  } catch (err) {
    if (!(state.superseded && isCancellation(err))) throw err;
    const { supersededBy, reason } = state.superseded;
    // A supersede during SHADOW leaves the shadow route's records (set and removed) for this entry to list.
    ending = [
      'SUPERSEDED',
      `superseded by ${supersededBy} during ${state.stage}: ${reason}`,
      review.unchainedRouteRecords(),
    ];
  }
  const [outcome, reason, artifacts = []] = ending;
  await finish(state, outcome, reason, artifacts);
  await condition(allHandlersFinished);
  return { releaseId: state.releaseId, outcome, reason, chainHead: state.chainHead };
}

/** How a release ends: outcome, a reason a person can read, and the evidence of the last act. */
type Ending = [Outcome, string, EvidenceRef[]?];

async function runLifecycle(state: ReleaseState, review: ShadowReview): Promise<Ending> {
  const { request } = state;
  const { policy } = request;
  const releaseId = state.releaseId;

  // SNAPSHOT: pin and verify everything that is being released.
  const snap = await measureStage(state, 'SNAPSHOT', null, async () => {
    const out = await acts.snapshotRelease({ releaseId, request, at: nowIso() });
    state.policySha256 = out.measurement.policySha256;
    state.changeClass = out.measurement.changeClass ?? null;
    return { artifacts: out.artifacts, decision: judgeSnapshot(out.measurement) };
  });
  if (snap.verdict !== 'pass') return ['REJECTED', `SNAPSHOT: ${snap.reasons.join('; ')}`];

  // OFFLINE_EVAL: candidate and incumbent on the same locked rows, judged against the pinned policy.
  let baseline: ArmStats | null = null;
  const offline = await measureStage(state, 'OFFLINE_EVAL', null, async () => {
    const out = await acts.evaluateOffline({
      releaseId,
      request,
      policySha256: state.policySha256 ?? '',
      at: nowIso(),
    });
    baseline = out.measurement.candidate.atThreshold;
    return { artifacts: out.artifacts, decision: judgeOffline(out.measurement) };
  });
  if (offline.verdict !== 'pass' || baseline === null)
    return ['REJECTED', `OFFLINE_EVAL: ${offline.reasons.join('; ')}`];

  // SHADOW: the candidate sees mirrored traffic for the policy's duration, with no effect on care (the gateway's
  // shadow route is set for the window and removed after it); with `shadow.adjudication`, reviewers judge sampled
  // disagreements before the gate decides (./shadow.ts).
  const shadow = await measureStage(
    state,
    'SHADOW',
    null,
    () => review.stage((table, reason) => route(state, table, reason)),
    () => review.unchainedRouteRecords(),
  );
  if (shadow.verdict !== 'pass') return ['REJECTED', `SHADOW: ${shadow.reasons.join('; ')}`];

  // AWAITING_APPROVAL: signatures arrive through the approveRelease Update, bound to the dossier digest.
  const approvalRecord = enter(state, 'AWAITING_APPROVAL', null);
  const dossierInput = () => ({
    releaseId,
    request,
    policySha256: state.policySha256 ?? '',
    history: state.history,
    chainHead: state.chainHead,
    signatures: state.signatures,
    at: nowIso(),
  });
  state.dossier = await acts.buildDossier(dossierInput());
  const expiryMs = policy.approval.expirySeconds * 1000;
  state.approvalDeadline = new Date(Date.now() + expiryMs).toISOString();
  const reminders = policy.approval.reminders;
  let settled: boolean;
  const notices: EvidenceRef[] = [];
  // Without reminders the command sequence is exactly that of earlier versions (golden histories replay); the
  // patch marker guards runs whose pinned policy already carried `reminders` before this code knew them.
  if (
    reminders &&
    (reminders.afterSeconds.length > 0 || reminders.escalateAfterSeconds !== undefined) &&
    patched('approval-reminders')
  ) {
    const stop = { done: false };
    const reminding = remind(state, reminders, expiryMs, stop, notices);
    try {
      settled = await condition(() => state.approvalSettled(), expiryMs);
    } finally {
      stop.done = true;
    }
    await reminding;
  } else {
    settled = await condition(() => state.approvalSettled(), expiryMs);
  }
  // The final dossier carries the sign-offs; it is recorded beside the dossier that was signed.
  // Withdrawn approvals stay listed, each with its withdrawal record, so the entry shows the whole sign-off.
  const approvalRefs = [
    await acts.buildDossier(dossierInput()),
    ...state.signatures.flatMap((s) => (s.withdrawal ? [s.evidence, s.withdrawal.evidence] : [s.evidence])),
    ...notices,
  ];
  if (!settled) {
    const reasons = [
      `no complete sign-off before ${state.approvalDeadline}; pending: ${state.pendingRoles().join(', ')}`,
    ];
    await appendChain(state, approvalRecord, { verdict: 'fail', reasons }, [state.dossier, ...approvalRefs]);
    return ['EXPIRED', `AWAITING_APPROVAL: ${reasons[0]}`];
  }
  const rejection = state.rejection();
  if (rejection) {
    const reasons = [`rejected by ${rejection.printedName} (${rejection.role}): ${rejection.reason}`];
    await appendChain(state, approvalRecord, { verdict: 'fail', reasons }, [state.dossier, ...approvalRefs]);
    return ['REJECTED', `AWAITING_APPROVAL: ${reasons[0]}`];
  }
  const signedBy = state
    .standing()
    .map((s) => `${s.printedName} (${s.role})`)
    .join(', ');
  const withdrawn = state.signatures.filter((s) => s.withdrawal).map((s) => `${s.printedName} (${s.role})`);
  const reasons = [`signed by ${signedBy}`, ...(withdrawn.length ? [`withdrawn: ${withdrawn.join(', ')}`] : [])];
  await appendChain(state, approvalRecord, { verdict: 'pass', reasons }, [state.dossier, ...approvalRefs]);

  try {
    return await exposeAndWatch(state, baseline);
  } catch (err) {
    // Whatever went wrong after traffic moved, patients go back to the validated model first.
    const exposed =
      state.routes !== null && (state.routes.canary !== null || state.routes.production !== request.incumbent.version);
    if (exposed) {
      await CancellationScope.nonCancellable(() => rollback(state, `unexpected failure: ${String(err)}`, null));
    }
    throw err;
  }
}

async function exposeAndWatch(state: ReleaseState, baseline: ArmStats): Promise<Ending> {
  const { request } = state;
  const { policy } = request;
  const releaseId = state.releaseId;

  // Anytime-valid guardrails replace the per-interval judge when the policy asks for them; policies pinned
  // before this code existed never carry `sequential`, and the marker keeps their histories replaying.
  const sequential = policy.canary.sequential;
  const carried: EvidenceRef[] = [];
  if (sequential && patched('sequential-canary')) {
    const ended = await sequentialCanary(state, sequential, carried);
    if (ended) return ended;
  } else {
    // Per-release salt, as the sequential canary writes it (src/workflows/canary.ts).
    const salt = policy.canary.saltPerRelease && patched('release-salt') ? { salt: releaseId } : {};
    for (const [i, step] of policy.canary.steps.entries()) {
      const record = enter(state, 'CANARY', i);
      const routeRef = await route(
        state,
        {
          production: request.incumbent.version,
          canary: { model: request.candidate.version, percent: step.percent, ...salt },
        },
        `canary step ${i + 1}: ${step.percent}%`,
      );
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
      });
      const decision = honestWindow(
        judgeGuardrails(out.measurement, policy.canary.guardrails),
        out.measurement,
        policy,
      );
      recordMeasuredBy(record, out.measurement);
      await appendChain(state, record, decision, [routeRef, ...out.artifacts]);
      if (decision.verdict !== 'pass') {
        return rollback(state, `CANARY step ${i + 1} (${step.percent}%): ${decision.reasons.join('; ')}`, {
          stage: 'CANARY',
          decision,
          measurements: out.artifacts,
        });
      }
    }
  }

  const record = enter(state, 'MONITORING', null);
  const promoteRef = await route(
    state,
    { production: request.candidate.version, canary: null },
    'full release after canary',
  );
  const monitored = await executeChild(releaseMonitoring, {
    workflowId: `${releaseId}-monitoring`,
    args: [{ releaseId, request, baseline, chainHead: state.chainHead, nextInterval: 0 }],
  });
  state.chainHead = monitored.chainHead;
  if (monitored.decision.verdict !== 'pass') {
    const [outcome, cause, refs = []] = await rollback(
      state,
      `MONITORING interval ${monitored.lastInterval + 1}: ${monitored.decision.reasons.join('; ')}`,
      {
        stage: 'MONITORING',
        decision: monitored.decision,
        measurements: [],
      },
    );
    return [outcome, cause, [...refs, ...monitored.archived]];
  }
  await appendChain(state, record, monitored.decision, [promoteRef, ...carried, ...monitored.archived]);
  if (monitored.revalidation)
    return ['RELEASED', `released after ${policy.canary.steps.length} canary steps; ${monitored.revalidation.reason}`];
  return [
    'RELEASED',
    `released after ${policy.canary.steps.length} canary steps and ${policy.monitoring.intervals} monitoring intervals`,
  ];
}

/** The canary under the sequential guardrails; `carried` receives decision records for the promotion entry. */
async function sequentialCanary(
  state: ReleaseState,
  g: SequentialGuardrails,
  carried: EvidenceRef[],
): Promise<Ending | null> {
  let record: StageRecord | null = null;
  const { failure, carry } = await runSequentialCanary(state.releaseId, state.request, g, {
    route: (table, reason) => route(state, table, reason),
    suspend: (reason) => route(state, { production: state.request.incumbent.version, canary: null }, reason),
    hold: (h) => holdForPerson(state, h),
    beforeLook: (step) => {
      record = enter(state, 'CANARY', step);
    },
    afterLook: async (look) => {
      recordMeasuredBy(record!, look.measurement);
      await appendChain(state, record!, look.decision, look.artifacts);
    },
  });
  carried.push(...carry);
  if (!failure) return null;
  return rollback(state, `${failure.where}: ${failure.decision.reasons.join('; ')}`, {
    stage: 'CANARY',
    decision: failure.decision,
    statistics: failure.statistics,
    measurements: failure.measurements,
  });
}

/** Wait for `decideCanary` (or the deadline, which is a rollback); the status shows the hold meanwhile. */
async function holdForPerson(
  state: ReleaseState,
  h: Pick<CanaryHold, 'kind' | 'step' | 'failure'> & { timeoutSeconds: number | null },
): Promise<HoldOutcome> {
  const deadline = h.timeoutSeconds === null ? null : new Date(Date.now() + h.timeoutSeconds * 1000).toISOString();
  state.canaryHold = { kind: h.kind, step: h.step, failure: h.failure, since: nowIso(), deadline };
  const before = state.canaryDecisions.length;
  const decided = () => state.canaryDecisions.length > before;
  if (h.timeoutSeconds === null) await condition(decided);
  else if (!(await condition(decided, h.timeoutSeconds * 1000))) await condition(() => !state.deciding); // a decision being recorded still counts
  state.canaryHold = null;
  if (!decided()) {
    log.warn('canary hold timed out', { releaseId: state.releaseId, kind: h.kind, step: h.step });
    return { decision: 'rollback', account: `nobody: no decision before ${deadline}`, evidence: null };
  }
  const d = state.canaryDecisions[state.canaryDecisions.length - 1]!;
  return { decision: d.decision, account: `${d.printedName} (${d.role}): ${d.reason}`, evidence: d.evidence };
}

/** What made the workflow roll back, for the rollback record. */
interface RollbackTrigger {
  stage: Stage;
  decision: Decision;
  statistics?: unknown;
  measurements: EvidenceRef[];
}

/**
 * Put the last validated model back on every route, then record why (cause, the statistics that triggered it,
 * routes before and after) and tell clinicians and support with a signed notification.
 */
async function rollback(state: ReleaseState, cause: string, trigger: RollbackTrigger | null): Promise<Ending> {
  log.warn('rolling back', { releaseId: state.releaseId, cause });
  const before: RouteState | null = state.routes;
  const ref = await route(state, { production: state.request.incumbent.version, canary: null }, `rollback: ${cause}`);
  // Histories recorded before rollback records existed end here (they replay without the marker).
  if (!patched('rollback-record')) return ['ROLLED_BACK', cause, [ref]];
  const { request } = state;
  const summary = {
    releaseId: state.releaseId,
    modelName: request.modelName,
    candidateVersion: request.candidate.version,
    restoredVersion: request.incumbent.version,
    stage: trigger?.stage ?? state.stage,
    cause,
    trigger: trigger
      ? {
          verdict: trigger.decision.verdict,
          reasons: trigger.decision.reasons,
          ...(trigger.statistics !== undefined ? { statistics: trigger.statistics } : {}),
        }
      : null,
    measurements: trigger?.measurements ?? [],
    routes: { before, after: state.routes!, evidence: ref },
    drill: false,
    at: nowIso(),
  };
  const refs = [ref, ...(await recordRollback(summary))];
  return ['ROLLED_BACK', cause, refs];
}

async function route(state: ReleaseState, table: Omit<RouteState, 'version'>, reason: string): Promise<EvidenceRef> {
  const routes = { version: (state.routes?.version ?? 0) + 1, ...table };
  const ref = await acts.setRoutes({
    releaseId: state.releaseId,
    modelName: state.request.modelName,
    routes,
    reason,
    at: nowIso(),
  });
  state.routes = routes;
  return ref;
}

function enter(state: ReleaseState, stage: Stage, step: number | null): StageRecord {
  const record = state.enter(stage, step, nowIso());
  upsertSearchAttributes([{ key: SearchAttr.stage, value: stage }]);
  setCurrentDetails(operatorDetails(state));
  return record;
}

/**
 * Enter the stage, measure and judge, and chain the decision. A typed, non-retryable activity failure (the stage
 * cannot proceed: a model that cannot score, a missing feature, an artifact gone) becomes a failing decision
 * naming the cause, chained with `failedArtifacts` (evidence already written, e.g. the shadow route records);
 * runs started before `patched('stage-failure-outcome')` failed the workflow instead.
 */
async function measureStage(
  state: ReleaseState,
  stage: Stage,
  step: number | null,
  measure: () => Promise<{ artifacts: EvidenceRef[]; decision: Decision }>,
  failedArtifacts: () => EvidenceRef[] = () => [],
): Promise<Decision> {
  const record = enter(state, stage, step);
  let measured: { artifacts: EvidenceRef[]; decision: Decision };
  try {
    measured = await measure();
  } catch (err) {
    const cause = cannotProceed(err);
    // patched() only on this path: histories that never failed here replay without the marker.
    if (cause === null || !patched(STAGE_FAILURE_PATCH)) throw err;
    log.warn('stage cannot proceed', { releaseId: state.releaseId, stage, cause });
    const decision: Decision = { verdict: 'fail', reasons: [`cannot proceed: ${cause}`] };
    await appendChain(state, record, decision, failedArtifacts());
    return decision;
  }
  await appendChain(state, record, measured.decision, measured.artifacts);
  return measured.decision;
}

async function finish(state: ReleaseState, outcome: Outcome, reason: string, artifacts: EvidenceRef[]): Promise<void> {
  const at = nowIso();
  state.finish(outcome, reason, at);
  const record = state.history[state.history.length - 1]!;
  const verdict = outcome === 'RELEASED' ? 'pass' : 'fail';
  // The history so far (everything but this entry and the completion) goes into the evidence the entry links.
  const { workflowId, runId } = workflowInfo();
  const archived = await acts.archiveHistory({
    releaseId: state.releaseId,
    workflowId,
    runId,
    reason: 'completion',
    at,
  });
  await appendChain(state, record, { verdict, reasons: [reason] }, [...artifacts, ...archived]);
  upsertSearchAttributes([
    { key: SearchAttr.stage, value: outcome },
    { key: SearchAttr.outcome, value: outcome },
  ]);
  setCurrentDetails(operatorDetails(state, { outcome, reason }));
}
