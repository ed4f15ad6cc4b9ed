import { Hono } from 'hono';
import type { Logger } from '../../logging/logger';
import type { TemporalPort } from '../temporal-port';
import { createWebhookContext, type WebhookDeps } from './context';
import { registerDataRefreshRoute } from './data-refresh';
import { registerGitHubRoute } from './github';
import { registerGitLabRoute } from './gitlab';
import { registerReleaseRoute } from './release-hook';

export { WEBHOOK_DEFAULTS, type WebhookDeps, type WebhookSecrets } from './context';

/**
 * POST /webhooks/{github,gitlab,data-refresh,release}. Checks, in order: content type (415), size
 * (413), signature or token (401), delivery headers (400), freshness (401 "stale delivery"), JSON
 * (400 with the parser's reason), schema (400 with field issues), duplicate delivery (202), the
 * model mapping and candidate artifact (422), then the start. Every refusal starts nothing.
 * A route whose secret is unset is not registered (404).
 */
export function createWebhookRoutes(deps: WebhookDeps, app: { client: TemporalPort; log: Logger }): Hono {
  const ctx = createWebhookContext(deps, app);
  const hooks = new Hono();
  if (deps.secrets.github) registerGitHubRoute(hooks, ctx, deps.secrets.github);
  if (deps.secrets.gitlab) registerGitLabRoute(hooks, ctx, deps.secrets.gitlab);
  if (deps.secrets.dataRefresh) registerDataRefreshRoute(hooks, ctx, deps.secrets.dataRefresh);
  if (deps.secrets.release) registerReleaseRoute(hooks, ctx, deps.secrets.release);
  return hooks;
}
