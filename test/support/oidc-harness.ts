/**
 * What the OIDC tests share around the test provider (./oidc-provider.ts): the people and clients it knows, Vigil's
 * OIDC settings for it, Vigil's API and UI on a fake Temporal port with one release awaiting approval, a browser's
 * cookie jar against that UI, and ID tokens from the device authorization grant (what `vigil approve --sso` sends).
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import type { Hono } from 'hono';
import * as openid from 'openid-client';
import { pino } from 'pino';
import { createApp } from '../../src/api';
import { Ed25519Signer, PublicKeyVerifier } from '../../src/attestation';
import {
  MemoryAuditLog,
  MemoryLoginThrottle,
  MemorySessionStore,
  type AuthAuditLog,
  type LoginThrottle,
  type SessionStore,
} from '../../src/auth';
import { oidcUiDeps, type OidcSettings } from '../../src/auth/oidc';
import type { UsedTokenStore } from '../../src/auth/used-tokens';
import type { Logger } from '../../src/logging/logger';
import type { UiDeps } from '../../src/ui';
import { FakeRelease, FakeTemporal, MemoryEvidence } from '../unit/ui-fakes';
import {
  completeDeviceLogin,
  type Behaviour,
  type IdpAgent,
  type TestClient,
  type TestOp,
  type TestUser,
} from './oidc-provider';

/** A compact JWT anywhere in a text: no token may reach logs, records or CLI output. */
export const JWT = /eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/;
/** The API's bearer token in these tests. */
export const API_TOKEN = 'api-token-0123456789abcdef';
/** Where Vigil's UI takes the provider's answer (the UI's host in app.request tests is vigil.test). */
export const REDIRECT = 'http://vigil.test/ui/oidc/callback';
export const UI_CLIENT_ID = 'vigil-ui';
export const UI_CLIENT_SECRET = 'ui-secret-0123456789abcdef';
export const CLI_CLIENT_ID = 'vigil-cli';
export const DANA_OTP = '246810';
export const SAM_OTP = '135790';

/** A QA approver; a fresh object each call, since a test may change the person's groups at the provider. */
export function dana(): TestUser {
  return {
    sub: 'sub-dana-7f3a',
    username: 'dana.qa',
    name: 'Dana Whitfield',
    groups: ['vigil-qa'],
    password: 'dana-pw',
    otp: DANA_OTP,
  };
}

/** A clinical approver; a fresh object each call. */
export function sam(): TestUser {
  return {
    sub: 'sub-sam-19c2',
    username: 'sam.clin',
    name: 'Dr Sam Okafor',
    groups: ['vigil-clinical'],
    password: 'sam-pw',
    otp: SAM_OTP,
  };
}

/** Vigil's web client at the provider (authorization code), sending people back to `redirectUri`. */
export function uiClient(redirectUri = REDIRECT, extra: Partial<TestClient> = {}): TestClient {
  return {
    client_id: UI_CLIENT_ID,
    client_secret: UI_CLIENT_SECRET,
    redirect_uris: [redirectUri],
    kind: 'code',
    ...extra,
  };
}

/** The CLI's public client at the provider (device authorization grant). */
export const CLI_CLIENT: TestClient = { client_id: CLI_CLIENT_ID, kind: 'device' };

/** Vigil's OIDC settings for the test provider: MFA and an authentication at most 300 s old to sign. */
export function oidcSettings(op: TestOp, over: Partial<OidcSettings> = {}): OidcSettings {
  return {
    issuer: op.issuer,
    clientId: UI_CLIENT_ID,
    clientSecret: UI_CLIENT_SECRET,
    redirectUri: REDIRECT,
    cliClientId: CLI_CLIENT_ID,
    scopes: ['openid', 'profile', 'email'],
    rolesClaim: 'groups',
    roleMap: { 'vigil-qa': ['qa'], 'vigil-clinical': ['clinical'] },
    usernameClaim: 'preferred_username',
    nameClaim: 'name',
    signingMaxAgeSeconds: 300,
    signingAmr: ['mfa'],
    signingAcr: [],
    clockToleranceSeconds: 5,
    stateKey: new Uint8Array(crypto.randomBytes(32)),
    ...over,
  };
}

