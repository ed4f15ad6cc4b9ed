/**
 * The signing API and `vigil approve --sso` under OIDC, against a real OpenID provider (oidc-provider, test/support):
 * ID tokens from the device authorization grant, and each token edge case refused with a clear message and no
 * token in the audit log or the CLI's output. The release is the workflow's own ReleaseState behind a fake
 * Temporal port (test/unit/ui-fakes.ts).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { serve, type ServerType } from '@hono/node-server';
import * as oidc from 'openid-client';
import { createApp } from '../../src/api';
import { Ed25519Signer, PublicKeyVerifier } from '../../src/attestation';
import { MemoryAuditLog, MemoryLoginThrottle, MemorySessionStore } from '../../src/auth';
import { oidcUiDeps, type OidcSettings } from '../../src/auth/oidc';
import type { UiDeps } from '../../src/ui';
import { completeDeviceLogin, startTestOp, type TestOp, type TestUser } from '../support/oidc-provider';
import { FakeRelease, FakeTemporal, MemoryEvidence } from '../unit/ui-fakes';

const VIGIL = path.resolve(__dirname, '../../bin/vigil');
const TOKEN = 'api-token-0123456789abcdef';
const JWT = /eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/;
const USERS: TestUser[] = [
  {
    sub: 'sub-dana-7f3a',
    username: 'dana.qa',
    name: 'Dana Whitfield',
    groups: ['vigil-qa'],
    password: 'dana-pw',
    otp: '246810',
  },
  {
    sub: 'sub-sam-19c2',
    username: 'sam.clin',
    name: 'Dr Sam Okafor',
    groups: ['vigil-clinical'],
    password: 'sam-pw',
    otp: '135790',
  },
];
const CLIENTS = [
  {
    client_id: 'vigil-ui',
    client_secret: 'ui-secret-0123456789abcdef',
    redirect_uris: ['http://vigil.test/cb'],
    kind: 'code' as const,
  },
  { client_id: 'vigil-cli', kind: 'device' as const },
  { client_id: 'other-app', kind: 'device' as const },
];

let op: TestOp;
let otherIssuer: TestOp;
let server: ServerType;
let baseUrl: string;
let release: FakeRelease;
let audit: MemoryAuditLog;
let tmp: string;
/** Every log line at trace level, to check that no token is ever logged. */
const logLines: string[] = [];

before(async () => {
  op = await startTestOp({ users: USERS, clients: CLIENTS });
  // Another issuer signing with the same keys (as a multi-tenant provider does for all its tenants).
  otherIssuer = await startTestOp({ users: USERS, clients: CLIENTS, keys: op.signingKeys() });
  const settings: OidcSettings = {
    issuer: op.issuer,
    clientId: 'vigil-ui',
    clientSecret: 'ui-secret-0123456789abcdef',
    redirectUri: 'http://vigil.test/cb',
    cliClientId: 'vigil-cli',
    scopes: ['openid', 'profile', 'email'],
    rolesClaim: 'groups',
    roleMap: { 'vigil-qa': ['qa'], 'vigil-clinical': ['clinical'] },
    usernameClaim: 'preferred_username',
    nameClaim: 'name',
    signingMaxAgeSeconds: 300,
    signingAmr: ['mfa'],
    signingAcr: [],
    clockToleranceSeconds: 0,
    stateKey: new Uint8Array(crypto.randomBytes(32)),
  };
  const temporal = new FakeTemporal();
  const evidence = new MemoryEvidence();
  const signer = new Ed25519Signer(crypto.generateKeyPairSync('ed25519').privateKey);
  release = temporal.add(new FakeRelease('sepsis-alert-abc-1', evidence, signer));
  await release.toAwaitingApproval();
  audit = new MemoryAuditLog();
  const o = oidcUiDeps(settings);
  const log = pino({ name: 'oidc-api-test', level: 'trace' }, { write: (line: string) => void logLines.push(line) });
  const ui: UiDeps = {
    client: temporal,
    evidence,
    identities: o.identities,
    oidc: o,
    idTokens: o.idTokens,
    usersConfigured: true,
    sessions: new MemorySessionStore(),
    throttle: new MemoryLoginThrottle(),
    audit,
    verifiers: [new PublicKeyVerifier(signer.publicKey())],
    systemKeyPem: null,
    secureCookies: false,
    log,
    duplicateWaitMs: 1000,
  };
  const app = createApp({
    client: temporal,
    config: { api: { host: '127.0.0.1', port: 0, url: 'http://x', token: TOKEN } },
    log,
    ui,
  });
  const port = await new Promise<number>((resolve) => {
    server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info) => resolve(info.port));
  });
  baseUrl = `http://127.0.0.1:${port}`;
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-oidc-api-'));
});

