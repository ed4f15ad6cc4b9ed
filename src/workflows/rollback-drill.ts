/**
 * rollbackDrill: rehearse the automatic rollback. The release's candidate and incumbent run the release's canary
 * steps and guardrails against a simulated regression (a TrafficScenario), on a drill route table no patient
 * traffic uses. The drill passes when the guardrails catch the regression, routes return to the incumbent, and
 * the rollback record and notification (marked DRILL) exist. Everything lands in a drill report.
 */
import { ApplicationFailure, setHandler, workflowInfo } from '@temporalio/workflow';
import {
  DrillInputSchema,
  drillRouteModel,
  ErrorType,
  type ChainHead,
  type DrillInput,
  type DrillLook,
  type DrillReport,
  type DrillResult,
  type DrillStatus,
  type EvidenceRef,
  type RouteState,
  type StageRecord,
} from '../domain';
import { drillStatusQuery } from '../domain/messages';
import { acts, appendChain, nowIso } from './activities-proxy';
import { recordRollback, runSequentialCanary, type CanaryFailure, type CanaryLook } from './canary';
import { parseInput } from './input';

export async function rollbackDrill(raw: DrillInput): Promise<DrillResult> {
  const input = parseInput(DrillInputSchema, raw, 'drill');
  const { request, scenario } = input;
  const guardrails = request.policy.canary.sequential ?? input.guardrails;
  if (!guardrails) {
    throw ApplicationFailure.nonRetryable(
      `policy ${request.policy.id}@${request.policy.version} has no sequential canary guardrails (canary.sequential); give the drill some`,
      ErrorType.InvalidRequest,
    );
  }
  const drillId = workflowInfo().workflowId;
  const routeTable = drillRouteModel(request.modelName);
  const startedAt = nowIso();
  const holder: { releaseId: string; chainHead: ChainHead | null } = { releaseId: drillId, chainHead: null };
  const status: DrillStatus = { drillId, modelName: request.modelName, phase: 'CANARY', looks: [], routes: null };
  setHandler(drillStatusQuery, () => status);

  const setRoutes = async (table: Omit<RouteState, 'version'>, reason: string): Promise<EvidenceRef> => {
    const routes = { version: (status.routes?.version ?? 0) + 1, ...table };
    const ref = await acts.setRoutes({
      releaseId: drillId,
      modelName: routeTable,
      routes,
      reason: `DRILL ${reason}`,
      at: nowIso(),
    });
    status.routes = routes;
    return ref;
  };

  let record: StageRecord | null = null;
  let firstCanaryAt: number | null = null;
  const { failure: failed } = await runSequentialCanary(
    drillId,
    request,
    guardrails,
    {
      route: async (table, reason) => {
        firstCanaryAt ??= Date.now();
        return setRoutes(table, reason);
      },
      suspend: (reason) => setRoutes({ production: request.incumbent.version, canary: null }, reason),
      // Nobody decides in a drill: pause steps go on, an escalation ends in the rollback being rehearsed.
      hold: async (h) =>
        h.kind === 'pause'
          ? { decision: 'resume', account: 'the drill (pause steps resume automatically)', evidence: null }
          : { decision: 'rollback', account: 'the drill (escalations end in rollback)', evidence: null },
      beforeLook: (step) => {
        record = {
          stage: 'CANARY',
          step,
          startedAt: nowIso(),
          endedAt: null,
          decision: null,
          artifacts: [],
          chainEntry: null,
        };
      },
      afterLook: async (look) => {
        const entry = drillLook(look, request.policy.canary.steps[look.step]!.percent);
        status.looks.push(entry);
        await appendChain(holder, record!, look.decision, look.artifacts);
      },
    },
    scenario,
  );

  const rollback = await rehearseRollback(failed, request, drillId, status, setRoutes);

  const routes = status.routes!;
  const routesRestored = routes.production === request.incumbent.version && routes.canary === null;
  const detected = failed !== null && !failed.exhausted;
  const detectedAtLook = detected ? status.looks.length : null;
  const passed = detected && routesRestored && rollback !== null && rollback.notification !== null;
  const summary = drillSummary(scenario.name, request.incumbent.version, {
    failed,
    detected,
    detectedAtLook,
    passed,
    rollback,
  });
  const report: DrillReport = {
    kind: 'vigil.drill-report/v1',
    drillId,
    fromRelease: input.fromRelease ?? null,
    requestedBy: input.requestedBy,
    modelName: request.modelName,
    routeTable,
    candidateVersion: request.candidate.version,
    incumbentVersion: request.incumbent.version,
    scenario,
    guardrails,
    startedAt,
    endedAt: nowIso(),
    looks: status.looks,
    detected,
    detectedAtLook,
    secondsToDetect: detected && firstCanaryAt !== null ? (Date.now() - firstCanaryAt) / 1000 : null,
    rollback,
    routesRestored,
    passed,
    summary,
  };
  const reportRef = await acts.recordDrillReport(report);
  await appendChain(
    holder,
    {
      stage: rollback ? 'ROLLED_BACK' : 'CANARY',
      step: null,
      startedAt: report.endedAt,
      endedAt: null,
      decision: null,
      artifacts: [],
      chainEntry: null,
    },
    { verdict: passed ? 'pass' : 'fail', reasons: [summary] },
    [reportRef, ...(rollback ? [rollback.record, ...(rollback.notification ? [rollback.notification] : [])] : [])],
  );
  status.phase = 'DONE';
  return { drillId, passed, summary, report: reportRef };
}

