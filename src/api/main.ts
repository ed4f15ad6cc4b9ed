/**
 * API process: config → Temporal connection → client → HTTP server. Wiring only; routes live in app.ts.
 */
import { serve } from '@hono/node-server';
import { Client, Connection } from '@temporalio/client';
import { DevKeyError } from '../attestation';
import { UsersFileError } from '../auth';
import { createCodecRoutes, payloadDataConverter } from '../codec';
import { ConfigError, loadConfig } from '../config';
import { createLogger } from '../logging/logger';
import { createS3Client, EvidenceStore } from '../evidence';
import { uiDepsFromConfig } from '../ui';
import { createApp } from './app';
import { openSharedState } from './shared-state';
import { TemporalReleaseQueue } from '../services/release-queue';
import { evidenceArtifactResolver, temporalSuperseder, webhookDepsFromConfig, WebhookConfigError } from './webhooks';

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger('vigil-api', config.logLevel);
  // Lazy: the API comes up (and /healthz says 503) while Temporal is still starting.
  const connection = Connection.lazy({ address: config.temporal.address });
  const dataConverter = payloadDataConverter(config.payloadCodec);
  const client = new Client({
    connection,
    namespace: config.temporal.namespace,
    ...(dataConverter ? { dataConverter } : {}),
  });
  const evidence = new EvidenceStore({
    s3: createS3Client(config.s3),
    bucket: config.s3.bucket,
    retention: config.retention,
  });
  // Several replicas share sessions, login limits, used ID tokens, the delivery ledger and the auth log in PostgreSQL.
  const shared = config.stateDatabaseUrl
    ? await openSharedState(config.stateDatabaseUrl, { log, ledgerTtlMs: config.webhooks.ledgerTtlSeconds * 1000 })
    : null;
  const webhooks = await webhookDepsFromConfig(config, {
    resolver: evidenceArtifactResolver(evidence),
    superseder: temporalSuperseder(client),
    queue: new TemporalReleaseQueue(client),
    ...(shared ? { ledger: shared.ledger } : {}),
    log,
  });
  const ui = uiDepsFromConfig(config, {
    client,
    evidence,
    log,
    ...(shared
      ? { sessions: shared.sessions, throttle: shared.throttle, audit: shared.audit, usedTokens: shared.usedTokens }
      : {}),
  });
  const codecRoutes =
    dataConverter && config.payloadCodec
      ? createCodecRoutes(dataConverter.payloadCodecs[0]!, {
          origins: config.payloadCodec.corsOrigins,
          token: config.api.token,
        })
      : undefined;
  const app = createApp({
    client,
    config,
    log,
    ui,
    ...(webhooks ? { webhooks } : {}),
    ...(codecRoutes ? { codecRoutes } : {}),
  });

  if (config.api.token === undefined && !isLoopback(config.api.host)) {
    log.warn(
      { host: config.api.host },
      'api listening beyond loopback without VIGIL_API_TOKEN: anyone who can reach it may start and approve releases',
    );
  }

  const server = serve({ fetch: app.fetch, hostname: config.api.host, port: config.api.port }, (info) => {
    log.info(
      {
        host: info.address,
        port: info.port,
        temporal: config.temporal.address,
        namespace: config.temporal.namespace,
        auth: config.api.token !== undefined,
        sharedState: shared ? 'postgresql' : 'memory',
      },
      'vigil api listening',
    );
  });
  server.on('error', (err) => {
    log.fatal({ err }, 'api server failed');
    process.exit(1);
  });

  let stopping = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'vigil api shutting down');
    // Force exit if in-flight requests (e.g. an approval waiting on the workflow) do not finish in time.
    setTimeout(() => {
      log.warn({}, 'shutdown timed out; exiting');
      process.exit(1);
    }, 10_000).unref();
    server.close(() => {
      Promise.all([connection.close(), shared?.close()])
        .catch((err: unknown) => log.warn({ err }, 'closing connections failed'))
        .finally(() => process.exit(0));
    });
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

main().catch((err: unknown) => {
  if (
    err instanceof ConfigError ||
    err instanceof WebhookConfigError ||
    err instanceof UsersFileError ||
    err instanceof DevKeyError
  ) {
    process.stderr.write(`vigil-api: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`vigil-api: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
