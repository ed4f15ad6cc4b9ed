/**
 * Post-release surveillance as a child workflow. Each interval measures live traffic against the
 * validated baseline and appends its verdict to the parent's evidence chain; the run continues-as-new
 * every `intervalsPerRun` intervals so its history stays bounded however long surveillance lasts.
 */
import { allHandlersFinished, condition, continueAsNew, defineQuery, setHandler, sleep } from '@temporalio/workflow';
import type { ArmStats, ChainHead, Decision, ReleaseRequest, StageRecord } from '../domain';
import { judgeGuardrails } from '../judging';
import { acts, appendChain, nowIso } from './activities-proxy';

export interface MonitoringInput {
  releaseId: string;
  request: ReleaseRequest;
  /** The candidate's validated operating point from OFFLINE_EVAL. */
  baseline: ArmStats;
  chainHead: ChainHead | null;
  nextInterval: number;
}

export interface MonitoringResult {
  decision: Decision;
  lastInterval: number;
  chainHead: ChainHead | null;
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
  setHandler(monitoringStatusQuery, () => ({ interval, intervals: policy.intervals, last }));

  const runEnd = Math.min(policy.intervals, input.nextInterval + policy.intervalsPerRun);
  for (; interval < runEnd; interval++) {
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
      startedAt: nowIso(),
      endedAt: null,
      decision: null,
      artifacts: [],
      chainEntry: null,
    };
    await appendChain(holder, record, decision, out.artifacts);
    last = decision;
    // Inconclusive windows (labels not in yet) are recorded and surveillance goes on; failures stop it.
    if (decision.verdict === 'fail') return { decision, lastInterval: interval, chainHead: holder.chainHead };
  }

  if (interval < policy.intervals) {
    await condition(allHandlersFinished);
    return continueAsNew<typeof releaseMonitoring>({ ...input, chainHead: holder.chainHead, nextInterval: interval });
  }
  return {
    decision: { verdict: 'pass', reasons: [`${policy.intervals} monitoring intervals completed without a guardrail failure`] },
    lastInterval: interval - 1,
    chainHead: holder.chainHead,
  };
}
