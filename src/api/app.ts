import { Hono } from 'hono';
import type { VigilConfig } from '../config';
import type { Logger } from '../logging/logger';
import { createUiRoutes, type UiDeps } from '../ui/routes';
import { registerAccountRoutes } from './account-routes';
import { apiErrorHandler, requireToken, withTimeout } from './http';
import { registerReleaseRoutes } from './release-routes';
import type { SignatureRouteDeps } from './esignature-routes';
import type { TemporalPort } from './temporal-port';
import { createWebhookRoutes, type WebhookDeps } from './webhooks';

export { MAX_BODY_BYTES } from './http';
export { LIST_LIMIT } from './release-routes';

const HEALTH_TIMEOUT_MS = 2000;

export interface AppDeps {
  client: TemporalPort;
  config: Pick<VigilConfig, 'api'>;
  log: Logger;
  /** Mounts /webhooks/* when given (see src/api/webhooks). */
  webhooks?: WebhookDeps;
  /** Mounts the codec server (/codec/encode, /codec/decode) when payload encryption is configured (src/codec). */
  codecRoutes?: Hono;
  /** Mounts the sign-off web UI at /ui/* when given (see src/ui). */
  ui?: UiDeps;
  /**
   * Accounts for POST /api/releases/:id/signatures (the CLI's sign-off); defaults to the UI's, so both share
   * the users file, lockout and auth audit log. Without either, that route answers 503.
   */
  signing?: SignatureRouteDeps;
}

/** The HTTP app: /healthz, the token-guarded JSON API at /api, and the optional codec, webhooks and web UI. */
export function createApp({ client, config, log, webhooks, ui, codecRoutes, signing = ui }: AppDeps): Hono {
  const app = new Hono();
  app.onError(apiErrorHandler(log));
  app.notFound((c) => c.json({ error: `no route for ${c.req.method} ${c.req.path}` }, 404));

  app.get('/healthz', async (c) => {
    try {
      await withTimeout(client.workflowService.getSystemInfo({}), HEALTH_TIMEOUT_MS);
      return c.json({ ok: true });
    } catch (err) {
      log.warn({ err: String(err) }, 'health check: temporal unreachable');
      return c.json({ ok: false, error: 'temporal unreachable' }, 503);
    }
  });

  const api = new Hono();
  api.use('*', requireToken(config.api.token));
  registerReleaseRoutes(api, { client, log });
  registerAccountRoutes(api, signing);
  app.route('/api', api);

  if (codecRoutes) app.route('/codec', codecRoutes);
  if (webhooks) app.route('/webhooks', createWebhookRoutes(webhooks, { client, log }));
  if (ui) {
    app.route('/ui', createUiRoutes(ui));
    app.get('/', (c) => c.redirect('/ui/inbox', 303));
    app.get('/ui/', (c) => c.redirect('/ui/inbox', 303));
  }
  return app;
}
