/**
 * Post-release surveillance as a child workflow. Each interval measures live traffic against the
 * validated baseline and appends its verdict to the parent's evidence chain; the run continues-as-new
 * every `intervalsPerRun` intervals so its history stays bounded however long surveillance lasts.
 */
import { allHandlersFinished, condition, continueAsNew, defineQuery, setHandler, sleep, workflowInfo } from '@temporalio/workflow';
import type { ArmStats, ChainHead, Decision, EvidenceRef, ReleaseRequest, StageRecord } from '../domain';
import { judgeGuardrails } from '../judging';
import { acts, appendChain, nowIso } from './activities-proxy';

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
}

export interface MonitoringResult {
  decision: Decision;
  lastInterval: number;
  chainHead: ChainHead | null;
  /** This (last) run's archived history; the parent links it from its MONITORING entry. */
  archived: EvidenceRef[];
}

export const monitoringStatusQuery = defineQuery<{ interval: number; intervals: number; last: Decision | null }>(
  'monitoringStatus',
);

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
  setHandler(monitoringStatusQuery, () => ({ interval, intervals: policy.intervals, last }));

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
    const decision = judgeGuardrails(out.measurement, policy.guardrails);
    const record: StageRecord = {
      stage: 'MONITORING',
      step: interval,
      startedAt,
      endedAt: null,
      decision: null,
      artifacts: [],
      chainEntry: null,
    };
    await appendChain(holder, record, decision, [...out.artifacts, ...carried]);
    carried = [];
    last = decision;
    if (decision.verdict === 'pass') passed++;
    // Inconclusive windows (labels not in yet) are recorded and surveillance goes on; failures stop it.
    if (decision.verdict === 'fail') return { decision, lastInterval: interval, chainHead: holder.chainHead, archived: await archive('completion') };
  }

  if (interval < policy.intervals) {
    await condition(allHandlersFinished);
    const archived = await archive('continue-as-new');
    return continueAsNew<typeof releaseMonitoring>({ ...input, chainHead: holder.chainHead, nextInterval: interval, archived, passedIntervals: passed });
  }
  // Surveillance that never had enough labelled outcomes to judge has shown nothing: never a pass.
  const inconclusive = policy.intervals - passed;
  const judged = `${passed} of ${policy.intervals} windows judged${inconclusive > 0 ? `, ${inconclusive} inconclusive` : ''}`;
  return {
    decision:
      passed > 0
        ? { verdict: 'pass', reasons: [`${policy.intervals} monitoring intervals completed without a guardrail failure (${judged})`] }
        : { verdict: 'inconclusive', reasons: [`no monitoring window had enough labelled outcomes to judge (${judged})`] },
    lastInterval: interval - 1,
    chainHead: holder.chainHead,
    archived: await archive('completion'),
  };
}
