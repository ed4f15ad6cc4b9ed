import type { WorkflowExecutionDescription, WorkflowExecutionInfo, WorkflowStartOptions } from '@temporalio/client';
import type {
  ApprovalInput,
  ApprovalResult,
  CanaryDecisionInput,
  CanaryDecisionResult,
  ReleaseStatus,
  SupersedeInput,
  SupersedeResult,
  WithdrawalInput,
  WithdrawalResult,
} from '../domain';
import type { AdjudicationInput, AdjudicationResult } from '../domain/shadow-adjudication';
import type {
  adjudicateCaseUpdate,
  approveReleaseUpdate,
  decideCanaryUpdate,
  releaseStatusQuery,
  supersedeReleaseUpdate,
  withdrawSignatureUpdate,
} from '../domain/messages';

/**
 * The slice of `@temporalio/client`'s Client the API uses. The real Client satisfies it structurally;
 * tests pass a hand-written object.
 */
export interface ReleaseHandle {
  readonly workflowId: string;
  describe(): Promise<WorkflowExecutionDescription>;
  query(def: typeof releaseStatusQuery): Promise<ReleaseStatus>;
  executeUpdate(def: typeof approveReleaseUpdate, options: { args: [ApprovalInput] }): Promise<ApprovalResult>;
  executeUpdate(def: typeof supersedeReleaseUpdate, options: { args: [SupersedeInput] }): Promise<SupersedeResult>;
  executeUpdate(def: typeof withdrawSignatureUpdate, options: { args: [WithdrawalInput] }): Promise<WithdrawalResult>;
  executeUpdate(
    def: typeof decideCanaryUpdate,
    options: { args: [CanaryDecisionInput] },
  ): Promise<CanaryDecisionResult>;
  executeUpdate(def: typeof adjudicateCaseUpdate, options: { args: [AdjudicationInput] }): Promise<AdjudicationResult>;
}

export interface TemporalPort {
  workflow: {
    start(
      workflowType: 'releaseLifecycle',
      options: WorkflowStartOptions,
    ): Promise<{ readonly workflowId: string; readonly firstExecutionRunId: string }>;
    getHandle(workflowId: string): ReleaseHandle;
    list(options: { query: string; pageSize?: number }): AsyncIterable<WorkflowExecutionInfo>;
  };
  /** Used only by /healthz: GetSystemInfo is the cheapest authenticated round trip to the frontend. */
  workflowService: { getSystemInfo(request: Record<string, never>): Promise<unknown> };
}
