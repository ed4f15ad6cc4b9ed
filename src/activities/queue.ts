/**
 * Activities of the per-model release queue (src/workflows/release-queue.ts): everything that talks to
 * Temporal happens here, so the queue workflow stays deterministic.
 */
import { Context } from '@temporalio/activity';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { ErrorType, type ReleaseRequest } from '../domain';
import { releaseStartOptions } from '../domain/messages';
import type { WorkflowClientPort } from '../contracts/temporal-clients';
import type { ActivityDeps } from './deps';

export interface AwaitReleasesClosedInput {
  releaseIds: string[];
  /** Give up after this long and report what is still open; the workflow calls again. */
  maxWaitSeconds: number;
  pollSeconds: number;
}

export interface StartQueuedReleaseInput {
  releaseId: string;
  request: ReleaseRequest;
}

export interface StartQueuedReleaseResult {
  releaseId: string;
  /** False when the id belongs to a release that already ran (closed); a running one is joined (USE_EXISTING). */
  started: boolean;
  runId: string | null;
}

export function queueActivities({ temporal, log }: Pick<ActivityDeps, 'temporal' | 'log'>) {
  const client = (): WorkflowClientPort => {
    if (!temporal) {
      throw ApplicationFailure.nonRetryable(
        'this worker has no Temporal client: queued releases cannot be started here',
        ErrorType.NotConfigured,
      );
    }
    return temporal;
  };

  /** Open = RUNNING. Not found and every terminal status (completed, failed, terminated, …) count as closed. */
  async function isOpen(c: WorkflowClientPort, releaseId: string): Promise<boolean> {
    try {
      return (await c.workflow.getHandle(releaseId).describe()).status.name === 'RUNNING';
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return false;
      throw err;
    }
  }

  return {
    /**
     * Wait until every release in `releaseIds` has closed, or `maxWaitSeconds` has passed; returns the ids
     * still open. Heartbeats on every poll, so a lost worker is noticed and cancellation arrives promptly.
     */
    async awaitReleasesClosed(input: AwaitReleasesClosedInput): Promise<{ open: string[] }> {
      const c = client();
      const ctx = Context.current();
      const deadline = Date.now() + input.maxWaitSeconds * 1000;
      let open = [...new Set(input.releaseIds)];
      for (;;) {
        const stillOpen: string[] = [];
        for (const id of open) if (await isOpen(c, id)) stillOpen.push(id);
        open = stillOpen;
        ctx.heartbeat({ open });
        const left = deadline - Date.now();
        if (open.length === 0 || left <= 0) return { open };
        await ctx.sleep(Math.min(input.pollSeconds * 1000, left));
      }
    },

    /** Start the queued release like the API would; an id already taken counts as started (idempotent). */
    async startQueuedRelease(input: StartQueuedReleaseInput): Promise<StartQueuedReleaseResult> {
      const c = client();
      try {
        const handle = await c.workflow.start('releaseLifecycle', releaseStartOptions(input.request, input.releaseId));
        log.info(
          { releaseId: input.releaseId, runId: handle.firstExecutionRunId, model: input.request.modelName },
          'queued release started',
        );
        return { releaseId: input.releaseId, started: true, runId: handle.firstExecutionRunId };
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        log.info({ releaseId: input.releaseId }, 'queued release already started earlier');
        return { releaseId: input.releaseId, started: false, runId: null };
      }
    },
  };
}
