/**
 * Signing in, and re-authenticating at each signature, through the organisation's OpenID provider (docs/sso.md).
 * Registered before the password routes when OIDC is configured, so /ui/login and the sign form go to the provider:
 *
 * - GET /ui/oidc/login: authorization code + PKCE, state and nonce; back at GET /ui/oidc/callback a session starts.
 * - POST /ui/releases/:id/sign: the form is checked, then the browser goes to the provider with prompt=login and
 *   max_age; at the callback the new authentication must be newer than the request, within max_age, by the same
 *   subject, with the amr/acr the policy asks for; only then is the signature submitted, carrying the issuer,
 *   subject, auth_time, acr/amr and the ID token's SHA-256 (never the token).
 *
 * The round trip's state lives in a sealed cookie (src/auth/oidc/login-state.ts), so any replica can finish it.
 * Who is signed in (with their provider subject) is the session's identity snapshot in the shared session store.
 * The callback is a cross-site navigation (the session cookie is SameSite=Strict and not sent): the signing
 * callback identifies the session from the sealed state and proves the person by the fresh ID token's subject.
 */
import type { Context, Hono } from 'hono';
import { html } from 'hono/html';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import {
  authenticationRecord,
  identityFromClaims,
  openLoginState,
  OidcRefusal,
  sealLoginState,
  signingRefusal,
  LOGIN_STATE_TTL_SECONDS,
  type SealedLogin,
  type VerifiedAuthentication,
} from '../auth/oidc';
import { RoleSchema } from '../domain';
import { endSession } from './auth-routes';
import type { UiDeps, UiEnv } from './deps';
import { str, type UiKit } from './kit';
import { approvalInput, checkSignForm, refusalPage, submitAndShow, type SignValues } from './sign-routes';
import { errorPage, layout, loginPage } from './views';

const STATE_COOKIE = 'vigil_oidc';
type Oidc = NonNullable<UiDeps['oidc']>;

/** The OIDC routes; call before the password sign-in and sign routes (same paths, registered first). */
export function registerOidcRoutes(ui: Hono<UiEnv>, deps: UiDeps, kit: UiKit, oidc: Oidc): void {
  const sso = oidc.identities.signInWith;
  ui.get('/login', (c) => {
    if (c.get('user')) return c.redirect('/ui/inbox', 303);
    return c.html(loginPage({ next: safeNext(c.req.query('next')), usersConfigured: true, sso }));
  });
  ui.post('/login', kit.limit, (c) =>
    c.html(
      loginPage({ usersConfigured: true, sso, error: `Sign in through ${sso}; there are no passwords here.` }),
      400,
    ),
  );

  ui.get('/oidc/login', async (c) => {
    const request = await providerRequest(oidc, 'login');
    if (request instanceof OidcRefusal) return unavailable(c, kit, request);
    const { url, pending } = request;
    await setState(c, deps, oidc, { ...pending, next: safeNext(c.req.query('next')) });
    return c.redirect(url.toString(), 303);
  });

  ui.get('/oidc/callback', (c) => callback(c, deps, kit, oidc));

  // Signing out of Vigil ends the provider's session too, or "Sign in" would sign the same person in silently.
  ui.post('/logout', kit.limit, async (c) => {
    const session = await endSession(c, deps, kit, { channel: 'oidc' });
    if (session instanceof Response) return session;
    let end: URL | null = null;
    try {
      end = await oidc.client.endSessionUrl();
    } catch (err) {
      if (!(err instanceof OidcRefusal)) throw err;
      deps.log.warn({ user: session.userId, reason: err.reason }, 'oidc: provider unreachable at sign-out');
    }
    if (!end) return c.html(signedOutPage(sso, false), 200);
    deps.log.info({ user: session.userId }, 'oidc: signed out; ending the provider session');
    // A page, not a 303: the form's CSP (form-action 'self') would block redirecting the submission off-site.
    return c.html(signedOutPage(sso, true, end.toString()), 200);
  });

  ui.post('/releases/:id/sign', kit.limit, async (c) => {
    const user = c.get('user');
    const session = c.get('session');
    if (!user || !session) return kit.unauthenticated(c);
    const form = await c.req.parseBody();
    if (!kit.csrfOk(c, form)) return kit.csrfRefused(c);
    const checked = await checkSignForm(c, deps, kit, user, form);
    if (checked instanceof Response) return checked;
    const { releaseId, values, role, refuse } = checked;
    const dossierSha256 = str(form.dossierSha256);
    // Everything the person typed is checked before the trip, so a typo never costs a re-authentication.
    const parsed = approvalInput(user, role, values, dossierSha256);
    if ('status' in parsed) return refuse(parsed.status, parsed.message);
    const request = await providerRequest(oidc, 'sign', user.id);
    if (request instanceof OidcRefusal) return unavailable(c, kit, request);
    const { url, pending } = request;
    await setState(c, deps, oidc, {
      ...pending,
      sign: { sessionId: session.id, userId: user.id, releaseId, values: { ...values, dossierSha256 } },
    });
    // Not a 303: the form's CSP (form-action 'self') would block a redirect of the submission to the provider.
    return c.html(reauthPage(kit, c, oidc.identities.signInWith, url.toString()), 200);
  });
}

