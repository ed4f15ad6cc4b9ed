import { ApplicationFailure } from '@temporalio/common';
import { EvidenceError } from '../evidence';
import { archiveActivities } from './archive';
import type { ActivityDeps } from './deps';
import { dossierActivities } from './dossier';
import { driftActivities } from './drift';
import { liveActivities } from './live';
import { notifyActivities } from './notify';
import { offlineEvalActivities } from './offline-eval';
import { queueActivities } from './queue';
import { recordActivities } from './records';
import { shadowActivities } from './shadow';
import { snapshotActivities } from './snapshot';

/**
 * Evidence failures that retrying cannot fix (conflict, tampering) cross the Temporal boundary
 * as typed, non-retryable ApplicationFailures; everything else is retried by policy.
 */
function typedFailures<T extends Record<string, (...args: never[]) => Promise<unknown>>>(fns: T): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(fns)) {
    wrapped[name] = async (...args: never[]) => {
      try {
        return await fn(...args);
      } catch (e) {
        if (e instanceof EvidenceError && e.type) throw ApplicationFailure.nonRetryable(e.message, e.type);
        throw e;
      }
    };
  }
  return wrapped as T;
}

/** The activities the release workflows call: test fakes implement exactly these. */
function releaseActivities(deps: ActivityDeps) {
  return typedFailures({
    ...snapshotActivities(deps),
    ...offlineEvalActivities(deps),
    ...shadowActivities(deps),
    ...liveActivities(deps),
    ...recordActivities(deps),
    ...dossierActivities(deps),
    ...archiveActivities(deps),
    ...notifyActivities(deps),
  });
}

/** All activities, built from injected clients: tests pass typed fakes, the worker passes real ones. */
export function createActivities(deps: ActivityDeps) {
  return { ...releaseActivities(deps), ...queueActivities(deps), ...typedFailures(driftActivities(deps)) };
}

export type VigilActivities = ReturnType<typeof releaseActivities>;
/** The per-model release queue's activities (src/workflows/release-queue.ts). */
export type QueueActivities = ReturnType<typeof queueActivities>;
/** Post-release drift surveillance and its actions (src/workflows/release-monitoring.ts, policy monitoring.drift). */
export type DriftActivities = ReturnType<typeof driftActivities>;
export type {
  ActivityDeps,
  HistoryPort,
  WorkerBuild,
  EvidencePort,
  RouteControl,
  TrafficSource,
  EnvironmentFingerprint,
} from './deps';
export { chainKey, signatureEnvelopeKey } from './records';
export { WebhookNotifier, type NotifyInput, type NotifyPort, type RollbackInput } from './notify';
export {
  type AwaitReleasesClosedInput,
  type StartQueuedReleaseInput,
  type StartQueuedReleaseResult,
  type WorkflowClientPort,
} from './queue';
export type {
  ObserveDriftInput,
  RequestRevalidationInput,
  RequestRevalidationResult,
  RevalidationNoticeInput,
} from './drift';