after(async () => {
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  await op?.stop();
  await otherIssuer?.stop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

/** An ID token from the device grant at `provider` for `client`, the person logging in as `user`. */
async function deviceToken(provider: TestOp, client: string, user: TestUser, otp?: string): Promise<string> {
  const config = await oidc.discovery(new URL(provider.issuer), client, undefined, oidc.None(), {
    execute: [oidc.allowInsecureRequests],
  });
  const grant = await oidc.initiateDeviceAuthorization(config, { scope: 'openid profile email', max_age: '0' });
  await completeDeviceLogin(grant.verification_uri_complete!, user, otp);
  // Already approved: the first poll succeeds, so it need not wait the provider's 5 s interval.
  const tokens = await oidc.pollDeviceAuthorizationGrant(config, { ...grant, interval: 1 });
  return tokens.id_token!;
}

const dana = USERS[0]!;
const sam = USERS[1]!;

async function sign(body: Record<string, unknown>): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${baseUrl}/api/releases/${release.releaseId}/signatures`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
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

describe('signing API under OIDC: ID token edge cases, each refused with its reason', () => {
  it('refuses an expired ID token', async () => {
    op.behaviour.idTokenTtlSeconds = 1;
    let token: string;
    try {
      token = await deviceToken(op, 'vigil-cli', dana, '246810');
    } finally {
      op.behaviour.idTokenTtlSeconds = 600;
    }
    await new Promise((r) => setTimeout(r, 2100));
    const r = await sign({ idToken: token });
    assert.equal(r.status, 401);
    assert.match(String(r.json.error), /the ID token is expired; nothing was submitted/);
  });

  it('refuses an ID token issued to another client (wrong audience)', async () => {
    const r = await sign({ idToken: await deviceToken(op, 'other-app', dana, '246810') });
    assert.equal(r.status, 401);
    assert.match(String(r.json.error), /issued to another client \(wrong audience\)/);
  });

  it('refuses an ID token from another issuer, even one signed with the same keys (wrong issuer)', async () => {
    const r = await sign({ idToken: await deviceToken(otherIssuer, 'vigil-cli', dana, '246810') });
    assert.equal(r.status, 401);
    assert.match(String(r.json.error), /comes from another issuer \(wrong issuer\)/);
  });

  it('refuses an authentication older than the signing max age (stale auth_time)', async () => {
    op.behaviour.authTimeShiftSeconds = 600;
    let token: string;
    try {
      token = await deviceToken(op, 'vigil-cli', dana, '246810');
    } finally {
      op.behaviour.authTimeShiftSeconds = 0;
    }
    const r = await sign({ idToken: token });
    assert.equal(r.status, 401);
    const age = /is (\d+) s old; signing needs one at most 300 s old/.exec(String(r.json.error));
    assert.ok(age && Number(age[1]) >= 600, String(r.json.error));
  });

  it('refuses an authentication without the required amr (mfa)', async () => {
    const r = await sign({ idToken: await deviceToken(op, 'vigil-cli', dana) });
    assert.equal(r.status, 401);
    assert.match(
      String(r.json.error),
      /requires the authentication method\(s\) "mfa" \(amr\); the identity provider reported "pwd"/,
    );
  });

  it('refuses a password under OIDC', async () => {
    const r = await sign({ username: 'dana.qa', password: 'dana-pw' });
    assert.equal(r.status, 400);
    assert.match(String(r.json.error), /signs through the identity provider/);
  });

  it('accepts a fresh MFA token once, recording issuer, subject and auth_time; the same token again is a replay', async () => {
    const token = await deviceToken(op, 'vigil-cli', dana, '246810');
    const first = await sign({ idToken: token });
    assert.equal(first.status, 201, JSON.stringify(first.json));
    const auth = release.state.signatures.find((s) => s.signer === 'dana.qa')!.authentication!;
    assert.equal(auth.issuer, op.issuer);
    assert.equal(auth.subject, 'sub-dana-7f3a');
    assert.equal(auth.idTokenSha256, crypto.createHash('sha256').update(token).digest('hex'));
    const again = await sign({ idToken: token, reason: 'again' });
    assert.equal(again.status, 401);
    assert.match(String(again.json.error), /already used for a signing act \(replayed token\)/);
  });

  it('a withdrawal with a fresh ID token records the authentication of the withdrawal', async () => {
    const token = await deviceToken(op, 'vigil-cli', dana, '246810');
    const res = await fetch(`${baseUrl}/api/releases/${release.releaseId}/signatures/withdraw`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ reason: 'reviewed the wrong section', idToken: token }),
    });
    const json = (await res.json()) as { withdrawalKey?: string };
    assert.equal(res.status, 201, JSON.stringify(json));
    const record = JSON.parse(Buffer.from(await release.evidence.getBytes(json.withdrawalKey!)).toString('utf8'));
    assert.equal(record.kind, 'vigil.signature-withdrawal/v1');
    assert.equal(record.authentication.issuer, op.issuer);
    assert.equal(record.authentication.subject, 'sub-dana-7f3a');
    assert.equal(record.authentication.idTokenSha256, crypto.createHash('sha256').update(token).digest('hex'));
    assert.deepEqual(record.authentication.amr, ['pwd', 'otp', 'mfa']);
    assert.doesNotMatch(JSON.stringify(record), JWT);
  });

  it('wrote no token to the auth audit log', () => {
    assert.ok(audit.events.some((e) => e.type === 'reauth.failure' && e.reason === 'audience'));
    assert.ok(audit.events.some((e) => e.type === 'reauth.failure' && e.reason === 'expired'));
    assert.ok(audit.events.some((e) => e.type === 'reauth.failure' && e.reason === 'issuer'));
    assert.doesNotMatch(JSON.stringify(audit.events), JWT);
  });
});

describe('vigil approve --sso (device authorization grant)', () => {
  it('prints where to sign in, waits for the provider, and signs with the fresh authentication', async () => {
    const child = spawn(
      VIGIL,
      [
        'approve',
        release.releaseId,
        '--sso',
        '--role',
        'clinical',
        '--meaning',
        'approved',
        '--reason',
        'clinical evidence reviewed',
        '--digest',
        release.state.dossier!.sha256,
      ],
      {
        cwd: tmp,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: tmp,
          VIGIL_API_URL: baseUrl,
          VIGIL_API_TOKEN: TOKEN,
          VIGIL_STATE_DIR: path.join(tmp, 'state'),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no sign-in address printed: ${stderr}`)), 60_000);
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        const m = /open (\S+) in a browser/.exec(stderr);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
    });
    await completeDeviceLogin(url, sam, '135790');
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 0, `${stdout}\n${stderr}`);
    assert.match(stdout, /signature recorded/);
    const sig = release.state.signatures.find((s) => s.signer === 'sam.clin')!;
    assert.equal(sig.printedName, 'Dr Sam Okafor');
    assert.equal(sig.authentication!.subject, 'sub-sam-19c2');
    assert.deepEqual(sig.authentication!.amr, ['pwd', 'otp', 'mfa']);
    assert.doesNotMatch(stdout + stderr, JWT);
  });
});

