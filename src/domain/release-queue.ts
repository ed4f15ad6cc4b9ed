/**
 * The per-model release queue: candidates that arrived while another release of the same model was in
 * flight wait here (one `releaseQueue` workflow per model) and are started in order as releases close.
 * Entries hold ids, evidence-store keys and digests only — never patient data.
 */
import { z } from 'zod';
import { ReleaseRequestSchema } from './release';

/** One workflow per model: signalWithStart on this id finds the running queue or starts a new one. */
export function releaseQueueWorkflowId(modelName: string): string {
  return `release-queue-${modelName}`;
}

const workflowIdSchema = z.string().min(1).max(256);

export const QueuedReleaseSchema = z
  .object({
    releaseId: workflowIdSchema,
    modelName: z.string().min(1).max(48),
    /** The delivery that asked for it (ledger key), for the audit trail. */
    deliveryKey: z.string().min(1).max(256),
    /** The releases it waits behind (the model's in-flight releases when it was queued). */
    behind: z.array(workflowIdSchema).max(64),
    queuedAt: z.iso.datetime(),
    request: ReleaseRequestSchema,
  })
  .refine((e) => e.request.modelName === e.modelName, {
    message: 'request.modelName must equal modelName',
    path: ['request', 'modelName'],
  });
export type QueuedRelease = z.infer<typeof QueuedReleaseSchema>;

/** Tuning of the queue workflow; every field has a default in RELEASE_QUEUE_DEFAULTS. */
export interface ReleaseQueueOptions {
  /** The queue completes after this long (workflow time) with nothing pending; signalWithStart restarts it. */
  idleSeconds: number;
  /** Continue-as-new after starting this many releases in one run (and whenever the server suggests it). */
  maxEntriesPerRun: number;
  /** One wait activity lasts at most this long; the workflow calls it again while releases are still open. */
  waitSliceSeconds: number;
  /** How often the wait activity asks Temporal whether the releases have closed. */
  pollSeconds: number;
  /** After a start or wait that failed for good (e.g. a worker without a Temporal client), retry after this long. */
  retryAfterSeconds: number;
}

export const RELEASE_QUEUE_DEFAULTS: ReleaseQueueOptions = {
  idleSeconds: 3600,
  maxEntriesPerRun: 100,
  waitSliceSeconds: 6 * 3600,
  pollSeconds: 5,
  retryAfterSeconds: 600,
};

export interface ReleaseQueueInput {
  modelName: string;
  /** Entries carried over continue-as-new, in order. */
  pending?: QueuedRelease[];
  /** The release this queue started last: the next one waits for it to close. */
  lastStarted?: string | null;
  /** Recently started release ids (bounded), so a repeated signal is not started twice across runs. */
  recent?: string[];
  options?: Partial<ReleaseQueueOptions>;
}

export interface ReleaseQueueResult {
  modelName: string;
  /** Releases started by this (last) run, in order. */
  started: string[];
  reason: 'idle';
}

export interface ReleaseQueueStatus {
  modelName: string;
  /** In start order; the head is the next to start. */
  pending: Array<Pick<QueuedRelease, 'releaseId' | 'deliveryKey' | 'behind' | 'queuedAt'>>;
  /** What the head entry is waiting for right now (empty when nothing is pending or it is being started). */
  waitingOn: string[];
  lastStarted: string | null;
  /** Started by this run, in order. */
  started: string[];
  /** Why the queue is stuck and retrying (a failed start or wait), else null. */
  blocked: string | null;
}
