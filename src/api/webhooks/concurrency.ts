import { canTransition, STAGES, type QueuedRelease, type Stage } from '../../domain';
import { supersedeReleaseUpdate } from '../../domain/messages';
import type { ReleaseQueue } from '../../contracts/temporal-clients';
import type { TemporalPort } from '../temporal-port';

/** What to do with a new candidate while another release of the same model is in flight. */
export type ConcurrencyPolicy = 'queue' | 'supersede';

export interface InFlightRelease {
  releaseId: string;
  /** The VigilStage search attribute; null when visibility has not caught up. */
  stage: Stage | null;
}

export type ConcurrentDecision = 'start' | 'queue' | { supersede: string[] };

/** Stages a release may leave for SUPERSEDED: everything before the approval is acted on. */
export const SUPERSEDABLE_STAGES: readonly Stage[] = STAGES.filter((s) => canTransition(s, 'SUPERSEDED'));

/**
 * Pure decision for a second candidate. `inFlight` are the model's running releases other than the
 * candidate's own (a retried delivery of the same candidate joins its release; it is never "second").
 *  - nothing in flight → start
 *  - queue → queue
 *  - supersede → supersede them all if every one is still pre-approval (SNAPSHOT … AWAITING_APPROVAL);
 *    once any is in CANARY/MONITORING (or its stage is unknown) it cannot be superseded → queue.
 */
export function decideConcurrentCandidate(
  inFlight: readonly InFlightRelease[],
  policy: ConcurrencyPolicy,
): ConcurrentDecision {
  if (inFlight.length === 0) return 'start';
  if (policy === 'queue') return 'queue';
  const allSupersedable = inFlight.every((r) => r.stage !== null && SUPERSEDABLE_STAGES.includes(r.stage));
  return allSupersedable ? { supersede: inFlight.map((r) => r.releaseId) } : 'queue';
}

/** Moves a pre-approval release to SUPERSEDED (recorded with the reason). */
export interface ReleaseSuperseder {
  supersede(releaseId: string, input: { reason: string; supersededBy: string }): Promise<void>;
}

export class SupersedeNotSupportedError extends Error {
  override name = 'SupersedeNotSupportedError';
}

/** Refuses every supersede, so the API falls back to queueing (used where no Temporal client is wired). */
export const unsupportedSuperseder: ReleaseSuperseder = {
  supersede: async () => {
    throw new SupersedeNotSupportedError('superseding a release is not configured in this API');
  },
};

/** Supersede through the release workflow's `supersedeRelease` Update (validated synchronously there). */
export function temporalSuperseder(client: Pick<TemporalPort, 'workflow'>): ReleaseSuperseder {
  return {
    async supersede(releaseId, input) {
      await client.workflow.getHandle(releaseId).executeUpdate(supersedeReleaseUpdate, { args: [input] });
    },
  };
}

/** Validated by QueuedReleaseSchema in src/domain/release-queue.ts (the queue workflow re-checks it). */
export type { QueuedRelease };

/** Where queued candidates wait (a port: TemporalReleaseQueue in src/services, InMemoryReleaseQueue in tests). */
export type { ReleaseQueue };

/** Records entries and starts nothing: for tests of the routes' decisions. */
export class InMemoryReleaseQueue implements ReleaseQueue {
  readonly entries = new Map<string, QueuedRelease>();
  async enqueue(entry: QueuedRelease): Promise<void> {
    if (!this.entries.has(entry.releaseId)) this.entries.set(entry.releaseId, entry);
  }
}
