/** Sign-in and sign-out pages, with the address rate limit, the account lock-out and the auth audit log. */
import type { Context, Hono } from 'hono';
import { deleteCookie, setCookie } from 'hono/cookie';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Session } from '../auth';
import type { UiDeps, UiEnv } from './deps';
import { str, type UiKit } from './kit';
import { loginPage } from './views';

/** GET/POST /login and POST /logout. */
export function registerAuthRoutes(ui: Hono<UiEnv>, deps: UiDeps, kit: UiKit): void {
  ui.get('/login', (c) => {
    if (c.get('user')) return c.redirect('/ui/inbox', 303);
    return c.html(loginPage({ next: safeNext(c.req.query('next')), usersConfigured: deps.usersConfigured }));
  });

  ui.post('/login', kit.limit, (c) => login(c, deps, kit));

  ui.post('/logout', kit.limit, async (c) => {
    const ended = await endSession(c, deps, kit);
    return ended instanceof Response ? ended : c.redirect('/ui/login', 303);
  });
}

/**
 * POST /logout's own part, whatever the sign-in: with a session and a valid CSRF token, the session is destroyed,
 * its cookie cleared and the sign-out audited (with `detail`). Returns the ended session, or the response to send
 * instead (no session: to the sign-in page; a bad token: refused).
 */
export async function endSession(
  c: Context<UiEnv>,
  deps: UiDeps,
  kit: UiKit,
  detail?: Record<string, unknown>,
): Promise<Session | Response> {
  const form = await c.req.parseBody();
  const session = c.get('session');
  if (!session) return c.redirect('/ui/login', 303);
  if (!kit.csrfOk(c, form)) return kit.csrfRefused(c);
  await deps.sessions.destroy(session.id);
  deleteCookie(c, kit.cookieName, { path: '/', secure: deps.secureCookies });
  void kit.audit(c, 'logout', session.userId, detail);
  return session;
}

async function login(c: Context<UiEnv>, deps: UiDeps, kit: UiKit): Promise<Response> {
  const form = await c.req.parseBody();
  const username = str(form.username).trim();
  const password = str(form.password);
  const next = safeNext(str(form.next));
  const page = (error: string, status: ContentfulStatusCode) =>
    c.html(loginPage({ error, next, username, usersConfigured: deps.usersConfigured }), status);
  if (!(await deps.throttle.allowAttempt(kit.addr(c)))) {
    void kit.audit(c, 'login.rate_limited', username || null);
    c.header('Retry-After', '300');
    return page('Too many sign-in attempts from your address. Wait a few minutes and try again.', 429);
  }
  const lockedMs = await deps.throttle.lockedFor(username);
  if (lockedMs > 0) {
    void kit.audit(c, 'login.locked', username || null);
    c.header('Retry-After', String(Math.ceil(lockedMs / 1000)));
    return page(
      `This account is locked after repeated failed sign-ins. Try again in ${Math.ceil(lockedMs / 60_000)} minute(s).`,
      429,
    );
  }
  const identity = username && password ? await deps.identities.authenticate(username, password) : null;
  if (!identity) {
    const locked = await deps.throttle.fail(username);
    void kit.audit(c, 'login.failure', username || null, { locked });
    return page(
      locked
        ? 'Unknown user id or wrong password. The account is now locked for a while.'
        : 'Unknown user id or wrong password.',
      401,
    );
  }
  await deps.throttle.succeed(username);
  const old = c.get('session');
  if (old) await deps.sessions.destroy(old.id);
  const session = await deps.sessions.create(identity);
  setCookie(c, kit.cookieName, session.id, {
    httpOnly: true,
    sameSite: 'Strict',
    secure: deps.secureCookies,
    path: '/',
  });
  void kit.audit(c, 'login.success', identity.id);
  return c.redirect(next, 303);
}

/** Only same-site UI paths may be redirect targets after login (no open redirect). */
function safeNext(next: string | undefined): string {
  if (!next || !next.startsWith('/ui/') || next.startsWith('//') || next.includes('\\')) return '/ui/inbox';
  return next;
}