/** The provider request, or the refusal when its discovery failed (unreachable, misconfigured). */
async function providerRequest(oidc: Oidc, purpose: 'login' | 'sign', hint?: string) {
  try {
    return await oidc.client.authorizationRequest(purpose, hint);
  } catch (err) {
    if (err instanceof OidcRefusal) return err;
    throw err;
  }
}

function unavailable(c: Context<UiEnv>, kit: UiKit, err: OidcRefusal): Response | Promise<Response> {
  return c.html(errorPage(kit.ctxOf(c), 'Identity provider unavailable', `${err.message}; nothing was signed`), 503);
}

async function setState(c: Context<UiEnv>, deps: UiDeps, oidc: Oidc, state: SealedLogin): Promise<void> {
  // Lax, not Strict: the provider's redirect back is a cross-site top-level GET, which must carry it.
  setCookie(c, STATE_COOKIE, await sealLoginState(oidc.client.settings.stateKey, state), {
    httpOnly: true,
    sameSite: 'Lax',
    secure: deps.secureCookies,
    path: '/ui/oidc',
    maxAge: LOGIN_STATE_TTL_SECONDS,
  });
}

async function callback(c: Context<UiEnv>, deps: UiDeps, kit: UiKit, oidc: Oidc): Promise<Response> {
  const state = await openLoginState(oidc.client.settings.stateKey, getCookie(c, STATE_COOKIE));
  // One use: whatever happens next, this round trip is over.
  deleteCookie(c, STATE_COOKIE, { path: '/ui/oidc', secure: deps.secureCookies });
  const fail = (status: ContentfulStatusCode, message: string, reason: string, user: string | null = null) => {
    void kit.audit(c, state?.sign ? 'reauth.failure' : 'login.failure', user, { channel: 'oidc', reason });
    deps.log.warn({ user, reason, purpose: state?.sign ? 'sign' : 'login' }, 'oidc: sign-in refused');
    return c.html(errorPage(kit.ctxOf(c), state?.sign ? 'Signature refused' : 'Sign-in refused', message), status);
  };
  if (!state) {
    return fail(
      400,
      'This sign-in is unknown, has expired or was already used (state not found). Start again from Vigil.',
      'state-missing',
    );
  }
  let verified: VerifiedAuthentication;
  try {
    // The registered redirect URI plus this request's query: behind a proxy, c.req.url may name an internal host.
    const current = new URL(oidc.client.settings.redirectUri);
    current.search = new URL(c.req.url).search;
    verified = await oidc.client.complete(current, state);
  } catch (err) {
    if (err instanceof OidcRefusal) return fail(401, err.message, err.reason, state.sign?.userId ?? null);
    throw err;
  }
  return state.sign
    ? completeSigning(c, deps, kit, oidc, state, verified, fail)
    : completeLogin(c, deps, kit, oidc, state, verified, fail);
}

type Fail = (
  status: ContentfulStatusCode,
  message: string,
  reason: string,
  user?: string | null,
) => Response | Promise<Response>;

async function completeLogin(
  c: Context<UiEnv>,
  deps: UiDeps,
  kit: UiKit,
  oidc: Oidc,
  state: SealedLogin,
  verified: VerifiedAuthentication,
  fail: Fail,
): Promise<Response> {
  const mapped = identityFromClaims(oidc.client.settings, verified.claims);
  if ('refusal' in mapped) return fail(403, mapped.refusal, 'no-role');
  try {
    oidc.identities.remember(mapped.identity, { issuer: verified.issuer, subject: verified.subject });
  } catch (err) {
    return fail(403, (err as Error).message, 'subject-conflict', mapped.identity.id);
  }
  const old = c.get('session');
  if (old) await deps.sessions.destroy(old.id);
  // The session keeps who signed in, with their provider subject: any replica resolves it from the shared store.
  const session = await deps.sessions.create({
    ...mapped.identity,
    provider: { issuer: verified.issuer, subject: verified.subject },
  });
  setCookie(c, kit.cookieName, session.id, {
    httpOnly: true,
    sameSite: 'Strict',
    secure: deps.secureCookies,
    path: '/',
  });
  deps.log.info({ user: mapped.identity.id, issuer: verified.issuer, subject: verified.subject }, 'oidc: signed in');
  void kit.audit(c, 'login.success', mapped.identity.id, {
    channel: 'oidc',
    issuer: verified.issuer,
    subject: verified.subject,
    authTime: verified.authTime,
    amr: verified.amr,
  });
  // A same-site hop: the Strict session cookie is not sent on the rest of this cross-site redirect chain.
  return c.html(continuePage(safeNext(state.next)), 200);
}

