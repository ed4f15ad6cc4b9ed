/**
 * The release queue's client, shared by the API (webhook candidates that must wait) and the worker (drift
 * revalidation): each model's candidates go to its `releaseQueue` workflow (src/workflows/release-queue.ts).
 */
import type { QueueSignalPort, ReleaseQueue } from '../contracts/temporal-clients';
import { releaseQueueWorkflowId, type QueuedRelease } from '../domain';
import { enqueueReleaseSignal, ORCHESTRATION_TASK_QUEUE } from '../domain/messages';

/**
 * Durable queue: each model's candidates go to its `releaseQueue` workflow (started by the first signal),
 * which starts them in order as the releases ahead of them close. Idempotent per releaseId (the workflow
 * drops a release it already holds or started); survives API and worker restarts.
 */
export class TemporalReleaseQueue implements ReleaseQueue {
  constructor(private readonly client: QueueSignalPort) {}

  async enqueue(entry: QueuedRelease): Promise<void> {
    await this.client.workflow.signalWithStart('releaseQueue', {
      workflowId: releaseQueueWorkflowId(entry.modelName),
      taskQueue: ORCHESTRATION_TASK_QUEUE,
      signal: enqueueReleaseSignal,
      signalArgs: [entry],
      args: [{ modelName: entry.modelName }],
    });
  }
}