/** One look as the drill report shows it: both arms' cumulative counts and the sequential bounds. */
function drillLook(look: CanaryLook, percent: number): DrillLook {
  const seq = look.judged.evidence.sequential?.looks[look.look - 1];
  const arm = (a: { positives: number; truePositives: number; n: number; alerts: number }) => ({
    positives: a.positives,
    truePositives: a.truePositives,
    sensitivity: a.positives > 0 ? a.truePositives / a.positives : null,
    n: a.n,
    alerts: a.alerts,
  });
  const m = look.judged.evidence.cumulative;
  return {
    look: look.look,
    step: look.step,
    extension: look.extension,
    percent,
    verdict: look.decision.verdict,
    canary: arm(m.treatment),
    control: arm(m.comparator),
    drop: seq?.drop ?? null,
    lower: seq?.lower ?? null,
    upper: seq?.upper ?? null,
  };
}

/** The drill's one-line verdict: passed, or the first reason it failed. */
function drillSummary(
  scenario: string,
  incumbent: string,
  o: {
    failed: CanaryFailure | null;
    detected: boolean;
    detectedAtLook: number | null;
    passed: boolean;
    rollback: DrillReport['rollback'];
  },
): string {
  if (o.passed)
    return `drill passed: the regression (${scenario}) was caught at look ${o.detectedAtLook} and routes returned to ${incumbent}`;
  if (o.failed === null) return `drill FAILED: the regression (${scenario}) passed every canary step undetected`;
  if (!o.detected)
    return `drill FAILED: the canary rolled back, but only because it stayed inconclusive, not because harm was shown (${o.failed.decision.reasons[0]})`;
  return o.rollback?.notification === null
    ? 'drill FAILED: rolled back, but the rollback notification was not delivered'
    : 'drill FAILED: routes did not return to the incumbent';
}

/**
 * After the canary: when the guardrails failed it, roll back as a release would (routes to the incumbent, the
 * rollback record and notice, marked as a drill); when they did not, put the incumbent back anyway.
 */
async function rehearseRollback(
  failed: CanaryFailure | null,
  request: DrillInput['request'],
  drillId: string,
  status: DrillStatus,
  setRoutes: (table: Omit<RouteState, 'version'>, reason: string) => Promise<EvidenceRef>,
): Promise<DrillReport['rollback']> {
  if (!failed) {
    // The regression went unnoticed through every step: put the incumbent back anyway; the drill fails.
    await setRoutes({ production: request.incumbent.version, canary: null }, 'drill over: regression not detected');
    status.phase = 'NOT_DETECTED';
    return null;
  }
  const before = status.routes;
  const cause = `${failed.where}: ${failed.decision.reasons.join('; ')}`;
  const routeRef = await setRoutes({ production: request.incumbent.version, canary: null }, `rollback: ${cause}`);
  const [recordRef, notice] = await recordRollback({
    releaseId: drillId,
    modelName: request.modelName,
    candidateVersion: request.candidate.version,
    restoredVersion: request.incumbent.version,
    stage: 'CANARY',
    cause,
    trigger: { verdict: failed.decision.verdict, reasons: failed.decision.reasons, statistics: failed.statistics },
    measurements: failed.measurements,
    routes: { before, after: status.routes!, evidence: routeRef },
    drill: true,
    at: nowIso(),
  });
  status.phase = 'ROLLED_BACK';
  return { cause, record: recordRef!, notification: notice ?? null, routesBefore: before, routesAfter: status.routes! };
}
