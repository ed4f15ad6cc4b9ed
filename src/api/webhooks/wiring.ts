import type { VigilConfig } from '../../config';
import type { Logger } from '../../logging/logger';
import { loadWebhookConfig, type WebhookConfig } from './config';
import { InMemoryDeliveryLedger, type DeliveryLedger } from './ledger';
import type { ReleaseQueue, ReleaseSuperseder } from './concurrency';
import type { ArtifactResolver } from './resolver';
import type { WebhookDeps } from './routes';

/**
 * From VigilConfig to WebhookDeps, once at API start: undefined when no webhook secret is set (no
 * /webhooks routes). The mapping file is read and validated here, so a bad file fails the start.
 */
export async function webhookDepsFromConfig(
  config: Pick<VigilConfig, 'webhooks' | 's3'>,
  opts: {
    resolver: ArtifactResolver;
    superseder?: ReleaseSuperseder;
    queue?: ReleaseQueue;
    /** The replicas' shared ledger (src/api/shared-state.ts); default: in memory. */
    ledger?: DeliveryLedger;
    log: Logger;
  },
): Promise<WebhookDeps | undefined> {
  const w = config.webhooks;
  const enabled = Object.entries(w.secrets)
    .filter(([, v]) => v !== undefined)
    .map(([k]) => k);
  if (enabled.length === 0) return undefined;
  let mapping: WebhookConfig = { models: [] };
  if (w.configFile !== undefined) mapping = await loadWebhookConfig(w.configFile);
  else if (enabled.some((s) => s !== 'release')) {
    opts.log.warn(
      { sources: enabled },
      'webhook secrets set but VIGIL_WEBHOOK_CONFIG is not: git and data-refresh deliveries will be refused (422)',
    );
  }
  opts.log.info({ sources: enabled, models: mapping.models.map((m) => m.model) }, 'webhooks enabled');
  return {
    config: mapping,
    secrets: w.secrets,
    resolver: opts.resolver,
    ...(opts.superseder ? { superseder: opts.superseder } : {}),
    ...(opts.queue ? { queue: opts.queue } : {}),
    ledger: opts.ledger ?? new InMemoryDeliveryLedger({ maxEntries: 10_000, ttlMs: w.ledgerTtlSeconds * 1000 }),
    limits: {
      maxBodyBytes: w.maxBodyBytes,
      toleranceSeconds: w.toleranceSeconds,
      gitMaxAgeSeconds: w.gitMaxAgeSeconds,
    },
    evidenceBucket: config.s3.bucket,
  };
}
