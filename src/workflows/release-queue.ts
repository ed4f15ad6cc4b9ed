/**
 * releaseQueue: one durable queue per model (id `release-queue-<model>`) for candidates that arrived while
 * another release of the model was in flight. Entries are started first in, first out; each waits until
 * the releases it was queued behind — and the release this queue started before it — have closed. The
 * run continues-as-new with its pending entries to keep history bounded and completes after an idle hour;
 * the API's signalWithStart starts it again.
 */
import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  isCancellation,
  log,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import {
  QueuedReleaseSchema,
  RELEASE_QUEUE_DEFAULTS,
  type QueuedRelease,
  type ReleaseQueueInput,
  type ReleaseQueueOptions,
  type ReleaseQueueResult,
  type ReleaseQueueStatus,
} from '../domain';
import { enqueueReleaseSignal, releaseQueueStatusQuery } from '../domain/messages';
import { queueActs } from './activities-proxy';

/** Within the activity proxy's 7-hour start-to-close timeout. */
const MAX_WAIT_SLICE_SECONDS = 6 * 3600;
/** Enough to recognise a repeated delivery across a few runs without growing the carried state. */
const RECENT_LIMIT = 200;

export async function releaseQueue(input: ReleaseQueueInput): Promise<ReleaseQueueResult> {
  const { modelName } = input;
  const opts: ReleaseQueueOptions = { ...RELEASE_QUEUE_DEFAULTS, ...input.options };
  const pending: QueuedRelease[] = [];
  const recent: string[] = [...(input.recent ?? [])];
  const started: string[] = [];
  let lastStarted = input.lastStarted ?? null;
  let waitingOn: string[] = [];
  let blocked: string | null = null;

  /** Validate, then drop what does not belong here or is already known; never fails the workflow. */
  const accept = (raw: unknown, source: 'signal' | 'carried'): void => {
    const parsed = QueuedReleaseSchema.safeParse(raw);
    if (!parsed.success) {
      const issues = parsed.error.issues.slice(0, 10).map((i) => `${i.path.join('.')}: ${i.message}`);
      log.warn('release queue: invalid entry dropped', { modelName, source, issues });
      return;
    }
    const entry = parsed.data;
    if (entry.modelName !== modelName) {
      log.warn('release queue: entry for another model dropped', {
        modelName,
        releaseId: entry.releaseId,
        entryModel: entry.modelName,
      });
      return;
    }
    if (
      entry.releaseId === lastStarted ||
      recent.includes(entry.releaseId) ||
      pending.some((p) => p.releaseId === entry.releaseId)
    ) {
      log.info('release queue: duplicate entry ignored', { modelName, releaseId: entry.releaseId });
      return;
    }
    pending.push(entry);
  };

  for (const entry of input.pending ?? []) accept(entry, 'carried');
  setHandler(enqueueReleaseSignal, (entry) => accept(entry, 'signal'));
  setHandler(releaseQueueStatusQuery, (): ReleaseQueueStatus => ({
    modelName,
    pending: pending.map(({ releaseId, deliveryKey, behind, queuedAt }) => ({
      releaseId,
      deliveryKey,
      behind,
      queuedAt,
    })),
    waitingOn,
    lastStarted,
    started: [...started],
    blocked,
  }));

  const shouldContinueAsNew = (): boolean =>
    started.length >= opts.maxEntriesPerRun || workflowInfo().continueAsNewSuggested;
  const carryOn = async (): Promise<never> => {
    await condition(allHandlersFinished);
    return continueAsNew<typeof releaseQueue>({
      modelName,
      pending: [...pending],
      lastStarted,
      recent,
      options: input.options ?? {},
    });
  };

  for (;;) {
    if (pending.length === 0) {
      // Idle: nothing is waiting. Complete so a model without new candidates leaves no workflow running.
      if (!(await condition(() => pending.length > 0, opts.idleSeconds * 1000))) break;
    }
    if (shouldContinueAsNew()) await carryOn();

    const head = pending[0]!;
    const behind = [...head.behind, ...(lastStarted ? [lastStarted] : [])].filter((id) => id !== head.releaseId);
    waitingOn = [...new Set(behind)];
    while (waitingOn.length > 0) {
      const out = await retrying(`waiting for ${waitingOn.join(', ')} to close`, () =>
        queueActs.awaitReleasesClosed({
          releaseIds: waitingOn,
          maxWaitSeconds: Math.min(opts.waitSliceSeconds, MAX_WAIT_SLICE_SECONDS),
          pollSeconds: opts.pollSeconds,
        }),
      );
      waitingOn = out.open;
      // A month of monitoring is many slices: the next run re-checks the same releases.
      if (waitingOn.length > 0 && workflowInfo().continueAsNewSuggested) await carryOn();
    }

    await retrying(`starting ${head.releaseId}`, () =>
      queueActs.startQueuedRelease({ releaseId: head.releaseId, request: head.request }),
    );
    pending.shift();
    lastStarted = head.releaseId;
    started.push(head.releaseId);
    recent.push(head.releaseId);
    if (recent.length > RECENT_LIMIT) recent.splice(0, recent.length - RECENT_LIMIT);
    log.info('release queue: queued release started', {
      modelName,
      releaseId: head.releaseId,
      deliveryKey: head.deliveryKey,
      queuedAt: head.queuedAt,
    });
  }

  await condition(allHandlersFinished);
  return { modelName, started, reason: 'idle' };

  /**
   * Activities retry transient failures themselves; what reaches here failed for good (say, a worker without
   * a Temporal client). The queue must not lose its entries over it: report, wait, try again.
   */
  async function retrying<T>(what: string, fn: () => Promise<T>): Promise<T> {
    for (;;) {
      try {
        const out = await fn();
        blocked = null;
        return out;
      } catch (err) {
        if (isCancellation(err)) throw err;
        const cause = err instanceof Error && err.cause instanceof ApplicationFailure ? err.cause : err;
        blocked = `${what}: ${cause instanceof Error ? cause.message : String(cause)}`;
        log.error('release queue: blocked, will retry', {
          modelName,
          blocked,
          retryAfterSeconds: opts.retryAfterSeconds,
        });
        await sleep(opts.retryAfterSeconds * 1000);
      }
    }
  }
}
