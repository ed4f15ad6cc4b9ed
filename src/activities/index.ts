import { ApplicationFailure } from '@temporalio/common';
import type { LiveSource } from '../contracts/live-source';
import { EvidenceError } from '../evidence';
import { archiveActivities } from './archive';
import { canaryActivities } from './canary';
import type { ActivityDeps } from './deps';
import { dossierActivities } from './dossier';
import { simulatedLiveSource } from './live-source';
import { monitoringActivities } from './monitoring';
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

/** The deps with the live source settled: the one chosen at start-up, else the simulated world of `traffic`. */
type LiveDeps = ActivityDeps & { live: LiveSource; simulated: LiveSource };

function withLiveSource(deps: ActivityDeps): LiveDeps {
  const simulated = simulatedLiveSource(deps);
  return { ...deps, live: deps.live ?? simulated, simulated };
}

/** The activities the release workflows call: test fakes implement exactly these. */
function releaseActivities(deps: LiveDeps) {
  return typedFailures({
    ...snapshotActivities(deps),
    ...offlineEvalActivities(deps),
    ...shadowActivities(deps),
    ...canaryActivities(deps),
    ...recordActivities(deps),
    ...dossierActivities(deps),
    ...archiveActivities(deps),
    ...notifyActivities(deps),
  });
}

/** All activities, built from injected clients: tests pass typed fakes, the worker passes real ones. */
export function createActivities(deps: ActivityDeps) {
  const live = withLiveSource(deps);
  return { ...releaseActivities(live), ...queueActivities(live), ...typedFailures(monitoringActivities(live)) };
}

export type VigilActivities = ReturnType<typeof releaseActivities>;
/** The per-model release queue's activities (src/workflows/release-queue.ts). */
export type QueueActivities = ReturnType<typeof queueActivities>;
/** Post-release drift surveillance and its actions (src/workflows/release-monitoring.ts, policy monitoring.drift). */
export type MonitoringActivities = ReturnType<typeof monitoringActivities>;
// Ports, record shapes and evidence key rules live in src/contracts; this module exports the activities only.
export type { ActivityDeps } from './deps';
export { WebhookNotifier, type NotifyInput, type RollbackInput } from './notify';
export { type AwaitReleasesClosedInput, type StartQueuedReleaseInput, type StartQueuedReleaseResult } from './queue';
export type {
  ObserveDriftInput,
  RequestRevalidationInput,
  RequestRevalidationResult,
  RevalidationNoticeInput,
} from './monitoring';
export type { LiveSource } from '../contracts/live-source';
export { gatewayTelemetryLiveSource, simulatedLiveSource } from './live-source';
