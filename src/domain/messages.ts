import { defineQuery, defineUpdate } from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { ApprovalInput, ApprovalResult, SupersedeInput, SupersedeResult, WithdrawalInput, WithdrawalResult } from './approval';
import type { ReleaseStatus } from './release';

/** Shared by worker, API, CLI and tests without pulling in workflow code. */
export const ORCHESTRATION_TASK_QUEUE = 'vigil-orchestration';

export const releaseStatusQuery = defineQuery<ReleaseStatus>('releaseStatus');
export const approveReleaseUpdate = defineUpdate<ApprovalResult, [ApprovalInput]>('approveRelease');
export const withdrawSignatureUpdate = defineUpdate<WithdrawalResult, [WithdrawalInput]>('withdrawSignature');
export const supersedeReleaseUpdate = defineUpdate<SupersedeResult, [SupersedeInput]>('supersedeRelease');

export const SearchAttr = {
  stage: defineSearchAttributeKey('VigilStage', SearchAttributeType.KEYWORD),
  model: defineSearchAttributeKey('VigilModel', SearchAttributeType.KEYWORD),
  outcome: defineSearchAttributeKey('VigilOutcome', SearchAttributeType.KEYWORD),
} as const;
export const SEARCH_ATTRIBUTE_NAMES = [SearchAttr.stage.name, SearchAttr.model.name, SearchAttr.outcome.name];
