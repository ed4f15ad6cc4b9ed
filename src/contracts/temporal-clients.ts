/**
 * The slices of `@temporalio/client`'s Client that the release queue needs, as ports: the real Client satisfies
 * them structurally, tests pass fakes. Both the API (enqueueing webhook candidates) and the worker (queue
 * activities, drift revalidation) use them.
 */
import type { WorkflowStartOptions } from '@temporalio/client';
import type { QueuedRelease, ReleaseQueueInput } from '../domain';
import type { enqueueReleaseSignal } from '../domain/messages';

/** Signal-with-start on a model's `releaseQueue` workflow (src/services/release-queue.ts). */
export interface QueueSignalPort {
  workflow: {
    signalWithStart(
      workflowType: 'releaseQueue',
      options: {
        workflowId: string;
        taskQueue: string;
        signal: typeof enqueueReleaseSignal;
        signalArgs: [QueuedRelease];
        args: [ReleaseQueueInput];
      },
    ): Promise<unknown>;
  };
}

/** What the queue activities use (src/activities/queue.ts; the worker passes a real Client). */
export interface WorkflowClientPort {
  workflow: {
    start(
      workflowType: 'releaseLifecycle',
      options: WorkflowStartOptions,
    ): Promise<{ readonly firstExecutionRunId: string }>;
    getHandle(workflowId: string): { describe(): Promise<{ readonly status: { readonly name: string } }> };
    /** Enqueues on a model's release queue (drift revalidation); the real Client has it. */
    signalWithStart?: QueueSignalPort['workflow']['signalWithStart'];
  };
}

/**
 * Where queued candidates wait. The API and the worker use TemporalReleaseQueue (src/services/release-queue.ts): a durable
 * `releaseQueue` workflow per model starts each candidate once the releases ahead of it have closed.
 */
export interface ReleaseQueue {
  /** Idempotent per releaseId. */
  enqueue(entry: QueuedRelease): Promise<void>;
}
