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
import pg from 'pg';
import { openSharedState, type SharedState } from '../../src/api/shared-state';
import type { OidcIdentityProvider } from '../../src/auth/oidc';
import { createLogger } from '../../src/logging/logger';
import { startPostgres, type PostgresServer } from '../../src/stack/postgres';
import {
  awaitingRelease,
  browserAt,
  CLI_CLIENT,
  CLI_CLIENT_ID,
  dana,
  deviceIdToken,
  oidcReplica,
  oidcSettings,
  postSignature,
  REDIRECT,
  signIn,
  startSigning,
  uiClient,
} from '../support/oidc-harness';
import { IdpAgent, startTestOp, type TestOp } from '../support/oidc-provider';
import type { FakeRelease } from '../unit/ui-fakes';

const log = createLogger('oidc-replicas-test', 'silent');
const DANA = dana();

let dir: string;
let postgres: PostgresServer;
let op: TestOp;
const opened: SharedState[] = [];

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-oidc-replicas-'));
  [postgres, op] = await Promise.all([
    startPostgres({ stateDir: path.join(dir, 'pg'), log, databases: ['vigil_state'] }),
    startTestOp({ users: [DANA], clients: [uiClient(REDIRECT), CLI_CLIENT] }),
  ]);
});

after(async () => {
  await Promise.all(opened.map((s) => s.close().catch(() => undefined)));
  await Promise.all([postgres?.stop(), op?.stop()]);
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** Two API replicas: each its own pool on the shared database and its own OIDC parts, one release behind both. */
async function twoReplicas(): Promise<{ replicas: Hono[]; release: FakeRelease; identities: OidcIdentityProvider[] }> {
  const fixture = await awaitingRelease(`sepsis-alert-${crypto.randomBytes(3).toString('hex')}`);
  const s = oidcSettings(op, { roleMap: { 'vigil-qa': ['qa'], 'vigil-audit': ['auditor'] } });
  const identities: OidcIdentityProvider[] = [];
  const replica = async (): Promise<Hono> => {
    const shared = await openSharedState(postgres.url('vigil_state'), { log, ledgerTtlMs: 3600_000 });
    opened.push(shared);
    const { app, oidc } = oidcReplica(fixture, s, {
      log,
      sessions: shared.sessions,
      throttle: shared.throttle,
      audit: shared.audit,
      usedTokens: shared.usedTokens,
    });
    identities.push(oidc.identities);
    return app;
  };
  return { replicas: [await replica(), await replica()], release: fixture.release, identities };
}

/** A fresh MFA ID token from the device authorization grant (what `vigil approve --sso` sends). */
const deviceToken = () => deviceIdToken(op, CLI_CLIENT_ID, DANA, DANA.otp);

const sign = (app: Hono, release: FakeRelease, idToken: string, reason: string) =>
  postSignature(async (p, init) => app.request(p, init), release, { reason, idToken });

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
    const [a, b] = replicas as [Hono, Hono];
    const onA = browserAt(() => a, jar);
    const onB = browserAt(() => b, jar);
    await signIn(onA, idp, DANA);
    assert.deepEqual([...jar.keys()], ['vigil_session'], 'only the session cookie');
    assert.equal(identities[1]!.lookup('dana.qa'), null, 'replica B never saw the sign-in');

    const page = await onB(`/ui/releases/${release.releaseId}`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /Dana Whitfield/);
    const to = await startSigning(onB, release);
    // Added to a group at the provider since signing in: the re-authentication's roles replace the session's.
    // (The provider reads the groups when it issues the ID token, at Vigil's code exchange in the callback.)
    DANA.groups.push('vigil-audit');
    let done: Response;
    try {
      const again = await idp.authorize(to, REDIRECT, DANA, DANA.otp);
      // The subject check at the callback reads the provider subject from the session in PostgreSQL.
      done = await onB(again.callback.toString());
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
