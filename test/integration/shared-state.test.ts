/**
 * Two API replicas sharing one PostgreSQL database (started by src/stack/postgres.ts) and a real Temporal dev server:
 * a session made on one works on the other and ends on both; wrong passwords count across replicas; parallel copies
 * of a webhook delivery get one "queued"; migrations are safe to run again and together. The PostgreSQL stores also
 * meet the same contracts as the in-memory ones (test/support/state-contracts.ts).
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import type { Hono } from 'hono';
import pg from 'pg';
import { createApp } from '../../src/api';
import { openSharedState, type SharedState } from '../../src/api/shared-state';
import {
  InMemoryDeliveryLedger,
  parseWebhookConfig,
  PgDeliveryLedger,
  signGitHub,
  type DeliveryLedger,
  type WebhookConfig,
} from '../../src/api/webhooks';
import {
  FileIdentityProvider,
  hashPassword,
  PgAuditLog,
  PgLoginThrottle,
  PgSessionStore,
  PgUsedTokenStore,
  type AuthEvent,
} from '../../src/auth';
import { releaseQueueWorkflowId, ReleasePolicySchema } from '../../src/domain';
import { createLogger } from '../../src/logging/logger';
import { TemporalReleaseQueue } from '../../src/services/release-queue';
import { startTestStack, type TestStack } from '../../src/stack';
import { startPostgres, type PostgresServer } from '../../src/stack/postgres';
import { migrate, MIGRATIONS, MigrationError } from '../../src/state';
import type { UiDeps } from '../../src/ui';
import { hex64, validPolicy } from '../support/fixtures';
import {
  deliveryLedgerContract,
  loginThrottleContract,
  sessionStoreContract,
  usedTokenStoreContract,
} from '../support/state-contracts';

const log = createLogger('shared-state-test', 'silent');
const FAST_SCRYPT = { N: 1024, r: 8, p: 1 };
const PASSWORDS = { 'dana.qa': 'dana-password-1', 'sam.clin': 'sam-password-1', 'lee.qa': 'lee-password-1' } as const;
const GITHUB_SECRET = 'shared-state-github-secret-0123';
const MODEL = 'sepsis-alert';

let dir: string;
let postgres: PostgresServer;
let stack: TestStack;
let connection: Connection;
let client: Client;
let identities: FileIdentityProvider;
let webhookConfig: WebhookConfig;
/** Database-backed stores opened by the tests, closed in `after`. */
const opened: SharedState[] = [];
const pools: pg.Pool[] = [];

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-shared-state-'));
  const [pgServer, testStack] = await Promise.all([
    startPostgres({ stateDir: path.join(dir, 'pg'), log, databases: ['vigil_state', 'contracts', 'fresh'] }),
    startTestStack({ seaweed: false }),
  ]);
  postgres = pgServer;
  stack = testStack;
  connection = await Connection.connect({ address: stack.temporalAddress! });
  client = new Client({ connection });
  identities = new FileIdentityProvider({
    users: [
      {
        id: 'dana.qa',
        name: 'Dana Whitfield',
        roles: ['qa'],
        passwordHash: await hashPassword(PASSWORDS['dana.qa'], FAST_SCRYPT),
        disabled: false,
      },
      {
        id: 'sam.clin',
        name: 'Dr Sam Okafor',
        roles: ['clinical'],
        passwordHash: await hashPassword(PASSWORDS['sam.clin'], FAST_SCRYPT),
        disabled: false,
      },
      {
        id: 'lee.qa',
        name: 'Lee Marsh',
        roles: ['qa'],
        passwordHash: await hashPassword(PASSWORDS['lee.qa'], FAST_SCRYPT),
        disabled: false,
      },
    ],
  });
  webhookConfig = parseWebhookConfig(
    {
      version: 1,
      models: [
        {
          model: MODEL,
          policyFile: 'p.yaml',
          incumbent: { version: '2.0.0', artifact: { key: `models/${MODEL}/2.0.0.json`, sha256: hex64('incumbent') } },
          datasets: [
            { role: 'evaluation', name: 'eval', artifact: { key: 'datasets/eval.csv', sha256: hex64('eval') } },
          ],
          candidate: { keyTemplate: 'models/{model}/git-{commit}.json' },
          git: [{ provider: 'github', repository: 'acme/sepsis-model', branches: ['main'] }],
        },
      ],
    },
    () => ReleasePolicySchema.parse(validPolicy()),
  );
});

