/**
 * OIDC behind two API replicas that share state in one PostgreSQL database (src/stack/postgres.ts), against a real
 * OpenID provider (oidc-provider, test/support): an ID token used for a signing act at one replica is a replay at
 * the other (the used-token store is shared), also when both receive it at once; and a UI session made on one
 * replica works on the other from the session store alone (its identity snapshot keeps the provider subject that
 * the signing round trip checks), with no identity cookie.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Hono } from 'hono';
import * as oidc from 'openid-client';
import pg from 'pg';
import { createApp } from '../../src/api';
import { openSharedState, type SharedState } from '../../src/api/shared-state';
import { Ed25519Signer, PublicKeyVerifier } from '../../src/attestation';
import { oidcUiDeps, type OidcIdentityProvider, type OidcSettings } from '../../src/auth/oidc';
import { createLogger } from '../../src/logging/logger';
import { startPostgres, type PostgresServer } from '../../src/stack/postgres';
import type { UiDeps } from '../../src/ui';
import { completeDeviceLogin, IdpAgent, startTestOp, type TestOp, type TestUser } from '../support/oidc-provider';
import { FakeRelease, FakeTemporal, MemoryEvidence } from '../unit/ui-fakes';

const log = createLogger('oidc-replicas-test', 'silent');
const TOKEN = 'api-token-0123456789abcdef';
const REDIRECT = 'http://vigil.test/ui/oidc/callback';
const DANA: TestUser = {
  sub: 'sub-dana-7f3a',
  username: 'dana.qa',
  name: 'Dana Whitfield',
  groups: ['vigil-qa'],
  password: 'dana-pw',
  otp: '246810',
};

let dir: string;
let postgres: PostgresServer;
let op: TestOp;
const opened: SharedState[] = [];

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-oidc-replicas-'));
  [postgres, op] = await Promise.all([
    startPostgres({ stateDir: path.join(dir, 'pg'), log, databases: ['vigil_state'] }),
    startTestOp({
      users: [DANA],
      clients: [
        {
          client_id: 'vigil-ui',
          client_secret: 'ui-secret-0123456789abcdef',
          redirect_uris: ['http://vigil.test/ui/oidc/callback'],
          kind: 'code',
        },
        { client_id: 'vigil-cli', kind: 'device' },
      ],
    }),
  ]);
});

after(async () => {
  await Promise.all(opened.map((s) => s.close().catch(() => undefined)));
  await Promise.all([postgres?.stop(), op?.stop()]);
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function settings(): OidcSettings {
  return {
    issuer: op.issuer,
    clientId: 'vigil-ui',
    clientSecret: 'ui-secret-0123456789abcdef',
    redirectUri: 'http://vigil.test/ui/oidc/callback',
    cliClientId: 'vigil-cli',
    scopes: ['openid', 'profile', 'email'],
    rolesClaim: 'groups',
    roleMap: { 'vigil-qa': ['qa'], 'vigil-audit': ['auditor'] },
    usernameClaim: 'preferred_username',
    nameClaim: 'name',
    signingMaxAgeSeconds: 300,
    signingAmr: ['mfa'],
    signingAcr: [],
    clockToleranceSeconds: 5,
    stateKey: new Uint8Array(crypto.randomBytes(32)),
  };
}

/** Two API replicas: each its own pool on the shared database and its own OIDC parts, one release behind both. */
async function twoReplicas(): Promise<{ replicas: Hono[]; release: FakeRelease; identities: OidcIdentityProvider[] }> {
  const temporal = new FakeTemporal();
  const evidence = new MemoryEvidence();
  const signer = new Ed25519Signer(crypto.generateKeyPairSync('ed25519').privateKey);
  const release = temporal.add(
    new FakeRelease(`sepsis-alert-${crypto.randomBytes(3).toString('hex')}`, evidence, signer),
  );
  await release.toAwaitingApproval();
  const s = settings();
  const identities: OidcIdentityProvider[] = [];
  const replica = async (): Promise<Hono> => {
    const shared = await openSharedState(postgres.url('vigil_state'), { log, ledgerTtlMs: 3600_000 });
    opened.push(shared);
    const o = oidcUiDeps(s, { usedTokens: shared.usedTokens });
    identities.push(o.identities);
    const ui: UiDeps = {
      client: temporal,
      evidence,
      identities: o.identities,
      oidc: o,
      idTokens: o.idTokens,
      usersConfigured: true,
      sessions: shared.sessions,
      throttle: shared.throttle,
      audit: shared.audit,
      verifiers: [new PublicKeyVerifier(signer.publicKey())],
      systemKeyPem: null,
      secureCookies: false,
      log,
      duplicateWaitMs: 1000,
    };
    return createApp({
      client: temporal,
      config: { api: { host: '127.0.0.1', port: 0, url: 'http://vigil.test', token: TOKEN } },
      log,
      ui,
    });
  };
  return { replicas: [await replica(), await replica()], release, identities };
}

