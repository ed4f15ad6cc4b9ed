/**
 * The sign-off web UI, server-rendered (hono/html), no client-side script at all. Mounted at /ui.
 * The signer of every signature is the session's user, never a form field; signing re-checks the password.
 * Each route group lives in its own module; this one composes them in order (middleware first).
 */
import { Hono } from 'hono';
import { registerAdjudicationRoutes } from './adjudication';
import { registerAuthRoutes } from './auth-routes';
import { registerOidcRoutes } from './oidc-routes';
import { registerDossierRoutes } from './dossier-routes';
import type { UiDeps, UiEnv } from './deps';
import { createUiKit, UiPageError, type UiKit } from './kit';
import { registerUiMiddleware } from './middleware';
import { registerReleaseRoutes } from './release-routes';
import { registerSignRoutes } from './sign-routes';
import { APP_CSS } from './style';
import { registerTimelineRoutes } from './timeline-routes';
import { errorPage } from './views';
import { StateUnavailableError } from '../state';

export type { UiDeps } from './deps';

/** The UI's hono app: middleware, then the route groups, then the not-found and error pages. */
export function createUiRoutes(deps: UiDeps): Hono<UiEnv> {
  const ui = new Hono<UiEnv>();
  const kit = createUiKit(deps);
  registerUiMiddleware(ui, deps, kit);
  registerAssetRoutes(ui, deps);
  // Under OIDC, sign-in and signing go through the provider (./oidc-routes.ts, registered first: same paths).
  if (deps.oidc) registerOidcRoutes(ui, deps, kit, deps.oidc);
  registerAuthRoutes(ui, deps, kit);
  registerReleaseRoutes(ui, deps, kit);
  registerSignRoutes(ui, deps, kit);
  registerDossierRoutes(ui, deps, kit);
  registerTimelineRoutes(ui, deps, kit);
  // Clinical adjudication of shadow disagreements (./adjudication.ts).
  registerAdjudicationRoutes(ui, deps, kit);
  registerErrorPages(ui, deps, kit);
  return ui;
}

/** The stylesheet, the system key's public half, and the UI root (which leads to the inbox). */
function registerAssetRoutes(ui: Hono<UiEnv>, deps: UiDeps): void {
  ui.get('/assets/app.css', (c) => {
    c.header('Cache-Control', 'public, max-age=300');
    return c.body(APP_CSS, 200, { 'Content-Type': 'text/css; charset=utf-8' });
  });

  ui.get('/system-key.pem', (c) => {
    if (!deps.systemKeyPem) return c.text('no system key configured', 404);
    return c.body(deps.systemKeyPem, 200, { 'Content-Type': 'application/x-pem-file' });
  });

  // The UI's entry points all lead to the inbox (which asks for a login first).
  ui.get('/', (c) => c.redirect('/ui/inbox', 303));
}

function registerErrorPages(ui: Hono<UiEnv>, deps: UiDeps, kit: UiKit): void {
  ui.notFound((c) => c.html(errorPage(kit.ctxOf(c), 'Not found', `no page at ${c.req.path}`), 404));

  ui.onError((err, c) => {
    if (err instanceof UiPageError) return c.html(errorPage(kit.ctxOf(c), err.title, err.message), err.status);
    if (err instanceof StateUnavailableError) {
      deps.log.warn({ err: String(err.cause), path: c.req.path }, 'ui: shared-state database unavailable');
      return c.html(errorPage(kit.ctxOf(c), 'Try again shortly', 'the sign-in database is unavailable'), 503);
    }
    deps.log.error({ err, path: c.req.path }, 'ui request failed');
    return c.html(
      errorPage(kit.ctxOf(c), 'Something went wrong', 'internal error; the details are in the server log'),
      500,
    );
  });
}
