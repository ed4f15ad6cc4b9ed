/**
 * A real OpenID provider for tests: `oidc-provider` (certified OP) on a free loopback port, with test users and
 * their groups, auth_time on every ID token, amr/acr from how the user logged in (password, or password + one-time
 * code), prompt=login / max_age honoured, the device authorization grant, key rotation, and knobs to make it
 * misbehave (a back-dated auth_time, a short ID token lifetime).
 *
 * The login page is our own small form (the interaction API), so a test or a browser can sign in as any user.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import Provider, { type Configuration } from 'oidc-provider';

export interface TestUser {
  /** The provider's subject (sub). */
  sub: string;
  username: string;
  name: string;
  email?: string;
  groups: string[];
  password: string;
  /** When set, logging in with this one-time code adds amr "mfa" and acr LOA2. */
  otp?: string;
}

export interface TestClient {
  client_id: string;
  client_secret?: string;
  redirect_uris?: string[];
  /** Where the provider may send the browser after RP-initiated logout (web clients). */
  post_logout_redirect_uris?: string[];
  /** 'code' (web) or 'device' (public, device authorization grant). */
  kind: 'code' | 'device';
}

export const ACR_PASSWORD = 'urn:vigil-test:loa:1';
export const ACR_MFA = 'urn:vigil-test:loa:2';

/** Knobs a test may turn while the provider runs. */
export interface Behaviour {
  /** auth_time is set this many seconds in the past at each login (a provider that reports an old login). */
  authTimeShiftSeconds: number;
  /** The next ID tokens live this long. */
  idTokenTtlSeconds: number;
  /**
   * A provider that ignores prompt=login and max_age: while it has a session it answers without asking, with the
   * session's original auth_time, amr and acr.
   */
  ignorePromptLogin: boolean;
}

export interface TestOp {
  issuer: string;
  behaviour: Behaviour;
  /** Logins completed through the form, in order (user, amr). */
  logins: { username: string; sub: string; amr: string[]; acr: string; authTime: number }[];
  /** A new signing key becomes current; the old one stays published (rotation without a cliff). */
  rotateKeys(): Promise<void>;
  /** Current key ids, newest first. */
  keyIds(): string[];
  /** The private signing keys (JWK), to start another issuer on the same keys. */
  signingKeys(): Jwk[];
  stop(): Promise<void>;
}

export type Jwk = Awaited<ReturnType<typeof exportJWK>> & { kid: string };

async function newKey(n: number): Promise<Jwk> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  return { ...(await exportJWK(privateKey)), kid: `test-key-${n}-${Date.now()}`, alg: 'RS256', use: 'sig' };
}

