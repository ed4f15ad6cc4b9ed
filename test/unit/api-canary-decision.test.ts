/**
 * POST /api/releases/:id/canary-decision (`vigil canary resume|rollback`) over HTTP with app.request: the decider
 * re-authenticates like a signer, the decider's id and printed name come from the account, and the workflow
 * validator's refusals arrive with their statuses. The fake release runs the real ReleaseState validator.
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
  MemorySessionStore,
} from '../../src/auth';
import { createLogger } from '../../src/logging/logger';
import type { UiDeps } from '../../src/ui';
import { FakeRelease, FakeTemporal, MemoryEvidence } from './ui-fakes';

const log = createLogger('api-canary-test', 'silent');
const TOKEN = 'api-token-0123456789abcdef';
const signer = new Ed25519Signer(crypto.generateKeyPairSync('ed25519').privateKey);
let identities: FileIdentityProvider;

before(async () => {
  const FAST = { N: 1024, r: 8, p: 1 };
  identities = new FileIdentityProvider({
    users: [
      {
        id: 'sam.clin',
        name: 'Dr Sam Okafor',
        roles: ['clinical'],
        passwordHash: await hashPassword('sam-password-1', FAST),
        disabled: false,
      },
      {
        id: 'rae.reg',
        name: 'Rae Regulatory',
        roles: ['regulatory'],
        passwordHash: await hashPassword('rae-password-1', FAST),
        disabled: false,
      },
    ],
  });
});

async function setup() {
  const temporal = new FakeTemporal();
  const evidence = new MemoryEvidence();
  const audit = new MemoryAuditLog();
  const release = temporal.add(new FakeRelease('sepsis-alert-abc-1', evidence, signer));
  const ui: UiDeps = {
    client: temporal,
    evidence,
    identities,
    usersConfigured: true,
    sessions: new MemorySessionStore(),
    throttle: new MemoryLoginThrottle(),
    audit,
    verifiers: [new PublicKeyVerifier(signer.publicKey())],
    systemKeyPem: null,
    secureCookies: false,
    log,
    clientAddress: () => '203.0.113.9',
  };
  const app = createApp({
    client: temporal,
    config: { api: { host: '127.0.0.1', port: 0, url: 'http://x', token: TOKEN } },
    log,
    ui,
  });
  const decide = async (body: Record<string, unknown>) => {
    const res = await app.request(`/api/releases/${release.releaseId}/canary-decision`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        username: 'sam.clin',
        password: 'sam-password-1',
        role: 'clinical',
        decision: 'resume',
        reason: 'site lead confirmed',
        ...body,
      }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  return { release, decide, audit };
}

describe('POST /api/releases/:id/canary-decision', () => {
  it('records a held canary decision by the authenticated account (201), then refuses a second one (409)', async () => {
    const { release, decide, audit } = await setup();
    release.state.stage = 'CANARY';
    release.state.canaryHold = {
      kind: 'pause',
      step: 0,
      since: '2026-11-26T00:00:00.000Z',
      deadline: null,
      failure: null,
    };
    const ok = await decide({});
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
    assert.equal(ok.body.decision, 'resume');
    const recorded = release.state.canaryDecisions[0]!;
    assert.deepEqual(
      [recorded.signer, recorded.printedName, recorded.role, recorded.hold.kind],
      ['sam.clin', 'Dr Sam Okafor', 'clinical', 'pause'],
    );
    assert.equal(ok.body.record, recorded.evidence.key);
    assert.ok(audit.events.some((e) => e.type === 'canary-decision.accepted' && e.user === 'sam.clin'));
    const again = await decide({});
    assert.equal(again.status, 409);
    assert.equal(again.body.type, 'VigilNotAwaitingCanaryDecision');
  });

  it('refuses without a hold (409), a wrong password (401), a role the account lacks or the release does not require (403), a body signer (400)', async () => {
    const { release, decide } = await setup();
    release.state.stage = 'CANARY';
    assert.equal((await decide({})).status, 409);
    release.state.canaryHold = {
      kind: 'escalation',
      step: 1,
      since: '2026-11-26T00:00:00.000Z',
      deadline: '2026-11-27T00:00:00.000Z',
      failure: ['harm'],
    };
    assert.equal((await decide({ password: 'wrong' })).status, 401);
    assert.equal((await decide({ role: 'qa' })).status, 403, 'sam.clin does not hold qa');
    const reg = await decide({ username: 'rae.reg', password: 'rae-password-1', role: 'regulatory' });
    assert.equal(reg.status, 403, 'regulatory is not a role this release requires');
    assert.equal(reg.body.type, 'VigilRoleNotRequired');
    const forged = await decide({ signer: 'someone.else' });
    assert.equal(forged.status, 400);
    assert.equal(release.state.canaryDecisions.length, 0, 'nothing was recorded');
  });
});