/** A fresh MFA ID token from the device authorization grant (what `vigil approve --sso` sends). */
async function deviceToken(): Promise<string> {
  const config = await oidc.discovery(new URL(op.issuer), 'vigil-cli', undefined, oidc.None(), {
    execute: [oidc.allowInsecureRequests],
  });
  const grant = await oidc.initiateDeviceAuthorization(config, { scope: 'openid profile email', max_age: '0' });
  await completeDeviceLogin(grant.verification_uri_complete!, DANA, DANA.otp);
  const tokens = await oidc.pollDeviceAuthorizationGrant(config, { ...grant, interval: 1 });
  return tokens.id_token!;
}

async function sign(app: Hono, release: FakeRelease, idToken: string, reason: string) {
  const res = await app.request(`/api/releases/${release.releaseId}/signatures`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify({
      role: 'qa',
      decision: 'approve',
      meaning: 'approved',
      reason,
      dossierSha256: release.state.dossier!.sha256,
      idToken,
    }),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe('OIDC on two API replicas sharing state', () => {
  it('an ID token used at replica A is refused as a replay at replica B', async () => {
    const { replicas, release } = await twoReplicas();
    const token = await deviceToken();
    const first = await sign(replicas[0]!, release, token, 'evidence reviewed');
    assert.equal(first.status, 201, JSON.stringify(first.json));
    const again = await sign(replicas[1]!, release, token, 'again, elsewhere');
    assert.equal(again.status, 401, JSON.stringify(again.json));
    assert.match(String(again.json.error), /already used for a signing act \(replayed token\)/);
    assert.equal(again.json.reason, 'replay');
    assert.equal(release.state.signatures.length, 1, 'one signature from one token');
  });

  it('one token sent to both replicas at once is accepted by exactly one', async () => {
    const { replicas, release } = await twoReplicas();
    const token = await deviceToken();
    const results = await Promise.all(replicas.map((app, i) => sign(app, release, token, `race ${i}`)));
    assert.deepEqual(results.map((r) => r.status).sort(), [201, 401], JSON.stringify(results));
    assert.equal(release.state.signatures.length, 1);
  });

  it('a UI session made on replica A works on replica B, and B finishes the signing round trip', async () => {
    const { replicas, release, identities } = await twoReplicas();
    const jar = new Map<string, string>();
    const idp = new IdpAgent();
    const vigil = async (app: Hono, target: string, form?: Record<string, string>): Promise<Response> => {
      const url = new URL(target, 'http://vigil.test');
      const res = await app.request(url.pathname + url.search, {
        method: form ? 'POST' : 'GET',
        headers: {
          host: 'vigil.test',
          cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; '),
          ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        },
        ...(form ? { body: new URLSearchParams(form).toString() } : {}),
      });
      for (const c of res.headers.getSetCookie()) {
        const [pair, ...attrs] = c.split(';');
        const eq = pair!.indexOf('=');
        if (attrs.some((a) => /max-age=0/i.test(a.trim()))) jar.delete(pair!.slice(0, eq));
        else jar.set(pair!.slice(0, eq), pair!.slice(eq + 1));
      }
      return res;
    };
    const [a, b] = replicas as [Hono, Hono];
    const start = await vigil(a, '/ui/oidc/login?next=/ui/inbox');
    const login = await idp.authorize(start.headers.get('location')!, REDIRECT, DANA);
    assert.equal((await vigil(a, login.callback.toString())).status, 200);
    assert.deepEqual([...jar.keys()], ['vigil_session'], 'only the session cookie');
    assert.equal(identities[1]!.lookup('dana.qa'), null, 'replica B never saw the sign-in');

    const page = await vigil(b, `/ui/releases/${release.releaseId}`);
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.match(html, /Dana Whitfield/);
    const sign = await vigil(b, `/ui/releases/${release.releaseId}/sign`, {
      _csrf: /name="_csrf" value="([^"]+)"/.exec(html)![1]!,
      role: 'qa',
      decision: 'approve',
      meaning: 'approved',
      reason: 'evidence reviewed',
      dossierSha256: release.state.dossier!.sha256,
    });
    const to = /id="reauth-link" href="([^"]+)"/.exec(await sign.text())![1]!.replace(/&amp;/g, '&');
    // Added to a group at the provider since signing in: the re-authentication's roles replace the session's.
    // (The provider reads the groups when it issues the ID token, at Vigil's code exchange in the callback.)
    DANA.groups.push('vigil-audit');
    let done: Response;
    try {
      const again = await idp.authorize(to, REDIRECT, DANA, DANA.otp);
      // The subject check at the callback reads the provider subject from the session in PostgreSQL.
      done = await vigil(b, again.callback.toString());
    } finally {
      DANA.groups.pop();
    }
    assert.equal(done.status, 200, await done.clone().text());
    assert.equal(release.state.signatures[0]!.authentication!.subject, DANA.sub);
    const db = new pg.Client({ connectionString: postgres.url('vigil_state') });
    await db.connect();
    try {
      const { rows } = await db.query<{ identity: { roles: string[]; provider: unknown } }>(
        'SELECT identity FROM vigil_sessions WHERE id_sha256 = $1',
        [crypto.createHash('sha256').update(jar.get('vigil_session')!).digest('hex')],
      );
      assert.deepEqual(rows[0]?.identity.roles, ['qa', 'auditor'], 'the shared session has the refreshed roles');
      assert.deepEqual(rows[0]?.identity.provider, { issuer: op.issuer, subject: DANA.sub });
    } finally {
      await db.end();
    }
  });
});
