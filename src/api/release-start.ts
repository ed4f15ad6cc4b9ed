/**
 * Starting a release workflow, shared by POST /api/releases and the webhooks: one place decides the
 * workflow options (idempotent by business key) and how an id held by a finished release is reported.
 */
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  type WorkflowExecutionDescription,
} from '@temporalio/client';
import type { ReleaseRequest } from '../domain';
import { releaseStartOptions, SearchAttr } from '../domain/messages';
import { ApiError } from './errors';
import type { ReleaseHandle, TemporalPort } from './temporal-port';

export async function describeOrNull(handle: ReleaseHandle): Promise<WorkflowExecutionDescription | null> {
  try {
    return await handle.describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return null;
    throw err;
  }
}

/** How a closed release ended: its VigilOutcome, or the workflow status when it has none. */
export function endedAs(d: WorkflowExecutionDescription): string {
  return d.typedSearchAttributes.get(SearchAttr.outcome) ?? d.status.name;
}

/** `retry` says how this caller can release the candidate again (a webhook cannot bump `attempt`). */
export function alreadyFinished(releaseId: string, d: WorkflowExecutionDescription | null, retry: string): ApiError {
  const ended = d ? ` (${endedAs(d)})` : '';
  return new ApiError(
    409,
    `release ${releaseId} already ran and has finished${ended}; to release this candidate under this policy again, ${retry}`,
    {
      releaseId,
    },
  );
}

/**
 * Start the lifecycle (or join the running one: USE_EXISTING); returns the run id. A closed execution
 * holding the id (REJECT_DUPLICATE) is a 409 telling the caller to bump `attempt`.
 */
export async function startReleaseWorkflow(
  client: Pick<TemporalPort, 'workflow'>,
  request: ReleaseRequest,
  releaseId: string,
  retry: string,
): Promise<string> {
  try {
    const started = await client.workflow.start('releaseLifecycle', releaseStartOptions(request, releaseId));
    return started.firstExecutionRunId;
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      throw alreadyFinished(releaseId, await describeOrNull(client.workflow.getHandle(releaseId)), retry);
    }
    throw err;
  }
}
