import crypto from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { signVigil } from '../services/webhook-signatures';
import type { NotifyPort } from '../contracts/ports';
import type { EvidenceRef, Role, RouteState } from '../domain';
import { canonicalBytes } from '../evidence/canonical-json';
import type { ActivityDeps } from './deps';

/** A sign-off reminder or escalation, as the workflow asks for it. */
export interface NotifyInput {
  releaseId: string;
  modelName: string;
  candidateVersion: string;
  notice: 'reminder' | 'escalation';
  /** 1-based count of this kind for this release (delivery ids derive from it). */
  seq: number;
  /** Seconds after the dossier was ready, per the policy. */
  afterSeconds: number;
  pendingRoles: Role[];
  dossierSha256: string;
  deadline: string;
  /** Workflow time: the record is byte-identical on a retry. */
  at: string;
}

/** A rollback as the workflow reports it: what was rolled back, why, and the statistics that triggered it. */
export interface RollbackInput {
  releaseId: string;
  modelName: string;
  candidateVersion: string;
  /** The last validated model, now serving every route again. */
  restoredVersion: string;
  stage: string;
  cause: string;
  /** The verdict that triggered it, with the statistics it computed (e.g. every look of the sequential test). */
  trigger: { verdict: string; reasons: string[]; statistics?: unknown } | null;
  /** Interval measurements behind the trigger. */
  measurements: EvidenceRef[];
  routes: { before: RouteState | null; after: RouteState; evidence: EvidenceRef };
  /** A rehearsal (`vigil drill rollback`), not a clinical event. */
  drill: boolean;
  at: string;
}

/**
 * A `vigil.notification/v1` record into the evidence store, then, when a webhook is configured, the record with
 * its evidence reference to the webhook (deliveryId stable across retries); logged with whether it was delivered.
 */
export async function deliverNotification(
  { evidence, notifier, log }: Pick<ActivityDeps, 'evidence' | 'notifier' | 'log'>,
  record: Record<string, unknown>,
  deliveryId: string,
  logged: { level: 'info' | 'warn'; msg: string; fields: Record<string, unknown> },
): Promise<EvidenceRef> {
  const ref = await evidence.putJson(record);
  if (notifier)
    await notifier.deliver(canonicalBytes({ ...record, evidence: { key: ref.key, sha256: ref.sha256 } }), deliveryId);
  log[logged.level]({ ...logged.fields, delivered: notifier !== undefined }, logged.msg);
  return ref;
}

export function notifyActivities({ evidence, notifier, log }: Pick<ActivityDeps, 'evidence' | 'notifier' | 'log'>) {
  return {
    /**
     * Record the notification as evidence (content-addressed: a retry writes the same object), then deliver it
     * when a webhook is configured. Returns the record's ref; the chain's AWAITING_APPROVAL entry lists it.
     */
    async notify(input: NotifyInput): Promise<EvidenceRef> {
      const who = input.pendingRoles.join(', ') || '(none)';
      const message =
        input.notice === 'escalation'
          ? `ESCALATION: release ${input.releaseId} (${input.modelName} ${input.candidateVersion}) still lacks sign-off from ${who}; it expires at ${input.deadline}`
          : `Reminder: release ${input.releaseId} (${input.modelName} ${input.candidateVersion}) awaits sign-off from ${who} before ${input.deadline}`;
      const record = {
        kind: 'vigil.notification/v1',
        ...input,
        message,
        channel: notifier ? 'webhook' : 'evidence-only',
      };
      return deliverNotification(
        { evidence, notifier, log },
        record,
        `${input.releaseId}:${input.notice}:${input.seq}`,
        {
          level: 'info',
          msg: 'approval notification',
          fields: {
            releaseId: input.releaseId,
            notice: input.notice,
            seq: input.seq,
            pendingRoles: input.pendingRoles,
          },
        },
      );
    },

    /** The rollback record: cause, trigger statistics, routes before and after. Content-addressed, so a retry rewrites nothing. */
    async recordRollback(input: RollbackInput): Promise<EvidenceRef> {
      const ref = await evidence.putJson({ kind: 'vigil.rollback/v1', ...input });
      log.warn(
        {
          releaseId: input.releaseId,
          stage: input.stage,
          restored: input.restoredVersion,
          drill: input.drill,
          key: ref.key,
        },
        'rollback recorded',
      );
      return ref;
    },

    /**
     * Tell clinicians and support that patients are back on the validated model: a signed webhook (when
     * configured) whose body links the rollback record; the notice itself is evidence.
     */
    async notifyRollback(input: { rollback: EvidenceRef; summary: RollbackInput }): Promise<EvidenceRef> {
      const { summary } = input;
      const prefix = summary.drill ? 'DRILL (no clinical effect): ' : '';
      const message = `${prefix}${summary.modelName} ${summary.candidateVersion} was rolled back during ${summary.stage}; every route now serves ${summary.restoredVersion}. Cause: ${summary.cause}`;
      const deliveryId = `${summary.releaseId}:rollback`;
      const record = {
        kind: 'vigil.notification/v1',
        notice: 'rollback',
        releaseId: summary.releaseId,
        modelName: summary.modelName,
        candidateVersion: summary.candidateVersion,
        restoredVersion: summary.restoredVersion,
        drill: summary.drill,
        message,
        rollback: { key: input.rollback.key, sha256: input.rollback.sha256 },
        deliveryId,
        channel: notifier ? 'webhook' : 'evidence-only',
        at: summary.at,
      };
      if (notifier) await notifier.deliver(canonicalBytes(record), deliveryId);
      const ref = await evidence.putJson(record);
      log.warn(
        { releaseId: summary.releaseId, delivered: notifier !== undefined, drill: summary.drill },
        'rollback notification',
      );
      return ref;
    },
  };
}

/**
 * POSTs JSON with Vigil's webhook signature: X-Vigil-Delivery (stable across retries, so receivers dedupe),
 * X-Vigil-Timestamp, X-Vigil-Signature: v1=HMAC-SHA256(secret, "v1:" + timestamp + ":" + delivery + ":" + body).
 * 5xx, 408, 429 and network errors are retried by the activity's policy; other 4xx are not.
 */
export class WebhookNotifier implements NotifyPort {
  constructor(
    private readonly url: string,
    private readonly secret: string,
    private readonly timeoutMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  async deliver(body: Uint8Array, deliveryId: string): Promise<void> {
    const timestamp = String(Math.floor(this.now() / 1000));
    const safeId = deliveryId.replace(/[^A-Za-z0-9._:-]/g, '-').slice(0, 128) || crypto.randomUUID();
    const res = await fetch(this.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-vigil-delivery': safeId,
        'x-vigil-timestamp': timestamp,
        'x-vigil-signature': signVigil(this.secret, timestamp, safeId, body),
        'user-agent': 'vigil-notify/1',
      },
      body,
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    await res.body?.cancel().catch(() => undefined);
    if (res.ok) return;
    const msg = `notification webhook answered ${res.status}`;
    if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) {
      throw ApplicationFailure.nonRetryable(msg, 'VigilNotifyRefused');
    }
    throw new Error(msg);
  }
}
