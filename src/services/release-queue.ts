import { releaseQueueWorkflowId, type ReleaseQueueInput } from '../../domain';
import { enqueueReleaseSignal, ORCHESTRATION_TASK_QUEUE } from '../../domain/messages';
import type { QueuedRelease, ReleaseQueue } from './concurrency';

/** The slice of `@temporalio/client`'s Client the queue needs; the real Client satisfies it structurally. */
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
