/**
 * What every webhook route shares: the dependencies, the limits with their defaults, and the per-app state
 * (delivery ledger, release queue, superseder, clock) resolved once by `createWebhookContext`.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { Logger } from '../../logging/logger';
import { ApiError } from '../errors';
import type { TemporalPort } from '../temporal-port';
import { InMemoryReleaseQueue, unsupportedSuperseder, type ReleaseQueue, type ReleaseSuperseder } from './concurrency';
import type { ModelWebhookConfig, WebhookConfig } from './config';
import { InMemoryDeliveryLedger, type DeliveryLedger, type LedgerEntry } from './ledger';
import type { ArtifactResolver } from './resolver';

export const WEBHOOK_DEFAULTS = {
  maxBodyBytes: 1024 * 1024,
  /** Vigil-signed deliveries: |now − X-Vigil-Timestamp| must be within this. */
  toleranceSeconds: 300,
  /** GitHub pushes: the push (repository.pushed_at) must be at most this old. */
  gitMaxAgeSeconds: 3600,
} as const;

/** A secret left unset disables its route (404). Values are never logged. */
export interface WebhookSecrets {
  github?: string;
  gitlab?: string;
  dataRefresh?: string;
  release?: string;
}

/** The webhook routes' dependencies; the optional ones default to in-memory implementations. */
export interface WebhookDeps {
  config: WebhookConfig;
  secrets: WebhookSecrets;
  resolver: ArtifactResolver;
  ledger?: DeliveryLedger;
  queue?: ReleaseQueue;
  superseder?: ReleaseSuperseder;
  limits?: Partial<{ maxBodyBytes: number; toleranceSeconds: number; gitMaxAgeSeconds: number }>;
  /** The evidence bucket, to check `s3://` dataset URIs against. */
  evidenceBucket?: string;
  now?: () => number;
}

/** Which route a delivery came in on (logged, and named in supersede reasons). */
export type Source = 'github' | 'gitlab' | 'data-refresh' | 'release';

/** The resolved state the route modules work with. */
export interface WebhookContext {
  deps: WebhookDeps;
  client: TemporalPort;
  log: Logger;
  limits: { maxBodyBytes: number; toleranceSeconds: number; gitMaxAgeSeconds: number };
  ledger: DeliveryLedger;
  queue: ReleaseQueue;
  superseder: ReleaseSuperseder;
  now: () => number;
  /** The configured models by name. */
  models: Map<string, ModelWebhookConfig>;
  /** Refuses bodies over `limits.maxBodyBytes` (413). */
  limitBody: MiddlewareHandler;
}

/** Defaults filled in, once per app. */
export function createWebhookContext(deps: WebhookDeps, app: { client: TemporalPort; log: Logger }): WebhookContext {
  const limits = { ...WEBHOOK_DEFAULTS, ...deps.limits };
  return {
    deps,
    client: app.client,
    log: app.log,
    limits,
    ledger: deps.ledger ?? new InMemoryDeliveryLedger(),
    queue: deps.queue ?? new InMemoryReleaseQueue(),
    superseder: deps.superseder ?? unsupportedSuperseder,
    now: deps.now ?? Date.now,
    models: new Map(deps.config.models.map((m) => [m.model, m])),
    limitBody: bodyLimit({
      maxSize: limits.maxBodyBytes,
      onError: () => {
        throw new ApiError(413, `request body exceeds ${limits.maxBodyBytes} bytes`);
      },
    }),
  };
}

/** A delivery seen before answers with the outcome recorded the first time, and starts nothing. */
export function duplicate(c: Context, deliveryId: string, entry: LedgerEntry): Response {
  return c.json({ duplicate: true, deliveryId, releaseId: entry.releaseId, outcome: entry.outcome }, 202);
}
