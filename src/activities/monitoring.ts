/**
 * MONITORING's drift surveillance (policy `monitoring.drift`): per monitoring window, the window's inputs against
 * the locked validation reference (the release's evaluation split), performance on the labelled cases of the last
 * few windows, and the alert burden — aggregates and an evidence ref only, never case-level data in history. Plus
 * the two actions drift can take besides a rollback: a "revalidation required" notice and a new release cycle
 * queued through the model's durable release queue.
 */
import { ApplicationFailure } from '@temporalio/common';
import { TemporalReleaseQueue } from '../services/release-queue';
import type { LiveSource, ObserveDriftInput, StageOutput } from '../contracts/live-source';
import type { RouteControl } from '../contracts/ports';
import {
  ErrorType,
  QueuedReleaseSchema,
  ReleaseRequestSchema,
  releaseIdFor,
  releaseQueueWorkflowId,
  type DriftMeasurement,
  type DriftPolicy,
  type EvidenceRef,
  type ReleaseRequest,
} from '../domain';
import { requestPolicyDigest } from '../evidence';
import type { ActivityDeps } from './deps';
import { deliverNotification } from './notify';

export type { ObserveDriftInput };

export interface RevalidationNoticeInput {
  releaseId: string;
  modelName: string;
  candidateVersion: string;
  /** 0-based monitoring interval in which drift was detected. */
  interval: number;
  onDrift: DriftPolicy['onDrift'];
  /** The drift verdict's reasons. */
  reasons: string[];
  /** The window's `vigil.monitoring-drift/v1` record. */
  drift: EvidenceRef;
  at: string;
}

export interface RequestRevalidationInput {
  releaseId: string;
  request: ReleaseRequest;
  /** The new release's attempt: the workflow asks for request.attempt + 1. */
  attempt: number;
  interval: number;
  reasons: string[];
  drift: EvidenceRef;
  at: string;
}

export interface RequestRevalidationResult {
  /** The queued release (same candidate, attempt + 1). */
  releaseId: string;
  attempt: number;
  /** The `vigil.revalidation-request/v1` record. */
  record: EvidenceRef;
}

/**
 * The model a revalidation release replaces: what production serves when it is queued (SNAPSHOT refuses a declared
 * incumbent production does not serve). Once the monitored release was promoted that is its own candidate, not the
 * incumbent it replaced. Without a route store the monitored release is taken to serve (MONITORING follows the
 * promotion); a version that is neither this release's candidate nor its incumbent has no reference here, so the
 * revalidation is refused naming both, for a person to queue with the right incumbent.
 */
async function servingIncumbent(
  prev: ReleaseRequest,
  routes: Pick<RouteControl, 'current'> | undefined,
): Promise<ReleaseRequest['incumbent']> {
  const serving = routes ? ((await routes.current(prev.modelName))?.production ?? null) : null;
  if (serving === null || serving === prev.candidate.version) return prev.candidate;
  if (serving === prev.incumbent.version) return prev.incumbent;
  throw ApplicationFailure.nonRetryable(
    `revalidation release refused: production serves ${prev.modelName} ${serving}, neither this release's candidate ${prev.candidate.version} nor its incumbent ${prev.incumbent.version}`,
    ErrorType.InvalidRequest,
  );
}

