import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { ApprovalInput, ApprovalResult, SupersedeInput, SupersedeResult, WithdrawalInput, WithdrawalResult } from './approval';
import type { DrillStatus } from './drill';
import type { ReleaseStatus } from './release';
import type { QueuedRelease, ReleaseQueueStatus } from './release-queue';

/** Shared by worker, API, CLI and tests without pulling in workflow code. */
export const ORCHESTRATION_TASK_QUEUE = 'vigil-orchestration';

export const releaseStatusQuery = defineQuery<ReleaseStatus>('releaseStatus');
export const approveReleaseUpdate = defineUpdate<ApprovalResult, [ApprovalInput]>('approveRelease');
export const withdrawSignatureUpdate = defineUpdate<WithdrawalResult, [WithdrawalInput]>('withdrawSignature');
export const supersedeReleaseUpdate = defineUpdate<SupersedeResult, [SupersedeInput]>('supersedeRelease');

/** The per-model queue workflow (`releaseQueue`, id from `releaseQueueWorkflowId`). */
export const enqueueReleaseSignal = defineSignal<[QueuedRelease]>('enqueueRelease');
export const releaseQueueStatusQuery = defineQuery<ReleaseQueueStatus>('releaseQueueStatus');

/** The rollback drill's progress (`vigil drill rollback` watches it). */
export const drillStatusQuery = defineQuery<DrillStatus>('drillStatus');

export const SearchAttr = {
  stage: defineSearchAttributeKey('VigilStage', SearchAttributeType.KEYWORD),
  model: defineSearchAttributeKey('VigilModel', SearchAttributeType.KEYWORD),
  outcome: defineSearchAttributeKey('VigilOutcome', SearchAttributeType.KEYWORD),
} as const;
export const SEARCH_ATTRIBUTE_NAMES = [SearchAttr.stage.name, SearchAttr.model.name, SearchAttr.outcome.name];
