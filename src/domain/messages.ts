import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { WorkflowStartOptions } from '@temporalio/client';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type {
  ApprovalInput,
  ApprovalResult,
  SupersedeInput,
  SupersedeResult,
  WithdrawalInput,
  WithdrawalResult,
} from './approval';
import type { CanaryDecisionInput, CanaryDecisionResult } from './canary-decision';
import type { DrillStatus } from './drill';
import type { AdjudicationInput, AdjudicationResult } from './shadow-adjudication';
import type { ReleaseRequest, ReleaseStatus } from './release';
import type { QueuedRelease, ReleaseQueueStatus } from './release-queue';

/** Shared by worker, API, CLI and tests without pulling in workflow code. */
export const ORCHESTRATION_TASK_QUEUE = 'vigil-orchestration';

export const releaseStatusQuery = defineQuery<ReleaseStatus>('releaseStatus');
export const approveReleaseUpdate = defineUpdate<ApprovalResult, [ApprovalInput]>('approveRelease');
export const withdrawSignatureUpdate = defineUpdate<WithdrawalResult, [WithdrawalInput]>('withdrawSignature');
export const supersedeReleaseUpdate = defineUpdate<SupersedeResult, [SupersedeInput]>('supersedeRelease');
/** A reviewer judges one sampled shadow disagreement (policy `shadow.adjudication`). */
export const adjudicateCaseUpdate = defineUpdate<AdjudicationResult, [AdjudicationInput]>('adjudicateCase');
/** A person resumes or rolls back a held canary (pause step or escalated guardrail failure). */
export const decideCanaryUpdate = defineUpdate<CanaryDecisionResult, [CanaryDecisionInput]>('decideCanary');

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

/**
 * The options POST /api/releases and the webhooks start releases with (src/api/release-start.ts): same id,
 * task queue and search attributes, so a queued release is indistinguishable from a directly started one.
 */
export function releaseStartOptions(request: ReleaseRequest, releaseId: string): WorkflowStartOptions {
  return {
    taskQueue: ORCHESTRATION_TASK_QUEUE,
    workflowId: releaseId,
    args: [request],
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowIdReusePolicy: 'REJECT_DUPLICATE',
    typedSearchAttributes: [
      { key: SearchAttr.model, value: request.modelName },
      { key: SearchAttr.stage, value: 'SNAPSHOT' },
    ],
    // What Temporal's Web UI shows for this run (the stage and outcome follow in its current details).
    staticSummary: `${request.modelName} ${request.candidate.version} replacing ${request.incumbent.version}`,
    staticDetails: [
      `**Why:** ${request.reason}`,
      `**Submitted by:** ${request.submittedBy} (${request.trigger.kind})`,
      `**Policy:** ${request.policy.id} ${request.policy.version}`,
      `**Candidate:** sha256 \`${request.candidate.artifact.sha256}\``,
      `**Vigil UI:** /ui/releases/${releaseId}`,
    ].join('\n\n'),
  };
}