async function completeSigning(
  c: Context<UiEnv>,
  deps: UiDeps,
  kit: UiKit,
  oidc: Oidc,
  state: SealedLogin,
  verified: VerifiedAuthentication,
  fail: Fail,
): Promise<Response> {
  const intent = state.sign!;
  const { session } = await deps.sessions.get(intent.sessionId);
  const user =
    session && session.userId === intent.userId ? (session.identity ?? oidc.identities.lookup(intent.userId)) : null;
  if (!session || !user)
    return fail(
      401,
      'Your Vigil session ended before the signature; sign in and sign again.',
      'session',
      intent.userId,
    );
  c.set('session', session);
  c.set('user', user);
  const values: SignValues = intent.values;
  const refuse = refusalPage(c, deps, kit, user, intent.releaseId, values);
  const known = user.provider ?? oidc.identities.subjectOf(user.id);
  if (!known || known.issuer !== verified.issuer || known.subject !== verified.subject) {
    void kit.audit(c, 'reauth.failure', user.id, { channel: 'oidc', reason: 'subject', releaseId: intent.releaseId });
    return refuse(
      401,
      `the person who signed in again at the identity provider is not ${user.id}; the signature was not submitted`,
    );
  }
  const settings = oidc.client.settings;
  const stale = signingRefusal(settings, verified, Math.floor(Date.now() / 1000), state.requestedAt);
  if (stale) {
    deps.log.warn(
      { user: user.id, releaseId: intent.releaseId, authTime: verified.authTime },
      'oidc: stale re-authentication',
    );
    void kit.audit(c, 'reauth.failure', user.id, {
      channel: 'oidc',
      reason: 'policy',
      releaseId: intent.releaseId,
      authTime: verified.authTime,
      amr: verified.amr,
    });
    return refuse(401, stale);
  }
  // Roles as the provider says now (a person removed from the QA group since sign-in no longer signs as QA).
  const now = identityFromClaims(settings, verified.claims);
  if ('refusal' in now) return refuse(403, now.refusal);
  oidc.identities.remember(now.identity, { issuer: verified.issuer, subject: verified.subject });
  // The session shows the roles as of this authentication from now on, on every replica.
  await deps.sessions.updateIdentity(session.id, {
    ...now.identity,
    provider: { issuer: verified.issuer, subject: verified.subject },
  });
  const role = RoleSchema.parse(values.role);
  if (!now.identity.roles.includes(role))
    return refuse(403, `you (${user.id}) no longer hold the role ${role} at the identity provider`);
  void kit.audit(c, 'reauth.success', user.id, {
    channel: 'oidc',
    releaseId: intent.releaseId,
    authTime: verified.authTime,
    amr: verified.amr,
    acr: verified.acr,
  });
  const parsed = approvalInput(now.identity, role, values, intent.values.dossierSha256);
  if ('status' in parsed) return refuse(parsed.status, parsed.message);
  const input = { ...parsed, authentication: authenticationRecord(verified, settings) };
  return submitAndShow(c, deps, kit, user, intent.releaseId, input, refuse, {
    idTokenSha256: input.authentication.idTokenSha256,
  });
}

/** Between the sign form and the provider: a navigation (not a form redirect) to the re-authentication. */
function reauthPage(kit: UiKit, c: Context<UiEnv>, sso: string, url: string) {
  return layout(
    'Sign in again to sign',
    kit.ctxOf(c),
    html`<meta http-equiv="refresh" content="0;url=${url}">
<h1>Sign in again to sign</h1><p>Your signature needs a fresh sign-in at ${sso} (21 CFR 11.200(a)).</p>
<p><a id="reauth-link" href="${url}">Continue to ${sso}</a></p>`,
  );
}

/**
 * After signing out: on to the provider's end-session endpoint when it has one; otherwise say that the provider's
 * session may still be live (its own sign-out ends it).
 */
function signedOutPage(sso: string, ending: boolean, url?: string) {
  return ending
    ? layout(
        'Signing out',
        { user: null, csrf: null },
        html`<meta http-equiv="refresh" content="0;url=${url}">
<h1>Signed out of Vigil</h1><p>Now signing you out of ${sso} as well.</p>
<p><a id="end-session" href="${url}">Sign out of ${sso}</a></p>`,
      )
    : layout(
        'Signed out',
        { user: null, csrf: null },
        html`<h1>Signed out of Vigil</h1>
<p>${sso} could not be asked to end your session there; sign out at ${sso} too on a shared computer.</p>
<p><a href="/ui/login">Sign in again</a></p>`,
      );
}

/** The page after a sign-in: a same-site refresh to where the person was going (no script: CSP forbids it). */
function continuePage(next: string) {
  return layout(
    'Signed in',
    { user: null, csrf: null },
    html`<meta http-equiv="refresh" content="0;url=${next}">
<h1>Signed in</h1><p><a id="continue" href="${next}">Continue</a></p>`,
  );
}

/** Only same-site UI paths may be redirect targets after login (no open redirect). */
function safeNext(next: string | undefined): string {
  if (!next || !next.startsWith('/ui/') || next.startsWith('//') || next.includes('\\')) return '/ui/inbox';
  return next;
}
