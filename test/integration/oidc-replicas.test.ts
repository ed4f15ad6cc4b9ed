/**
 * OIDC behind two API replicas that share state in one PostgreSQL database (src/stack/postgres.ts), against a real
 * OpenID provider (oidc-provider, test/support): an ID token used for a signing act at one replica is a replay at
 * the other (the used-token store is shared), also when both receive it at once.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Hono } from 'hono';
import * as oidc from 'openid-client';
import { createApp } from '../../src/api';
import { openSharedState, type SharedState } from '../../src/api/shared-state';
import { Ed25519Signer, PublicKeyVerifier } from '../../src/attestation';
import { oidcUiDeps, type OidcSettings } from '../../src/auth/oidc';
import { createLogger } from '../../src/logging/logger';
import { startPostgres, type PostgresServer } from '../../src/stack/postgres';
import type { UiDeps } from '../../src/ui';
import { completeDeviceLogin, startTestOp, type TestOp, type TestUser } from '../support/oidc-provider';
import { FakeRelease, FakeTemporal, MemoryEvidence } from '../unit/ui-fakes';

const log = createLogger('oidc-replicas-test', 'silent');
const TOKEN = 'api-token-0123456789abcdef';
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
    roleMap: { 'vigil-qa': ['qa'] },
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
async function twoReplicas(): Promise<{ replicas: Hono[]; release: FakeRelease }> {
  const temporal = new FakeTemporal();
  const evidence = new MemoryEvidence();
  const signer = new Ed25519Signer(crypto.generateKeyPairSync('ed25519').privateKey);
  const release = temporal.add(
    new FakeRelease(`sepsis-alert-${crypto.randomBytes(3).toString('hex')}`, evidence, signer),
  );
  await release.toAwaitingApproval();
  const s = settings();
  const replica = async (): Promise<Hono> => {
    const shared = await openSharedState(postgres.url('vigil_state'), { log, ledgerTtlMs: 3600_000 });
    opened.push(shared);
    const o = oidcUiDeps(s, { usedTokens: shared.usedTokens });
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
  return { replicas: [await replica(), await replica()], release };
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
});
