/** The UI's middleware: security headers, the session from its cookie, and the same-origin check on POSTs. */
import type { Hono } from 'hono';
import { getCookie } from 'hono/cookie';
import type { UiDeps, UiEnv } from './deps';
import type { UiKit } from './kit';
import { errorPage } from './views';

/** Registers the middleware; call before any route. */
export function registerUiMiddleware(ui: Hono<UiEnv>, deps: UiDeps, kit: UiKit): void {
  ui.use('*', async (c, next) => {
    await next();
    c.header(
      'Content-Security-Policy',
      "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    c.header('X-Content-Type-Options', 'nosniff');
    // same-origin, not no-referrer: under no-referrer Chromium sends "Origin: null" on form POSTs, which the origin check refuses.
    c.header('Referrer-Policy', 'same-origin');
    c.header('X-Frame-Options', 'DENY');
    if (!c.res.headers.has('Cache-Control')) c.header('Cache-Control', 'no-store');
  });

  ui.use('*', async (c, next) => {
    const { session, expired } = await deps.sessions.get(getCookie(c, kit.cookieName));
    if (expired) void kit.audit(c, 'session.expired', null);
    // Under OIDC the session's own snapshot of who signed in is the identity: it is in the shared store, so every
    // replica resolves it. With a users file, the file decides (a disabled or removed account stops at once).
    const user = !session
      ? null
      : deps.oidc && session.identity
        ? session.identity
        : deps.identities.lookup(session.userId);
    if (session && !user) await deps.sessions.destroy(session.id);
    c.set('session', user ? session : null);
    c.set('user', user);
    await next();
  });

  ui.use('*', async (c, next) => {
    if (c.req.method !== 'POST') return next();
    // Defence in depth beside SameSite=Strict and the CSRF token: a cross-site browser POST is refused outright.
    const origin = c.req.header('origin');
    const site = c.req.header('sec-fetch-site');
    const host = c.req.header('host');
    const crossOrigin = origin !== undefined && (origin === 'null' || safeHost(origin) !== host);
    if (crossOrigin || site === 'cross-site') {
      void kit.audit(c, 'csrf.rejected', c.get('user')?.id ?? null, { path: c.req.path, origin: origin ?? null });
      return c.html(errorPage(kit.ctxOf(c), 'Request refused', 'cross-site request refused'), 403);
    }
    return next();
  });
}

function safeHost(origin: string): string | null {
  try {
    return new URL(origin).host;
  } catch {
    return null;
  }
}