export function monitoringActivities({
  evidence,
  notifier,
  temporal,
  log,
  live,
  routes,
}: Pick<ActivityDeps, 'evidence' | 'notifier' | 'temporal' | 'log'> &
  Partial<Pick<ActivityDeps, 'routes'>> & {
    live: LiveSource;
  }) {
  return {
    /**
     * One monitoring window against the locked reference, measured by the worker's live source: the same window
     * observeLive measured (src/activities/live-source).
     */
    async observeDrift(input: ObserveDriftInput): Promise<StageOutput<DriftMeasurement>> {
      return live.drift(input);
    },

    /** "Revalidation required": a `vigil.notification/v1` record, then the signed webhook when one is configured. */
    async notifyRevalidation(input: RevalidationNoticeInput): Promise<EvidenceRef> {
      const deliveryId = `${input.releaseId}:revalidation-required:${input.interval}`;
      const next =
        input.onDrift === 'revalidate' ? ' A new release cycle of the same candidate has been requested.' : '';
      const message =
        `Revalidation required: ${input.modelName} ${input.candidateVersion} (release ${input.releaseId}) shows drift in monitoring interval ${input.interval + 1}; it stays in service.${next} ${input.reasons.slice(1).join('; ')}`.trim();
      const record = {
        kind: 'vigil.notification/v1',
        notice: 'revalidation-required',
        releaseId: input.releaseId,
        modelName: input.modelName,
        candidateVersion: input.candidateVersion,
        interval: input.interval,
        onDrift: input.onDrift,
        message,
        reasons: input.reasons,
        drift: { key: input.drift.key, sha256: input.drift.sha256 },
        deliveryId,
        channel: notifier ? 'webhook' : 'evidence-only',
        at: input.at,
      };
      return deliverNotification({ evidence, notifier, log }, record, deliveryId, {
        level: 'warn',
        msg: 'revalidation required',
        fields: { releaseId: input.releaseId, interval: input.interval, onDrift: input.onDrift },
      });
    },

    /**
     * Queue a new release of the same candidate (attempt + 1, same pinned policy and references) behind this one, on
     * the model's durable release queue (signalWithStart, like the webhooks). Idempotent: the queue drops an id it
     * already holds or started, and the record is content-addressed.
     */
    async requestRevalidation(input: RequestRevalidationInput): Promise<RequestRevalidationResult> {
      const signal = temporal?.workflow.signalWithStart;
      if (!temporal || !signal) {
        throw ApplicationFailure.nonRetryable(
          'this worker has no Temporal client: a revalidation release cannot be queued here',
          ErrorType.NotConfigured,
        );
      }
      const prev = input.request;
      const attempt = input.attempt;
      if (attempt <= prev.attempt) {
        throw ApplicationFailure.nonRetryable(
          `revalidation release refused: attempt ${attempt} is not after this release's ${prev.attempt}`,
          ErrorType.InvalidRequest,
        );
      }
      const incumbent = await servingIncumbent(prev, routes);
      const parsed = ReleaseRequestSchema.safeParse({
        ...prev,
        incumbent,
        attempt,
        trigger: { kind: 'revalidation', deliveryId: `revalidation:${input.releaseId}:${input.interval}` },
        reason:
          `revalidation required: drift detected in monitoring interval ${input.interval + 1} of release ${input.releaseId} (${input.drift.key}); ${input.reasons.slice(1).join('; ')}`.slice(
            0,
            2000,
          ),
      });
      if (!parsed.success) {
        throw ApplicationFailure.nonRetryable(
          `revalidation release refused: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
          ErrorType.InvalidRequest,
        );
      }
      const request = parsed.data;
      const releaseId = releaseIdFor(request, requestPolicyDigest(request));
      const entry = QueuedReleaseSchema.parse({
        releaseId,
        modelName: request.modelName,
        deliveryKey: `revalidation:${input.releaseId}:${input.interval}`,
        behind: [input.releaseId],
        queuedAt: input.at,
        request,
      });
      const record = await evidence.putJson({
        kind: 'vigil.revalidation-request/v1',
        releaseId: input.releaseId,
        queuedReleaseId: releaseId,
        attempt,
        interval: input.interval,
        queue: releaseQueueWorkflowId(request.modelName),
        reasons: input.reasons,
        drift: { key: input.drift.key, sha256: input.drift.sha256 },
        entry,
        at: input.at,
      });
      await new TemporalReleaseQueue({
        workflow: { signalWithStart: (type, options) => signal.call(temporal.workflow, type, options) },
      }).enqueue(entry);
      log.warn({ releaseId: input.releaseId, queued: releaseId, attempt }, 'revalidation release queued');
      return { releaseId, attempt, record };
    },
  };
}
