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
import { recordRollback, runSequentialCanary } from './canary';
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
        const seq = look.judged.evidence.sequential?.looks[look.look - 1];
        const arm = (a: {
          positives: number;
          truePositives: number;
          n: number;
          alerts: number;
          sensitivity: number | null;
        }) => ({
          positives: a.positives,
          truePositives: a.truePositives,
          sensitivity: a.sensitivity,
          n: a.n,
          alerts: a.alerts,
        });
        const m = look.judged.evidence.cumulative;
        const entry: DrillLook = {
          look: look.look,
          step: look.step,
          extension: look.extension,
          percent: request.policy.canary.steps[look.step]!.percent,
          verdict: look.decision.verdict,
          canary: arm({
            ...m.treatment,
            sensitivity: m.treatment.positives > 0 ? m.treatment.truePositives / m.treatment.positives : null,
          }),
          control: arm({
            ...m.comparator,
            sensitivity: m.comparator.positives > 0 ? m.comparator.truePositives / m.comparator.positives : null,
          }),
          drop: seq?.drop ?? null,
          lower: seq?.lower ?? null,
          upper: seq?.upper ?? null,
        };
        status.looks.push(entry);
        await appendChain(holder, record!, look.decision, look.artifacts);
      },
    },
    scenario,
  );

  let rollback: DrillReport['rollback'] = null;
  if (failed) {
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
    rollback = {
      cause,
      record: recordRef!,
      notification: notice ?? null,
      routesBefore: before,
      routesAfter: status.routes!,
    };
    status.phase = 'ROLLED_BACK';
  } else {
    // The regression went unnoticed through every step: put the incumbent back anyway; the drill fails.
    await setRoutes({ production: request.incumbent.version, canary: null }, 'drill over: regression not detected');
    status.phase = 'NOT_DETECTED';
  }

  const routes = status.routes!;
  const routesRestored = routes.production === request.incumbent.version && routes.canary === null;
  const detected = failed !== null && !failed.exhausted;
  const detectedAtLook = detected ? status.looks.length : null;
  const passed = detected && routesRestored && rollback !== null && rollback.notification !== null;
  const summary = passed
    ? `drill passed: the regression (${scenario.name}) was caught at look ${detectedAtLook} and routes returned to ${request.incumbent.version}`
    : failed === null
      ? `drill FAILED: the regression (${scenario.name}) passed every canary step undetected`
      : !detected
        ? `drill FAILED: the canary rolled back, but only because it stayed inconclusive, not because harm was shown (${failed.decision.reasons[0]})`
        : rollback?.notification === null
          ? 'drill FAILED: rolled back, but the rollback notification was not delivered'
          : 'drill FAILED: routes did not return to the incumbent';
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
