/**
 * POST /api/releases/:id/signatures (the CLI's sign-off) over HTTP with app.request: the signer authenticates with
 * user id + password against the UI's identities, lockout and audit log; signer and printed name come from the
 * account; refusals have the UI's statuses; a repeated identical signature is idempotent.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { before, describe, it } from 'node:test';
import { createApp } from '../../src/api';
import { Ed25519Signer, PublicKeyVerifier } from '../../src/attestation';
import {
  FileIdentityProvider,
  hashPassword,
  MemoryLoginThrottle,
  MemoryAuditLog,
  NO_USERS,
  MemorySessionStore,
} from '../../src/auth';
import { createLogger } from '../../src/logging/logger';
import type { UiDeps } from '../../src/ui';
import { FakeRelease, FakeTemporal, MemoryEvidence } from './ui-fakes';

const log = createLogger('api-signatures-test', 'silent');
const FAST = { N: 1024, r: 8, p: 1 };
const TOKEN = 'api-token-0123456789abcdef';
const PASSWORDS: Record<string, string> = {
  'dana.qa': 'dana-password-1',
  'sam.clin': 'sam-password-1',
  'dev.alice': 'alice-password-1',
};
const signer = new Ed25519Signer(crypto.generateKeyPairSync('ed25519').privateKey);
let identities: FileIdentityProvider;

before(async () => {
  identities = new FileIdentityProvider({
    users: [
      {
        id: 'dana.qa',
        name: 'Dana Whitfield',
        roles: ['qa'],
        passwordHash: await hashPassword(PASSWORDS['dana.qa']!, FAST),
        disabled: false,
      },
      {
        id: 'sam.clin',
        name: 'Dr Sam Okafor',
        roles: ['clinical'],
        passwordHash: await hashPassword(PASSWORDS['sam.clin']!, FAST),
        disabled: false,
      },
      {
        id: 'dev.alice',
        name: 'Alice Dev',
        roles: ['qa'],
        passwordHash: await hashPassword(PASSWORDS['dev.alice']!, FAST),
        disabled: false,
      },
    ],
  });
});

interface Body {
  error?: string;
  type?: string;
  repeated?: boolean;
  pendingRoles?: string[];
  signature?: { signer: string; printedName: string; role: string; at: string; meaning: string };
  issues?: Array<{ path: string; message: string }>;
}

async function setup(opts: { usersConfigured?: boolean } = {}) {
  const temporal = new FakeTemporal();
  const evidence = new MemoryEvidence();
  const audit = new MemoryAuditLog();
  const throttle = new MemoryLoginThrottle();
  const release = temporal.add(new FakeRelease('sepsis-alert-abc-1', evidence, signer));
  await release.toAwaitingApproval();
  const configured = opts.usersConfigured ?? true;
  const ui: UiDeps = {
    client: temporal,
    evidence,
    identities: configured ? identities : NO_USERS,
    usersConfigured: configured,
    sessions: new MemorySessionStore(),
    throttle,
    audit,
    verifiers: [new PublicKeyVerifier(signer.publicKey())],
    systemKeyPem: null,
    secureCookies: false,
    log,
    clientAddress: () => '203.0.113.9',
    duplicateWaitMs: 2000,
  };
  const app = createApp({
    client: temporal,
    config: { api: { host: '127.0.0.1', port: 0, url: 'http://x', token: TOKEN } },
    log,
    ui,
  });
  const body = (over: Record<string, unknown> = {}) => ({
    username: 'dana.qa',
    password: PASSWORDS['dana.qa'],
    role: 'qa',
    decision: 'approve',
    meaning: 'approved',
    reason: 'evidence reviewed',
    dossierSha256: release.state.dossier!.sha256,
    ...over,
  });
  const sign = async (b: unknown, headers: Record<string, string> = {}) => {
    const res = await app.request(`/api/releases/${release.releaseId}/signatures`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...headers },
      body: JSON.stringify(b),
    });
    return { status: res.status, body: (await res.json()) as Body, headers: res.headers };
  };
  const withdraw = async (b: unknown) => {
    const res = await app.request(`/api/releases/${release.releaseId}/signatures/withdraw`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(b),
    });
    return { status: res.status, body: (await res.json()) as Body & { withdrawalKey?: string } };
  };
  return { app, temporal, release, audit, throttle, body, sign, withdraw };
}

describe('POST /api/releases/:id/signatures', () => {
  it('signs as the authenticated account: signer and printed name from the users file, 201 with the manifestation', async () => {
    const t = await setup();
    const r = await t.sign(t.body());
    assert.equal(r.status, 201, r.body.error);
    assert.equal(r.body.repeated, false);
    assert.deepEqual(r.body.pendingRoles, ['clinical']);
    assert.equal(r.body.signature?.signer, 'dana.qa');
    assert.equal(r.body.signature?.printedName, 'Dana Whitfield');
    assert.equal(r.body.signature?.role, 'qa');
    assert.match(r.body.signature?.at ?? '', /^\d{4}-\d\d-\d\dT/);
    assert.equal(t.release.state.signatures[0]?.printedName, 'Dana Whitfield');
    assert.deepEqual(
      t.audit.events.map((e) => e.type),
      ['reauth.success', 'signature.accepted'],
    );
    assert.equal(t.audit.events[0]?.channel, 'api');
    assert.ok(!JSON.stringify(t.audit.events).includes(PASSWORDS['dana.qa']!), 'no password in the audit log');
  });

  it('refuses signer or printed name in the body (400) and sends nothing', async () => {
    const t = await setup();
    const r = await t.sign(t.body({ signer: 'sam.clin', printedName: 'Someone Else' }));
    assert.equal(r.status, 400);
    assert.match(JSON.stringify(r.body.issues), /come from the account/);
    assert.equal(t.release.updates.length, 0);
  });

  it('answers 401 for a wrong password, counts it towards lockout, then 429 even with the right one', async () => {
    const t = await setup();
    for (let i = 0; i < 4; i++) assert.equal((await t.sign(t.body({ password: 'wrong' }))).status, 401);
    const fifth = await t.sign(t.body({ password: 'wrong' }));
    assert.equal(fifth.status, 401);
    assert.match(fifth.body.error ?? '', /now locked/);
    const locked = await t.sign(t.body());
    assert.equal(locked.status, 429);
    assert.ok(Number(locked.headers.get('retry-after')) > 0);
    assert.equal(t.release.updates.length, 0);
    assert.deepEqual(
      t.audit.events.map((e) => e.type),
      ['reauth.failure', 'reauth.failure', 'reauth.failure', 'reauth.failure', 'reauth.failure', 'login.locked'],
    );
  });

  it('answers 401 for an unknown user, exactly as for a wrong password', async () => {
    const t = await setup();
    const r = await t.sign(t.body({ username: 'nobody' }));
    assert.equal(r.status, 401);
    assert.match(r.body.error ?? '', /unknown user id or wrong password/);
  });

  it('answers 403 for a role the account does not hold, without asking the workflow', async () => {
    const t = await setup();
    const r = await t.sign(t.body({ role: 'clinical' }));
    assert.equal(r.status, 403);
    assert.match(r.body.error ?? '', /does not hold the role clinical/);
    assert.equal(t.release.updates.length, 0);
    assert.equal(t.audit.events.at(-1)?.type, 'signature.refused');
  });

  it('answers 403 for self-approval and for a role the release does not require (validator types)', async () => {
    const t = await setup();
    const self = await t.sign(t.body({ username: 'dev.alice', password: PASSWORDS['dev.alice'] }));
    assert.equal(self.status, 403);
    assert.equal(self.body.type, 'VigilSelfApproval');
  });

  it('answers 409 for a stale digest and for a second, different signature by the same person', async () => {
    const t = await setup();
    const stale = await t.sign(t.body({ dossierSha256: 'f'.repeat(64) }));
    assert.equal(stale.status, 409);
    assert.equal(stale.body.type, 'VigilStaleDigest');
    assert.equal((await t.sign(t.body())).status, 201);
    const other = await t.sign(t.body({ decision: 'reject', meaning: 'reviewed', reason: 'changed my mind' }));
    assert.equal(other.status, 409);
  });

  it("refuses a meaning outside the role's defined list with 400 naming the list; nothing reaches the workflow", async () => {
    const t = await setup();
    const r = await t.sign(t.body({ meaning: 'approved for canary release' }));
    assert.equal(r.status, 400);
    assert.match(r.body.error!, /not one of the defined meanings for qa: "reviewed", "approved", "responsible for"/);
    assert.equal(t.release.updates.length, 0);
  });

  it('refuses a second signature that differs from the recorded one only in its meaning or its reason', async () => {
    const t = await setup();
    assert.equal((await t.sign(t.body({ meaning: 'approved' }))).status, 201);
    for (const over of [{ meaning: 'reviewed' }, { meaning: 'approved', reason: 'evidence reviewed again' }]) {
      const other = await t.sign(t.body(over));
      assert.equal(other.status, 409, JSON.stringify(over));
      assert.equal(other.body.type, 'VigilDuplicateSigner');
      assert.match(other.body.error!, /dana\.qa has already signed this release/);
    }
    assert.equal(t.release.state.signatures.length, 1);
    const first = t.release.state.signatures[0]!;
    assert.deepEqual([first.meaning, first.reason], ['approved', 'evidence reviewed'], 'the first stands');
  });

  it('refuses every signature once the release has ended, the identical one included', async () => {
    const t = await setup();
    const reject = t.body({ decision: 'reject', meaning: 'reviewed', reason: 'site-c regression' });
    assert.equal((await t.sign(reject)).status, 201);
    assert.equal(t.release.state.stage, 'REJECTED');
    const again = await t.sign(reject);
    assert.equal(again.status, 409);
    assert.equal(again.body.type, 'VigilReleaseFinished');
    assert.match(again.body.error!, /has already finished as REJECTED/);
    assert.equal(t.release.state.signatures.length, 1);
  });

  it('counts only failed password checks towards the address limit, not signatures', async () => {
    const t = await setup();
    const signature = t.body({ meaning: 'approved' });
    assert.equal((await t.sign(signature)).status, 201);
    // 40 successful (repeated) signatures from one address: more than the 30-per-window limit, none refused.
    for (let i = 0; i < 40; i++) assert.equal((await t.sign(signature)).status, 200, `signature ${i + 2}`);
    // Failed checks do count (spread over accounts so no account locks first): the 31st attempt is refused.
    const users = ['sam.clin', 'dev.alice', 'nobody.1', 'nobody.2', 'nobody.3', 'nobody.4', 'nobody.5'];
    for (let i = 0; i < 30; i++) {
      const r = await t.sign(t.body({ username: users[i % users.length], password: 'wrong' }));
      assert.equal(r.status, 401, `failure ${i + 1}`);
    }
    const limited = await t.sign(signature);
    assert.equal(limited.status, 429);
    assert.match(limited.body.error!, /too many sign-in attempts from your address/);
  });
  it('is idempotent: the identical signature again answers 200 repeated, recorded once', async () => {
    const t = await setup();
    const first = await t.sign(t.body());
    const again = await t.sign(t.body());
    assert.deepEqual([first.status, again.status], [201, 200]);
    assert.equal(again.body.repeated, true);
    assert.equal(t.release.state.signatures.length, 1);
    assert.equal(t.release.updates.length, 1);
    assert.equal(t.audit.events.at(-1)?.type, 'signature.duplicate');
  });

  it('still requires the API bearer token', async () => {
    const t = await setup();
    const r = await t.sign(t.body(), { authorization: '' });
    assert.equal(r.status, 401);
    assert.equal(t.audit.events.length, 0);
  });

  it('answers 503 when no users file is configured', async () => {
    const t = await setup({ usersConfigured: false });
    const r = await t.sign(t.body());
    assert.equal(r.status, 503);
    assert.match(r.body.error ?? '', /VIGIL_USERS_FILE/);
  });
});

describe('POST /api/releases/:id/signatures/withdraw', () => {
  const dana = { username: 'dana.qa', password: PASSWORDS['dana.qa'], reason: 'found a labelling issue' };

  it("withdraws the account holder's own approval: 201, pending again, the signature stays with its withdrawal", async () => {
    const t = await setup();
    assert.equal((await t.sign(t.body())).status, 201);
    const r = await t.withdraw(dana);
    assert.equal(r.status, 201, r.body.error);
    assert.deepEqual(r.body.pendingRoles, ['qa', 'clinical']);
    assert.match(r.body.withdrawalKey ?? '', /^sha256\//);
    assert.deepEqual(t.release.withdrawals, [{ signer: 'dana.qa', reason: 'found a labelling issue' }]);
    assert.equal(t.release.state.signatures[0]?.withdrawal?.reason, 'found a labelling issue');
    assert.equal(t.audit.events.at(-1)?.type, 'withdrawal.accepted');
    // No second signature by the same person after withdrawing.
    const again = await t.sign(t.body());
    assert.equal(again.status, 409);
    assert.equal(again.body.type, 'VigilDuplicateSigner');
  });

  it('refuses a signer in the body (400) and a wrong password (401) without asking the workflow', async () => {
    const t = await setup();
    await t.sign(t.body());
    const named = await t.withdraw({ ...dana, signer: 'sam.clin' });
    assert.equal(named.status, 400);
    assert.match(JSON.stringify(named.body.issues), /come from the account/);
    assert.equal((await t.withdraw({ ...dana, password: 'wrong' })).status, 401);
    assert.equal(t.release.withdrawals.length, 0);
    assert.equal(t.release.state.signatures[0]?.withdrawal, undefined);
  });

  it('answers 409 with the validator type: nothing to withdraw, already withdrawn, sign-off settled', async () => {
    const t = await setup();
    const none = await t.withdraw(dana);
    assert.equal(none.status, 409);
    assert.equal(none.body.type, 'VigilNoApprovalToWithdraw');
    assert.equal(t.audit.events.at(-1)?.type, 'withdrawal.refused');
    await t.sign(t.body());
    // Someone else cannot withdraw dana's approval: the signer is the authenticated account.
    const other = await t.withdraw({ username: 'sam.clin', password: PASSWORDS['sam.clin'], reason: 'not mine' });
    assert.equal(other.body.type, 'VigilNoApprovalToWithdraw');
    assert.equal((await t.withdraw(dana)).status, 201);
    const twice = await t.withdraw(dana);
    assert.equal(twice.status, 409);
    assert.equal(twice.body.type, 'VigilAlreadyWithdrawn');

    const settled = await setup();
    await settled.sign(settled.body());
    await settled.sign(
      settled.body({
        username: 'sam.clin',
        password: PASSWORDS['sam.clin'],
        role: 'clinical',
        meaning: 'approved',
      }),
    );
    const late = await settled.withdraw(dana);
    assert.equal(late.status, 409);
    assert.equal(late.body.type, 'VigilNotAwaitingApproval');
  });

  it('answers 503 without a users file', async () => {
    const t = await setup({ usersConfigured: false });
    assert.equal((await t.withdraw(dana)).status, 503);
  });
});
