/** Activity stubs and the chain-append step shared by the lifecycle and monitoring workflows. */
import { proxyActivities, type RetryPolicy } from '@temporalio/workflow';
import type { ChainHead, Decision, EvidenceRef, StageRecord } from '../domain';
import { NON_RETRYABLE_ERROR_TYPES } from '../domain/errors';
import type { MonitoringActivities, QueueActivities, VigilActivities } from '../activities';

const retry: RetryPolicy = {
  initialInterval: '1 second',
  maximumInterval: '30 seconds',
  nonRetryableErrorTypes: NON_RETRYABLE_ERROR_TYPES,
};

/**
 * Measuring activities heartbeat, so a killed worker's attempt is retried within seconds
 * instead of waiting out the whole start-to-close timeout.
 */
export const acts = proxyActivities<VigilActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '15 seconds',
  retry,
});

/**
 * Notifications are best effort: a few attempts, then the workflow logs the failure and carries on (a dead
 * webhook must neither delay the approval deadline nor fail the release).
 */
export const notifyActs = proxyActivities<Pick<VigilActivities, 'notify' | 'notifyRollback'>>({
  startToCloseTimeout: '1 minute',
  retry: { ...retry, maximumAttempts: 5 },
});

/**
 * The release queue's activities: one wait lasts up to its slice (RELEASE_QUEUE_DEFAULTS.waitSliceSeconds,
 * 6 h) and heartbeats every poll, so a lost worker is noticed within a minute, not hours.
 */
export const queueActs = proxyActivities<QueueActivities>({
  startToCloseTimeout: '7 hours',
  heartbeatTimeout: '1 minute',
  retry,
});

/** Drift measurement per monitoring window (reads the reference, scores the window; heartbeats). */
export const driftActs = proxyActivities<Pick<MonitoringActivities, 'observeDrift'>>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '15 seconds',
  retry,
});

/** Drift's actions are best effort like notifications: a dead webhook or queue never undoes the release. */
export const driftActionActs = proxyActivities<
  Pick<MonitoringActivities, 'notifyRevalidation' | 'requestRevalidation'>
>({
  startToCloseTimeout: '1 minute',
  retry: { ...retry, maximumAttempts: 5 },
});

/** Workflow time is deterministic: replay sees the same timestamps. */
export function nowIso(): string {
  return new Date(Date.now()).toISOString();
}

/** Append one decision to the evidence chain and advance the head kept in workflow state. */
export async function appendChain(
  holder: { releaseId: string; chainHead: ChainHead | null },
  record: StageRecord,
  decision: Decision,
  artifacts: EvidenceRef[],
): Promise<ChainHead> {
  const at = nowIso();
  const head = await acts.appendChainEntry({
    releaseId: holder.releaseId,
    seq: holder.chainHead === null ? 0 : holder.chainHead.seq + 1,
    stage: record.stage,
    step: record.step,
    prevEntryDigest: holder.chainHead?.digest ?? null,
    artifacts,
    decision,
    at,
  });
  record.decision = decision;
  record.artifacts = artifacts;
  record.chainEntry = head.digest;
  record.endedAt = at;
  holder.chainHead = head;
  return head;
}