/** Starts the provider on 127.0.0.1 (a free port, retried if taken between pick and bind). */
export async function startTestOp(opts: {
  users: TestUser[];
  clients: TestClient[];
  /** Signing keys to start with (another TestOp's `signingKeys()`: one key set serving two issuers, as multi-tenant providers do). */
  keys?: Jwk[];
}): Promise<TestOp> {
  const users = new Map(opts.users.map((u) => [u.sub, u]));
  const byName = new Map(opts.users.map((u) => [u.username, u]));
  const behaviour: Behaviour = { authTimeShiftSeconds: 0, idTokenTtlSeconds: 600, ignorePromptLogin: false };
  const logins: TestOp['logins'] = [];
  let keys: Jwk[] = opts.keys ? [...opts.keys] : [await newKey(1)];
  let provider: Provider | null = null;

  const server = http.createServer((req, res) => {
    if (!provider) {
      res.statusCode = 503;
      res.end('starting');
      return;
    }
    if (req.url?.startsWith('/interaction/')) {
      void interaction(provider, req, res).catch((err: unknown) => {
        res.statusCode = 500;
        res.end(String(err));
      });
      return;
    }
    provider.callback()(req, res);
  });
  const port = await listen(server);
  const issuer = `http://127.0.0.1:${port}`;

  const build = (): Provider => {
    const configuration: Configuration = {
      clients: opts.clients.map((c) =>
        c.kind === 'code'
          ? {
              client_id: c.client_id,
              client_secret: c.client_secret,
              redirect_uris: c.redirect_uris ?? [],
              post_logout_redirect_uris: c.post_logout_redirect_uris ?? [],
              grant_types: ['authorization_code'],
              response_types: ['code'],
              token_endpoint_auth_method: 'client_secret_basic',
              require_auth_time: true,
            }
          : {
              client_id: c.client_id,
              grant_types: ['urn:ietf:params:oauth:grant-type:device_code'],
              response_types: [],
              redirect_uris: [],
              token_endpoint_auth_method: 'none',
              require_auth_time: true,
            },
      ),
      jwks: { keys: keys as never },
      acrValues: [ACR_PASSWORD, ACR_MFA],
      claims: {
        acr: null,
        amr: null,
        auth_time: null,
        sid: null,
        iss: null,
        // Like Okta and Keycloak, always say how and when the person authenticated.
        openid: ['sub', 'acr', 'amr', 'auth_time'],
        profile: ['name', 'preferred_username', 'groups'],
        email: ['email'],
      },
      scopes: ['openid', 'profile', 'email'],
      conformIdTokenClaims: false,
      features: { devInteractions: { enabled: false }, deviceFlow: { enabled: true } },
      interactions: { url: (_ctx, i) => `/interaction/${i.uid}` },
      pkce: { required: () => true },
      ttl: { IdToken: () => behaviour.idTokenTtlSeconds },
      cookies: { keys: ['test-cookie-key-0123456789abcdef'] },
      findAccount: (_ctx, sub) => {
        const u = users.get(sub);
        if (!u) return undefined;
        return {
          accountId: sub,
          claims: () => ({
            sub,
            name: u.name,
            preferred_username: u.username,
            groups: u.groups,
            ...(u.email ? { email: u.email } : {}),
          }),
        };
      },
      // First-party clients: grant what they ask for without a consent screen.
      loadExistingGrant: async (ctx) => {
        const grant = new ctx.oidc.provider.Grant({
          clientId: ctx.oidc.client!.clientId,
          accountId: ctx.oidc.session!.accountId!,
        });
        grant.addOIDCScope('openid profile email');
        grant.addOIDCClaims(['name', 'preferred_username', 'groups', 'email']);
        await grant.save();
        return grant;
      },
    };
    const p = new Provider(issuer, configuration);
    p.on('server_error', (_ctx, err) => console.error('test OP server_error', err));
    return p;
  };

  async function interaction(p: Provider, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const details = await p.interactionDetails(req, res);
    const last = [...logins].reverse().find((l) => l.sub === details.session?.accountId);
    if (req.method === 'GET' && behaviour.ignorePromptLogin && last) {
      await p.interactionFinished(
        req,
        res,
        { login: { accountId: last.sub, amr: last.amr, acr: last.acr, ts: last.authTime } },
        { mergeWithLastSubmission: false },
      );
      return;
    }
    if (req.method === 'GET') {
      res.setHeader('Content-Type', 'text/html; charset=utf-8');
      res.end(loginForm(details.uid, details.prompt.name, String(details.params.login_hint ?? '')));
      return;
    }
    const form = new URLSearchParams(await body(req));
    const u = byName.get(form.get('login') ?? '');
    if (!u || u.password !== form.get('password')) {
      res.statusCode = 401;
      res.setHeader('Content-Type', 'text/html; charset=utf-8');
      res.end(loginForm(details.uid, 'login', form.get('login') ?? '', 'wrong user name or password'));
      return;
    }
    const mfa = u.otp !== undefined && form.get('otp') === u.otp;
    const amr = mfa ? ['pwd', 'otp', 'mfa'] : ['pwd'];
    const ts = Math.floor(Date.now() / 1000) - behaviour.authTimeShiftSeconds;
    logins.push({ username: u.username, sub: u.sub, amr, acr: mfa ? ACR_MFA : ACR_PASSWORD, authTime: ts });
    await p.interactionFinished(
      req,
      res,
      { login: { accountId: u.sub, amr, acr: mfa ? ACR_MFA : ACR_PASSWORD, ts } },
      { mergeWithLastSubmission: false },
    );
  }

  provider = build();
  return {
    issuer,
    behaviour,
    logins,
    async rotateKeys() {
      keys = [await newKey(keys.length + 1), ...keys];
      provider = build();
    },
    keyIds: () => keys.map((k) => k.kid),
    signingKeys: () => [...keys],
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function loginForm(uid: string, prompt: string, login: string, error?: string): string {
  const esc = (s: string) => s.replace(/[&<>"]/g, (ch) => `&#${ch.charCodeAt(0)};`);
  return `<!doctype html><html><head><title>Test IdP sign-in</title></head><body>
<h1>Test identity provider</h1><p id="prompt">prompt: ${esc(prompt)}</p>
${error ? `<p role="alert" id="idp-error">${esc(error)}</p>` : ''}
<form method="post" action="/interaction/${esc(uid)}">
<label for="login">Username</label><input id="login" name="login" value="${esc(login)}">
<label for="password">Password</label><input id="password" name="password" type="password">
<label for="otp">One-time code</label><input id="otp" name="otp">
<button type="submit">Continue</button></form></body></html>`;
}

function body(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let s = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (s += d));
    req.on('end', () => resolve(s));
    req.on('error', reject);
  });
}

/** Listens on a free loopback port; port 0 lets the kernel pick, so there is no pick-then-bind race. */
function listen(server: http.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

/**
 * A person's user agent at the provider without a browser: keeps the provider's cookies across calls (so its
 * session persists, as in a browser) and follows redirects, stopping at `stopAt` (the relying party's callback).
 */
export class IdpAgent {
  private readonly jar = new Map<string, string>();

  async request(
    url: string,
    init: { method?: string; form?: Record<string, string>; stopAt?: string } = {},
  ): Promise<{ url: string; text: string; status: number }> {
    let target = url;
    let method = init.method ?? 'GET';
    let payload: string | undefined = init.form ? new URLSearchParams(init.form).toString() : undefined;
    for (let hop = 0; hop < 15; hop++) {
      if (init.stopAt && target.startsWith(init.stopAt)) return { url: target, text: '', status: 0 };
      const res = await fetch(target, {
        method,
        redirect: 'manual',
        headers: {
          cookie: [...this.jar].map(([k, v]) => `${k}=${v}`).join('; '),
          ...(payload ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        },
        body: payload,
      });
      for (const c of res.headers.getSetCookie()) {
        const [pair] = c.split(';');
        const eq = pair!.indexOf('=');
        this.jar.set(pair!.slice(0, eq), pair!.slice(eq + 1));
      }
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location) {
        target = new URL(location, target).toString();
        method = 'GET';
        payload = undefined;
        continue;
      }
      return { url: target, text: await res.text(), status: res.status };
    }
    throw new Error('too many redirects at the test provider');
  }

  /**
   * Follows an authorization URL; logs in as `user` if the provider asks (with `otp` for MFA). Returns the
   * callback URL the provider redirected to and whether a login form was shown.
   */
  async authorize(
    authorizationUrl: string,
    redirectUri: string,
    user: Pick<TestUser, 'username' | 'password'>,
    otp?: string,
  ): Promise<{ callback: URL; loginShown: boolean }> {
    const first = await this.request(authorizationUrl, { stopAt: redirectUri });
    if (first.status === 0) return { callback: new URL(first.url), loginShown: false };
    if (!first.url.includes('/interaction/'))
      throw new Error(`unexpected page at the provider: ${first.status} ${first.text.slice(0, 300)}`);
    let done = await this.request(first.url, {
      method: 'POST',
      form: { login: user.username, password: user.password, ...(otp ? { otp } : {}) },
      stopAt: redirectUri,
    });
    // Another person than the provider session's: it posts a form to end that session first (a browser auto-submits).
    if (done.status === 200 && /end_session|session\/end/.test(done.text)) {
      const action = /<form[^>]*action="([^"]+)"/.exec(done.text)?.[1] ?? '';
      const fields = Object.fromEntries(
        [...done.text.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]),
      );
      done = await this.request(new URL(action, done.url).toString(), {
        method: 'POST',
        form: fields,
        stopAt: redirectUri,
      });
    }
    if (done.status !== 0)
      throw new Error(`login at the test provider failed: ${done.status} ${done.text.slice(0, 300)}`);
    return { callback: new URL(done.url), loginShown: true };
  }
}