/** A logger at trace level that keeps every line, so a test can check that no token was ever logged. */
export function capturingLog(name: string): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  return { log: pino({ name, level: 'trace' }, { write: (line: string) => void lines.push(line) }), lines };
}

/** One release awaiting approval, the workflow's own ReleaseState behind a fake Temporal port. */
export interface AwaitingRelease {
  temporal: FakeTemporal;
  evidence: MemoryEvidence;
  signer: Ed25519Signer;
  release: FakeRelease;
}

export async function awaitingRelease(releaseId = 'sepsis-alert-abc-1'): Promise<AwaitingRelease> {
  const temporal = new FakeTemporal();
  const evidence = new MemoryEvidence();
  const signer = new Ed25519Signer(crypto.generateKeyPairSync('ed25519').privateKey);
  const release = temporal.add(new FakeRelease(releaseId, evidence, signer));
  await release.toAwaitingApproval();
  return { temporal, evidence, signer, release };
}

/**
 * One API replica (API + sign-off UI) under OIDC for `fixture`'s release. Replicas behind one balancer pass the same
 * session store, throttle, audit log and used-token store; each gets its own OIDC parts (client, identity cache).
 */
export function oidcReplica(
  fixture: AwaitingRelease,
  settings: OidcSettings,
  opts: {
    log: Logger;
    sessions?: SessionStore;
    throttle?: LoginThrottle;
    audit?: AuthAuditLog;
    usedTokens?: UsedTokenStore;
  },
): { app: Hono; oidc: ReturnType<typeof oidcUiDeps> } {
  const oidc = oidcUiDeps(settings, { usedTokens: opts.usedTokens });
  const ui: UiDeps = {
    client: fixture.temporal,
    evidence: fixture.evidence,
    identities: oidc.identities,
    oidc,
    idTokens: oidc.idTokens,
    usersConfigured: true,
    sessions: opts.sessions ?? new MemorySessionStore(),
    throttle: opts.throttle ?? new MemoryLoginThrottle(),
    audit: opts.audit ?? new MemoryAuditLog(),
    verifiers: [new PublicKeyVerifier(fixture.signer.publicKey())],
    systemKeyPem: null,
    secureCookies: false,
    log: opts.log,
    duplicateWaitMs: 1000,
  };
  const app = createApp({
    client: fixture.temporal,
    config: { api: { host: '127.0.0.1', port: 0, url: 'http://vigil.test', token: API_TOKEN } },
    log: opts.log,
    ui,
  });
  return { app, oidc };
}

/** A request to Vigil: GET, or POST of a form; `cookies` stands in for the browser's jar (an attacker's, say). */
export type BrowserRequest = (
  pathOrUrl: string,
  form?: Record<string, string>,
  cookies?: Map<string, string>,
) => Promise<Response>;

/**
 * A browser at Vigil's UI (app.request, host vigil.test): sends the jar's cookies and keeps what Vigil sets, deleting
 * a cookie set with Max-Age=0. `app` is asked at each request, so a test can move the browser between replicas.
 */
export function browserAt(app: () => Hono, jar: Map<string, string>): BrowserRequest {
  return async (pathOrUrl, form, cookies = jar) => {
    const url = new URL(pathOrUrl, 'http://vigil.test');
    const res = await app().request(url.pathname + url.search, {
      method: form ? 'POST' : 'GET',
      headers: {
        host: 'vigil.test',
        cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; '),
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      ...(form ? { body: new URLSearchParams(form).toString() } : {}),
    });
    for (const c of res.headers.getSetCookie()) {
      const [pair, ...attrs] = c.split(';');
      const eq = pair!.indexOf('=');
      if (attrs.some((a) => /max-age=0/i.test(a.trim()))) cookies.delete(pair!.slice(0, eq));
      else cookies.set(pair!.slice(0, eq), pair!.slice(eq + 1));
    }
    return res;
  };
}

/** The CSRF token of a UI page's forms. */
export function csrfOf(html: string): string {
  return /name="_csrf" value="([^"]+)"/.exec(html)![1]!;
}