after(async () => {
  await Promise.all(opened.map((s) => s.close().catch(() => undefined)));
  await Promise.all(pools.map((p) => p.end().catch(() => undefined)));
  await connection?.close();
  await Promise.all([stack?.stop(), postgres?.stop()]);
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

async function share(database = 'vigil_state'): Promise<SharedState> {
  const shared = await openSharedState(postgres.url(database), { log, ledgerTtlMs: 3600_000 });
  opened.push(shared);
  return shared;
}

function pool(database: string): pg.Pool {
  const p = new pg.Pool({ connectionString: postgres.url(database), max: 10 });
  p.on('error', () => undefined); // idle connections end when the restart test stops the server
  pools.push(p);
  return p;
}

/** One API replica: the app wired as src/api/main.ts wires it, with the given stores. */
function replica(stores: Pick<SharedState, 'sessions' | 'throttle' | 'audit'>, ledger: DeliveryLedger) {
  const ui: UiDeps = {
    client,
    evidence: { getBytes: () => Promise.reject(new Error('no evidence in this test')) },
    identities,
    usersConfigured: true,
    sessions: stores.sessions,
    throttle: stores.throttle,
    audit: stores.audit,
    verifiers: [],
    systemKeyPem: null,
    secureCookies: false,
    log,
    clientAddress: () => '203.0.113.7',
  };
  const app: Hono = createApp({
    client,
    config: { api: { host: '127.0.0.1', port: 0, url: 'http://x', token: 'api-token-0123456789abcdef' } },
    log,
    ui,
    webhooks: {
      config: webhookConfig,
      secrets: { github: GITHUB_SECRET },
      resolver: {
        sha256Of: async (key) => (key.includes('/git-') ? crypto.createHash('sha256').update(key).digest('hex') : null),
      },
      queue: new TemporalReleaseQueue(client),
      ledger,
    },
  });
  const post = (p: string, form: Record<string, string>, headers: Record<string, string> = {}) =>
    app.request(p, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', host: 'localhost', ...headers },
      body: new URLSearchParams(form).toString(),
    });
  const get = (p: string, headers: Record<string, string> = {}) =>
    app.request(p, { headers: { host: 'localhost', ...headers } });
  return { app, post, get };
}
type Replica = ReturnType<typeof replica>;

async function replicas(): Promise<[Replica, Replica, SharedState, SharedState]> {
  const [a, b] = await Promise.all([share(), share()]);
  return [replica(a, a.ledger), replica(b, b.ledger), a, b];
}

describe('two API replicas on one shared-state database', () => {
  it('a session made on one replica works on the other; signing out on one ends it on both', async () => {
    const [one, two] = await replicas();
    const login = await one.post('/ui/login', {
      username: 'dana.qa',
      password: PASSWORDS['dana.qa'],
      next: '/ui/inbox',
    });
    assert.equal(login.status, 303);
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;

    const onTwo = await two.get('/ui/inbox', { cookie });
    assert.equal(onTwo.status, 200);
    const page = await onTwo.text();
    assert.match(page, /Dana Whitfield/);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page)![1]!;
    assert.equal((await one.get('/ui/inbox', { cookie })).status, 200);

    assert.equal((await two.post('/ui/logout', { _csrf: csrf }, { cookie })).status, 303);
    assert.equal((await one.get('/ui/inbox', { cookie })).status, 401);
    assert.equal((await two.get('/ui/inbox', { cookie })).status, 401);
  });

  it('five wrong passwords through alternating replicas lock the account on both', async () => {
    const [one, two, shared] = await replicas();
    const user = 'sam.clin';
    const answers: Array<{ status: number; text: string }> = [];
    for (let i = 0; i < 5; i++) {
      const res = await [one, two][i % 2]!.post('/ui/login', { username: user, password: `wrong-password-${i}` });
      answers.push({ status: res.status, text: await res.text() });
    }
    assert.deepEqual(
      answers.map((a) => a.status),
      [401, 401, 401, 401, 401],
    );
    assert.ok(!answers[3]!.text.includes('now locked'), 'four failures do not lock');
    assert.match(answers[4]!.text, /The account is now locked/);
    for (const r of [one, two]) {
      const res = await r.post('/ui/login', { username: user, password: PASSWORDS[user] });
      assert.equal(res.status, 429, 'the right password is refused on both replicas while locked');
    }
    // Both replicas wrote one audit log (the routes record without waiting: give the last writes a moment).
    const eventsOf = async (): Promise<AuthEvent[]> =>
      (await (shared.audit as PgAuditLog).list()).filter((e) => e.user === user);
    for (let i = 0; i < 50 && (await eventsOf()).length < 7; i++) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(
      (await eventsOf()).map((e) => [e.type, e.locked ?? null]).sort(),
      [
        ...Array.from({ length: 4 }, () => ['login.failure', false]),
        ['login.failure', true],
        ['login.locked', null],
        ['login.locked', null],
      ].sort(),
    );
  });

  it('wrong passwords at sign-in on one replica and at signing on the other count towards one lockout', async () => {
    const [one, two] = await replicas();
    const user = 'lee.qa';
    const sign = (r: Replica, password: string) =>
      r.app.request('/api/releases/some-release/signatures', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer api-token-0123456789abcdef' },
        body: JSON.stringify({
          username: user,
          password,
          role: 'qa',
          decision: 'approve',
          meaning: 'approved',
          reason: 'reviewed',
          dossierSha256: hex64('dossier'),
        }),
      });
    const statuses = [];
    for (let i = 0; i < 3; i++)
      statuses.push((await one.post('/ui/login', { username: user, password: `no-${i}` })).status);
    for (let i = 0; i < 2; i++) statuses.push((await sign(two, `no-${i}`)).status);
    assert.deepEqual(statuses, [401, 401, 401, 401, 401]);
    const refused = await sign(two, PASSWORDS[user]);
    assert.equal(refused.status, 429, 'signing refuses the right password while locked');
    assert.match(((await refused.json()) as { error: string }).error, /the account is locked/);
    assert.equal((await one.post('/ui/login', { username: user, password: PASSWORDS[user] })).status, 429);
  });

  it('counts failures and address attempts exactly when they race through both replicas', async () => {
    const [, , a, b] = await replicas();
    const user = `racer-${Date.now()}`;
    const locks = await Promise.all(Array.from({ length: 50 }, (_, i) => [a, b][i % 2]!.throttle.fail(user)));
    // 50 failures at 5 per lock: exactly 10 of them locked the account (a lost update would lock fewer times).
    assert.equal(locks.filter(Boolean).length, 10);

    const ip = `198.51.100.${Date.now() % 250}`;
    const allowed = await Promise.all(Array.from({ length: 45 }, (_, i) => [a, b][i % 2]!.throttle.allowAttempt(ip)));
    assert.equal(allowed.filter(Boolean).length, 30, 'the default 30 attempts per window, across replicas');
  });

  it('10 parallel copies of a delivery across two replicas: exactly one queued, the rest duplicates', async () => {
    const [one, two, a] = await replicas();
    const started: string[] = [];
    const push = async (commit: string, delivery: string, r: Replica) => {
      const body = JSON.stringify({
        ref: 'refs/heads/main',
        after: commit,
        repository: { full_name: 'acme/sepsis-model', pushed_at: Math.floor(Date.now() / 1000) },
        pusher: { name: 'alice' },
      });
      const res = await r.app.request('/webhooks/github', {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-github-event': 'push',
          'x-github-delivery': delivery,
          'x-hub-signature-256': signGitHub(GITHUB_SECRET, body),
        },
        body,
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    try {
      const first = await push('a'.repeat(40), 'delivery-in-flight', one);
      assert.equal(first.status, 201, JSON.stringify(first.body));
      started.push(first.body.releaseId as string);
      // The queue decision reads Temporal's visibility, which is eventually consistent: wait until it lists the run.
      const query = `WorkflowType = 'releaseLifecycle' AND ExecutionStatus = 'Running' AND VigilModel = '${MODEL}'`;
      for (let i = 0; i < 100 && (await client.workflow.count(query)).count === 0; i++) {
        await new Promise((r) => setTimeout(r, 100));
      }

      const copies = await Promise.all(
        Array.from({ length: 10 }, (_, i) => push('b'.repeat(40), 'delivery-parallel', [one, two][i % 2]!)),
      );
      assert.ok(
        copies.every((c) => c.status === 202),
        JSON.stringify(copies),
      );
      const queued = copies.filter((c) => c.body.queued === true);
      const duplicates = copies.filter((c) => c.body.duplicate === true && c.body.outcome === 'queued');
      assert.equal(queued.length, 1, JSON.stringify(copies));
      assert.equal(duplicates.length, 9);
      assert.equal(new Set(copies.map((c) => c.body.releaseId)).size, 1);

      // The same burst with a ledger per replica (the in-memory default): each replica answers "queued" once.
      const [memOne, memTwo] = [
        replica(a, new InMemoryDeliveryLedger({ maxEntries: 100, ttlMs: 3600_000 })),
        replica(a, new InMemoryDeliveryLedger({ maxEntries: 100, ttlMs: 3600_000 })),
      ];
      const perProcess = await Promise.all(
        Array.from({ length: 10 }, (_, i) => push('c'.repeat(40), 'delivery-per-process', [memOne, memTwo][i % 2]!)),
      );
      assert.equal(perProcess.filter((c) => c.body.queued === true).length, 2, JSON.stringify(perProcess));
    } finally {
      for (const id of [...started, releaseQueueWorkflowId(MODEL)]) {
        await client.workflow
          .getHandle(id)
          .terminate('test cleanup')
          .catch(() => undefined);
      }
    }
  });

  it('a replica restart keeps sessions; migrations run again change nothing', async () => {
    const a = await share();
    const session = await a.sessions.create({ id: 'dana.qa', name: 'Dana Whitfield', roles: ['qa'] });
    await a.close();
    const again = await share();
    assert.equal((await again.sessions.get(session.id)).session?.userId, 'dana.qa');
    assert.deepEqual(await migrate(again.database.pool, log), { applied: [] });
    const { rows } = await again.database.pool.query<{ version: number }>(
      'SELECT version FROM vigil_schema_migrations ORDER BY version',
    );
    assert.deepEqual(
      rows.map((r) => r.version),
      MIGRATIONS.map((m) => m.version),
    );
    // The table holds digests of session ids, never the ids that cookies carry.
    const ids = await again.database.pool.query<{ id_sha256: string }>('SELECT id_sha256 FROM vigil_sessions');
    assert.ok(
      ids.rows.length > 0 && ids.rows.every((r) => r.id_sha256 !== session.id && /^[0-9a-f]{64}$/.test(r.id_sha256)),
    );
  });

  it('replicas starting together on a fresh database migrate it once', async () => {
    const starts = await Promise.all([pool('fresh'), pool('fresh'), pool('fresh')].map((p) => migrate(p, log)));
    assert.deepEqual(
      starts.map((s) => s.applied).sort((x, y) => y.length - x.length),
      [MIGRATIONS.map((m) => m.version), [], []],
    );
  });

  it('replicas ride out a database restart: 503 while it is down, the same sessions once it is back', async () => {
    const [one, two] = await replicas();
    const login = await one.post('/ui/login', { username: 'dana.qa', password: PASSWORDS['dana.qa'] });
    assert.equal(login.status, 303);
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    const { port } = postgres;
    await postgres.stop();

    const page = await two.get('/ui/inbox', { cookie });
    assert.equal(page.status, 503);
    assert.match(await page.text(), /the sign-in database is unavailable/);
    const signature = await two.app.request('/api/releases/any-release/signatures', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer api-token-0123456789abcdef' },
      body: JSON.stringify({
        username: 'dana.qa',
        password: PASSWORDS['dana.qa'],
        role: 'qa',
        decision: 'approve',
        meaning: 'approved',
        reason: 'reviewed',
        dossierSha256: hex64('dossier'),
      }),
    });
    assert.equal(signature.status, 503);
    assert.match(((await signature.json()) as { error: string }).error, /shared-state database is unavailable/);
    const body = JSON.stringify({
      ref: 'refs/heads/main',
      after: 'd'.repeat(40),
      repository: { full_name: 'acme/sepsis-model', pushed_at: Math.floor(Date.now() / 1000) },
    });
    const delivery = await two.app.request('/webhooks/github', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-github-event': 'push',
        'x-github-delivery': 'delivery-during-outage',
        'x-hub-signature-256': signGitHub(GITHUB_SECRET, body),
      },
      body,
    });
    assert.equal(delivery.status, 503, 'a webhook sender may retry');

    postgres = await startPostgres({ stateDir: path.join(dir, 'pg'), port, log });
    // The replicas were not restarted: their pools reconnect, and the session made before the outage still works.
    assert.equal((await two.get('/ui/inbox', { cookie })).status, 200);
    assert.equal((await one.get('/ui/inbox', { cookie })).status, 200);
  });

  it('a database of an earlier version is upgraded in place; its sessions keep working', async () => {
    await postgres.createDatabase('upgrade');
    const old = pool('upgrade');
    assert.deepEqual(await migrate(old, log, MIGRATIONS.slice(0, 1)), { applied: [1] });
    await old.query(
      "INSERT INTO vigil_sessions (id_sha256, user_id, csrf_token, created_at, last_seen_at) VALUES ($1, 'dana.qa', 'csrf', $2, $2)",
      [crypto.createHash('sha256').update('old-session').digest('hex'), Date.now()],
    );
    const upgraded = await share('upgrade');
    const { rows } = await old.query<{ version: number }>(
      'SELECT version FROM vigil_schema_migrations ORDER BY version',
    );
    assert.deepEqual(
      rows.map((r) => r.version),
      MIGRATIONS.map((m) => m.version),
    );
    const { session } = await upgraded.sessions.get('old-session');
    assert.equal(session?.userId, 'dana.qa');
    assert.equal(session?.identity, undefined, 'made before sessions kept identities');
  });

  it('a replica connecting as the database owner, not a superuser (as compose does), migrates and works', async () => {
    const admin = pool('postgres');
    await admin.query("CREATE ROLE vigil_app LOGIN PASSWORD 'app-password-0123'");
    await admin.query('CREATE DATABASE owned OWNER vigil_app');
    const url = `postgres://vigil_app:app-password-0123@${postgres.host}:${postgres.port}/owned`;
    const shared = await openSharedState(url, { log, ledgerTtlMs: 3600_000 });
    opened.push(shared);
    const s = await shared.sessions.create({ id: 'dana.qa', name: 'Dana Whitfield', roles: ['qa'] });
    assert.equal((await shared.sessions.get(s.id)).session?.userId, 'dana.qa');
    const { rows } = await shared.database.pool.query<{ super: boolean }>(
      'SELECT rolsuper AS super FROM pg_roles WHERE rolname = current_user',
    );
    assert.deepEqual(rows, [{ super: false }]);
  });

  it('refuses a database whose applied migration differs from the code', async () => {
    const edited = MIGRATIONS.map((m, i) => (i === 0 ? { ...m, sql: `${m.sql}\n-- edited` } : m));
    await assert.rejects(migrate(pool('fresh'), log, edited), MigrationError);
  });
});

describe('PostgreSQL stores meet the store contracts', () => {
  let contracts: pg.Pool;
  before(async () => {
    contracts = pool('contracts');
    await migrate(contracts, log);
  });
  describe('PgSessionStore', () => sessionStoreContract((opts, now) => new PgSessionStore(contracts, opts, now)));
  describe('PgLoginThrottle', () => loginThrottleContract((opts, now) => new PgLoginThrottle(contracts, opts, now)));
  describe('PgDeliveryLedger', () =>
    deliveryLedgerContract((ttlMs, now) => new PgDeliveryLedger(contracts, { ttlMs, now })));
  describe('PgUsedTokenStore', () => usedTokenStoreContract((now) => new PgUsedTokenStore(contracts, now)));
});
