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
import { serve, type ServerType } from '@hono/node-server';
import { MemoryAuditLog } from '../../src/auth';
import {
  API_TOKEN as TOKEN,
  awaitingRelease,
  capturingLog,
  CLI_CLIENT,
  dana as danaUser,
  DANA_OTP,
  deviceIdToken as deviceToken,
  JWT,
  misbehaving,
  oidcReplica,
  oidcSettings,
  postSignature,
  sam as samUser,
  SAM_OTP,
  uiClient,
} from '../support/oidc-harness';
import { completeDeviceLogin, startTestOp, type TestOp } from '../support/oidc-provider';
import type { FakeRelease } from '../unit/ui-fakes';

const VIGIL = path.resolve(__dirname, '../../bin/vigil');
const dana = danaUser();
const sam = samUser();
const USERS = [dana, sam];
const CLIENTS = [uiClient('http://vigil.test/cb'), CLI_CLIENT, { client_id: 'other-app', kind: 'device' as const }];

let op: TestOp;
let otherIssuer: TestOp;
let server: ServerType;
let baseUrl: string;
let release: FakeRelease;
let audit: MemoryAuditLog;
let tmp: string;
/** Every log line at trace level, to check that no token is ever logged. */
const { log, lines: logLines } = capturingLog('oidc-api-test');

before(async () => {
  op = await startTestOp({ users: USERS, clients: CLIENTS });
  // Another issuer signing with the same keys (as a multi-tenant provider does for all its tenants).
  otherIssuer = await startTestOp({ users: USERS, clients: CLIENTS, keys: op.signingKeys() });
  const fixture = await awaitingRelease();
  release = fixture.release;
  audit = new MemoryAuditLog();
  const settings = oidcSettings(op, { redirectUri: 'http://vigil.test/cb', clockToleranceSeconds: 0 });
  const { app } = oidcReplica(fixture, settings, { log, audit });
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

const sign = (body: Record<string, unknown>) =>
  postSignature((p, init) => fetch(`${baseUrl}${p}`, init), release, body);

describe('signing API under OIDC: ID token edge cases, each refused with its reason', () => {
  it('refuses an expired ID token', async () => {
    const token = await misbehaving(op, { idTokenTtlSeconds: 1 }, () => deviceToken(op, 'vigil-cli', dana, DANA_OTP));
    await new Promise((r) => setTimeout(r, 2100));
    const r = await sign({ idToken: token });
    assert.equal(r.status, 401);
    assert.match(String(r.json.error), /the ID token is expired; nothing was submitted/);
  });

  it('refuses an ID token issued to another client (wrong audience)', async () => {
    const r = await sign({ idToken: await deviceToken(op, 'other-app', dana, DANA_OTP) });
    assert.equal(r.status, 401);
    assert.match(String(r.json.error), /issued to another client \(wrong audience\)/);
  });

  it('refuses an ID token from another issuer, even one signed with the same keys (wrong issuer)', async () => {
    const r = await sign({ idToken: await deviceToken(otherIssuer, 'vigil-cli', dana, DANA_OTP) });
    assert.equal(r.status, 401);
    assert.match(String(r.json.error), /comes from another issuer \(wrong issuer\)/);
  });

  it('refuses an authentication older than the signing max age (stale auth_time)', async () => {
    const token = await misbehaving(op, { authTimeShiftSeconds: 600 }, () =>
      deviceToken(op, 'vigil-cli', dana, DANA_OTP),
    );
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
    const token = await deviceToken(op, 'vigil-cli', dana, DANA_OTP);
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
    const token = await deviceToken(op, 'vigil-cli', dana, DANA_OTP);
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
    await completeDeviceLogin(url, sam, SAM_OTP);
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
    const idToken = await deviceToken(op, 'vigil-cli', dana, DANA_OTP);
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