/** Signs `user` in at the provider through Vigil's UI (no one-time code); ends on Vigil's redirect to the inbox. */
export async function signIn(vigil: BrowserRequest, idp: IdpAgent, user: TestUser): Promise<void> {
  const start = await vigil('/ui/oidc/login?next=/ui/inbox');
  assert.equal(start.status, 303);
  const { callback } = await idp.authorize(start.headers.get('location')!, REDIRECT, user);
  const done = await vigil(callback.toString());
  assert.equal(done.status, 200, await done.clone().text());
  assert.match(await done.text(), /http-equiv="refresh" content="0;url=\/ui\/inbox"/);
}

/** Submits the release's sign form (QA approval unless `over` says otherwise); returns the provider URL it sends to. */
export async function startSigning(
  vigil: BrowserRequest,
  release: FakeRelease,
  over: Record<string, string> = {},
): Promise<string> {
  const res = await vigil(`/ui/releases/${release.releaseId}/sign`, {
    _csrf: csrfOf(await (await vigil(`/ui/releases/${release.releaseId}`)).text()),
    role: 'qa',
    decision: 'approve',
    meaning: 'approved',
    reason: 'evidence reviewed',
    dossierSha256: release.state.dossier!.sha256,
    ...over,
  });
  const page = await res.text();
  assert.equal(res.status, 200, page);
  // A page that navigates to the provider (a 303 of the form post would be blocked by form-action 'self').
  return /id="reauth-link" href="([^"]+)"/.exec(page)![1]!.replace(/&amp;/g, '&');
}

/** An ID token from the device authorization grant at `op` for `clientId`, `user` logging in (with `otp`: MFA). */
export async function deviceIdToken(op: TestOp, clientId: string, user: TestUser, otp?: string): Promise<string> {
  const config = await openid.discovery(new URL(op.issuer), clientId, undefined, openid.None(), {
    execute: [openid.allowInsecureRequests],
  });
  const grant = await openid.initiateDeviceAuthorization(config, { scope: 'openid profile email', max_age: '0' });
  await completeDeviceLogin(grant.verification_uri_complete!, user, otp);
  // Already approved: the first poll succeeds, so it need not wait the provider's 5 s interval.
  const tokens = await openid.pollDeviceAuthorizationGrant(config, { ...grant, interval: 1 });
  return tokens.id_token!;
}

/**
 * POSTs a signature to the signing API (a QA approval of the current dossier unless `body` says otherwise) through
 * `request` (fetch at a server, or app.request); returns the status and the JSON answer.
 */
export async function postSignature(
  request: (path: string, init: RequestInit) => Promise<Response>,
  release: FakeRelease,
  body: Record<string, unknown>,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await request(`/api/releases/${release.releaseId}/signatures`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${API_TOKEN}` },
    body: JSON.stringify({
      role: 'qa',
      decision: 'approve',
      meaning: 'approved',
      reason: 'evidence reviewed',
      dossierSha256: release.state.dossier!.sha256,
      ...body,
    }),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/** Runs `fn` with the provider misbehaving as `change` says, then puts its behaviour back as it was. */
export async function misbehaving<T>(op: TestOp, change: Partial<Behaviour>, fn: () => Promise<T>): Promise<T> {
  const before = { ...op.behaviour };
  Object.assign(op.behaviour, change);
  try {
    return await fn();
  } finally {
    Object.assign(op.behaviour, before);
  }
}