describe('vigil withdraw / canary without --user or --sso', () => {
  it('exit 2, naming both ways to authenticate', async () => {
    for (const args of [
      ['withdraw', release.releaseId, '--reason', 'changed my mind'],
      ['canary', 'resume', release.releaseId, '--role', 'qa', '--reason', 'ok'],
    ]) {
      const child = spawn(VIGIL, args, {
        cwd: tmp,
        env: { PATH: process.env.PATH ?? '', HOME: tmp, VIGIL_API_URL: baseUrl, VIGIL_API_TOKEN: TOKEN },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      assert.equal(code, 2, stderr);
      assert.match(stderr, /--user <id> is required \(or --sso on a server that signs through OIDC\)/);
    }
  });
});

describe('canary decision under OIDC', () => {
  it('takes a fresh ID token and records the authentication with the decision', async () => {
    release.state.stage = 'CANARY';
    release.state.canaryHold = {
      kind: 'pause',
      step: 0,
      since: '2026-12-07T00:00:00.000Z',
      deadline: null,
      failure: null,
    };
    const idToken = await deviceToken(op, 'vigil-cli', dana, '246810');
    const res = await fetch(`${baseUrl}/api/releases/${release.releaseId}/canary-decision`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ idToken, role: 'qa', decision: 'resume', reason: 'pause reviewed' }),
    });
    assert.equal(res.status, 201, await res.text());
    const d = release.state.canaryDecisions[0]!;
    assert.equal(d.signer, 'dana.qa');
    assert.equal(d.authentication!.subject, 'sub-dana-7f3a');
    assert.equal(d.authentication!.idTokenSha256, crypto.createHash('sha256').update(idToken).digest('hex'));
  });
});

describe('logs', () => {
  it('hold no token after every case above', () => {
    assert.ok(logLines.length > 0, 'the API logged something at trace level');
    assert.doesNotMatch(logLines.join(''), JWT);
  });
});