/**
 * Follows a relying party's end-session URL (RP-initiated logout) and answers the provider's "Do you want to
 * sign-out?" page with yes, as the person would. Returns where the provider sent the browser afterwards (stopping
 * at `stopAt`, the post-logout redirect URI) and whether it asked.
 */
export async function confirmEndSession(
  agent: IdpAgent,
  endSessionUrl: string,
  stopAt?: string,
): Promise<{ url: string; status: number; asked: boolean }> {
  const page = await agent.request(endSessionUrl, stopAt ? { stopAt } : {});
  const action = /<form[^>]*action="([^"]+)"/.exec(page.text)?.[1];
  if (page.status !== 200 || !action) return { url: page.url, status: page.status, asked: false };
  const xsrf = /name="xsrf" value="([^"]*)"/.exec(page.text)?.[1] ?? '';
  const done = await agent.request(new URL(action, page.url).toString(), {
    method: 'POST',
    form: { xsrf, logout: 'yes' },
    ...(stopAt ? { stopAt } : {}),
  });
  return { url: done.url, status: done.status, asked: true };
}

/**
 * Plays the person at the provider for the device authorization grant: opens the verification URI, confirms the
 * code, logs in as `user` (with `otp` for MFA). The forms are the provider's own.
 */
export async function completeDeviceLogin(
  verificationUriComplete: string,
  user: Pick<TestUser, 'username' | 'password'>,
  otp?: string,
): Promise<void> {
  const agent = new IdpAgent();
  const hidden = (html: string, name: string) => new RegExp(`name="${name}" value="([^"]*)"`).exec(html)?.[1] ?? '';
  const action = (html: string) => /<form[^>]*action="([^"]+)"/.exec(html)?.[1] ?? '';

  const confirm = await agent.request(verificationUriComplete);
  const afterConfirm = await agent.request(new URL(action(confirm.text), confirm.url).toString(), {
    method: 'POST',
    form: { xsrf: hidden(confirm.text, 'xsrf'), user_code: hidden(confirm.text, 'user_code'), confirm: 'yes' },
  });
  if (!afterConfirm.url.includes('/interaction/'))
    throw new Error(`device confirm did not reach login: ${afterConfirm.status} ${afterConfirm.text.slice(0, 300)}`);
  const done = await agent.request(afterConfirm.url, {
    method: 'POST',
    form: { login: user.username, password: user.password, ...(otp ? { otp } : {}) },
  });
  if (done.status >= 400) throw new Error(`device login failed at the test provider: ${done.status}`);
}
