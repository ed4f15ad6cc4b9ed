/**
 * The production topology (src/topology): Temporal server on PostgreSQL, SeaweedFS, two workers, two API
 * replicas behind nginx (round robin) sharing state in PostgreSQL, two gateways on the shared route store. A
 * release runs through it as users drive it (JSON API through nginx, web sign-off across replicas), then the
 * failovers: a lockout across replicas, per-client sign-in limits through nginx, a worker killed mid-stage, the Temporal server restarted mid-release, an
 * API replica killed under requests. Each release asserts the outcome, a continuous evidence chain and a passing
 * `vigil audit`.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { DEMO_CANDIDATE, DEMO_MODEL_NAME } from '../../src/demo/artifacts';
import type { ReleaseStatus } from '../../src/domain';
import type { Replica } from '../../src/topology';
import { fastPolicy, waitFor } from '../support/harness';
import {
  api,
  audit,
  chainStages,
  decisions,
  finished,
  inStage,
  SIGNERS,
  signWithRetry,
  startDemoRelease,
  startRig,
  status,
  type TopologyRig,
  webLogin,
  webSign,
} from './support';

let rig: TopologyRig;
before(async () => {
  rig = await startRig();
});
after(async () => {
  await rig?.stop();
});

/** Stages of a released demo release's chain: 8 lifecycle decisions and 3 monitoring windows. */
const RELEASED_CHAIN = [
  'SNAPSHOT',
  'OFFLINE_EVAL',
  'SHADOW',
  'AWAITING_APPROVAL',
  'CANARY',
  'CANARY',
  'MONITORING',
  'MONITORING',
  'MONITORING',
  'MONITORING',
  'RELEASED',
];

/** A shadow long enough to disturb it: the workflow sits in a durable timer, then measures. */
const policy = () =>
  fastPolicy('demo.yaml', (p) => {
    p.shadow.durationSeconds = 6;
  });

let undisturbed: ReleaseStatus;

/** A history event's time in epoch milliseconds (same host, same clock as the test). */
function eventMs(t: { seconds?: { toString(): string } | null; nanos?: number | null } | null | undefined): number {
  return Number(t?.seconds?.toString() ?? 0) * 1000 + (t?.nanos ?? 0) / 1e6;
}

/** The route table a gateway serves `sepsis-alert` by (its control API). */
async function routesOf(
  g: Replica,
): Promise<{ production: string; canary: { model: string; percent: number } | null }> {
  const res = await fetch(`${g.url}/control/routes/${DEMO_MODEL_NAME}`, {
    headers: { authorization: `Bearer ${g.env.VIGIL_GATEWAY_CONTROL_TOKEN}` },
    signal: AbortSignal.timeout(10_000),
  });
  assert.equal(res.status, 200, `${g.id}: ${await res.clone().text()}`);
  return (await res.json()) as { production: string; canary: { model: string; percent: number } | null };
}

/**
 * A wrong-password web sign-in through nginx from the loopback address `from` (the socket nginx sees), with extra
 * headers a client chooses; the answer's status. node:http, since fetch cannot pick the local address.
 */
function loginFrom(from: string, username: string, headers: Record<string, string> = {}): Promise<number> {
  const target = new URL(rig.topology.apiUrl);
  const body = new URLSearchParams({ username, password: 'not-the-password', next: '/ui/inbox' }).toString();
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: target.hostname,
        port: target.port,
        localAddress: from,
        method: 'POST',
        path: '/ui/login',
        headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded', 'content-length': body.length },
        timeout: 60_000,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`sign-in from ${from} timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** The release's outcome, chain and audit, as every test here checks them. */
async function assertReleasedAndAudited(releaseId: string): Promise<ReleaseStatus> {
  const end = await finished(rig, releaseId);
  assert.equal(end.outcome, 'RELEASED', end.reason ?? undefined);
  assert.deepEqual(await chainStages(rig, releaseId), RELEASED_CHAIN);
  const { code, failed } = await audit(rig, releaseId);
  assert.deepEqual(failed, []);
  assert.equal(code, 0);
  return end;
}

describe('the production topology', { timeout: 900_000 }, () => {
  it('runs a release to RELEASED: signed in on one API replica, signed on the other, audited', async () => {
    const [a1, a2] = rig.topology.replicas.api.map((r) => r.url!);
    const releaseId = await startDemoRelease(rig, await policy(), 1);
    const waiting = await inStage(rig, releaseId, 'AWAITING_APPROVAL');
    const digest = waiting.dossier!.sha256;
    // Either replica answers for any release: they hold no release state of their own.
    assert.equal((await status(rig, releaseId, a1)).stage, 'AWAITING_APPROVAL');
    assert.equal((await status(rig, releaseId, a2)).stage, 'AWAITING_APPROVAL');

    // The web sign-off: a session made by replica 1 is honoured by replica 2 (sessions live in shared state).
    const { session, status: loginStatus } = await webLogin(a1!, SIGNERS.qa.username, SIGNERS.qa.password);
    assert.ok(session, `sign-in on ${a1} answered ${loginStatus}`);
    const signed = await webSign(a2!, session, releaseId, {
      role: 'qa',
      meaning: 'approved',
      reason: 'evidence reviewed',
      password: SIGNERS.qa.password,
      dossierSha256: digest,
    });
    assert.equal(signed.status, 200, signed.page.slice(0, 500));
    assert.match(signed.page, /Your signature was accepted by the release workflow/);
    assert.match(signed.page, /Pending roles: clinical/);
    // The headless e-signature through nginx for the other role.
    const clinical = await signWithRetry(rig, releaseId, 'clinical', digest);
    assert.equal(clinical.final.status, 201, JSON.stringify(clinical.final.body));

    undisturbed = await assertReleasedAndAudited(releaseId);
    assert.deepEqual(
      undisturbed.signatures.map((s) => [s.role, s.signer]),
      [
        ['qa', 'dana.qa'],
        ['clinical', 'sam.clin'],
      ],
    );
    // Both gateways follow the shared route store: each now serves the candidate in production.
    for (const g of rig.topology.replicas.gateway) {
      await waitFor(
        `${g.id} serving ${DEMO_CANDIDATE.version}`,
        async () => (await routesOf(g)).production === DEMO_CANDIDATE.version,
      );
    }
  });

  it('five wrong passwords lock the account on every replica', async () => {
    const [a1, a2] = rig.topology.replicas.api.map((r) => r.url!);
    const user = 'rae.reg';
    // Alternating replicas: each sees only some of the failures, the shared throttle counts them all.
    for (let i = 0; i < 5; i++) {
      const { status: code } = await webLogin(i % 2 === 0 ? a1! : a2!, user, `wrong-password-${i}`);
      assert.equal(code, 401, `wrong password ${i + 1}`);
    }
    for (const base of [a1!, a2!, rig.topology.apiUrl]) {
      const { session, status: code } = await webLogin(base, user, 'rae-demo-password');
      assert.equal(session, null, `${base} let a locked account in`);
      assert.equal(code, 429, `${base} answered ${code} for a locked account`);
    }
  });

  it('counts sign-in attempts per client through nginx, whatever X-Forwarded-For a client writes', async () => {
    // Two clients on distinct loopback addresses. Both are inside VIGIL_TRUSTED_PROXIES (127.0.0.0/8), as a client
    // arriving through Docker's gateway is in compose: if nginx appended to a client's X-Forwarded-For instead of
    // replacing it, the client's forged entry would be the one counted.
    const [a, b] = ['127.0.0.3', '127.0.0.2'];
    const limit = 30; // DEFAULT_THROTTLE.maxAttemptsPerWindow
    const tag = `xff-${Date.now()}`;
    // A: 30 wrong passwords (unknown ids, so no account locks), each with a different forged address.
    for (let i = 0; i < limit; i++) {
      const code = await loginFrom(a, `${tag}-a${i}`, { 'x-forwarded-for': `203.0.113.${i + 1}` });
      assert.equal(code, 401, `attempt ${i + 1} from ${a}`);
    }
    // B: the 31st wrong password, forging A's address: counted as B's own, so not refused by A's exhausted limit.
    assert.equal(await loginFrom(b, `${tag}-b`, { 'x-forwarded-for': a }), 401, `${b} counted as ${a}`);
    // A's next attempt is over its limit whichever address it forges: its 30 were all counted as A.
    assert.equal(await loginFrom(a, `${tag}-a${limit}`, { 'x-forwarded-for': '198.51.100.7' }), 429);
    // And B still has its own budget.
    assert.equal(await loginFrom(b, `${tag}-b2`), 401);

    // The shared authentication log records what the replicas counted: each client's real address, no forged one.
    const db = new pg.Client({ connectionString: rig.topology.replicas.api[0]!.env.VIGIL_STATE_DATABASE_URL });
    await db.connect();
    try {
      const rows = async () =>
        (
          await db.query<{ type: string; ip: string; n: number }>(
            `SELECT type, ip, count(*)::int AS n FROM vigil_auth_events WHERE user_id LIKE $1 GROUP BY type, ip
             ORDER BY ip, type`,
            [`${tag}-%`],
          )
        ).rows.map((r) => [r.ip, r.type, r.n]);
      // Audit writes are not awaited by the login answer: wait for all 33.
      await waitFor(
        '33 sign-in events recorded',
        async () => (await rows()).reduce((n, r) => n + Number(r[2]), 0) >= 33,
      );
      assert.deepEqual(await rows(), [
        [b, 'login.failure', 2],
        [a, 'login.failure', limit],
        [a, 'login.rate_limited', 1],
      ]);
    } finally {
      await db.end();
    }
  });

  it('a worker killed mid-stage: the other worker finishes with identical decisions', async () => {
    const releaseId = await startDemoRelease(rig, await policy(), 2);
    await inStage(rig, releaseId, 'SHADOW');
    // The worker that ran the release's latest workflow task holds it (sticky cache): that is the one to kill.
    const history = await rig.temporal.workflow.getHandle(releaseId).fetchHistory();
    const identities = (history.events ?? [])
      .map((e) => e.workflowTaskStartedEventAttributes?.identity)
      .filter((x): x is string => !!x);
    const holder = identities.at(-1)!;
    const victim = rig.topology.replicas.worker.find((w) => holder.startsWith(`${w.process.pid}@`));
    assert.ok(victim, `the workflow task ran on ${holder}, not one of our workers`);
    const survivor = rig.topology.replicas.worker.find((w) => w !== victim)!;
    process.kill(victim.process.pid, 'SIGKILL');
    await victim.process.exited;
    const killedAt = Date.now();
    try {
      const waiting = await inStage(rig, releaseId, 'AWAITING_APPROVAL');
      for (const role of ['qa', 'clinical'] as const) {
        const r = await signWithRetry(rig, releaseId, role, waiting.dossier!.sha256);
        assert.equal(r.final.status, 201, JSON.stringify(r.final.body));
      }
      const end = await assertReleasedAndAudited(releaseId);
      assert.deepEqual(decisions(end), decisions(undisturbed));
      // Every workflow task started after the kill ran on the surviving worker (one may have started on the victim
      // between the history read above and the kill: that is why this goes by the event's time).
      const after = await rig.temporal.workflow.getHandle(releaseId).fetchHistory();
      const later = (after.events ?? [])
        .filter((e) => e.workflowTaskStartedEventAttributes && eventMs(e.eventTime) > killedAt)
        .map((e) => e.workflowTaskStartedEventAttributes!.identity ?? '');
      assert.ok(later.length > 0);
      assert.ok(
        later.every((id) => id.startsWith(`${survivor.process.pid}@`)),
        `tasks after the kill: ${later.join(', ')}`,
      );
    } finally {
      await victim.restart();
    }
  });

  it('the Temporal server restarted mid-release: the release carries on to RELEASED', async () => {
    const releaseId = await startDemoRelease(rig, await policy(), 3);
    await inStage(rig, releaseId, 'SHADOW');
    const oldPid = rig.topology.temporal.process.pid;
    await rig.topology.temporal.restart();
    assert.notEqual(rig.topology.temporal.process.pid, oldPid);
    const waiting = await inStage(rig, releaseId, 'AWAITING_APPROVAL');
    for (const role of ['qa', 'clinical'] as const) {
      const r = await signWithRetry(rig, releaseId, role, waiting.dossier!.sha256);
      assert.equal(r.final.status, 201, JSON.stringify(r.final.body));
    }
    const end = await assertReleasedAndAudited(releaseId);
    assert.deepEqual(decisions(end), decisions(undisturbed));
  });

  it('an API replica killed under requests: nginx and the client carry them to the other', async () => {
    const releaseId = await startDemoRelease(rig, await policy(), 4);
    const waiting = await inStage(rig, releaseId, 'AWAITING_APPROVAL');
    const digest = waiting.dossier!.sha256;
    const [victim, survivor] = rig.topology.replicas.api as [Replica, Replica];
    // Frozen first (SIGSTOP): the kernel still accepts nginx's connections, so requests routed to it are sent and
    // wait in its socket; then it dies (SIGKILL) with them in flight. Deterministic, unlike racing a live process.
    process.kill(victim.process.pid, 'SIGSTOP');
    try {
      // Both signatures at once through nginx: round robin gives one to each replica. nginx does not repeat a POST
      // it already passed on (the replica may have acted), so that client sees 502 and retries; signing is
      // idempotent. Status reads are idempotent: nginx itself passes a failed one to the live replica.
      const signing = Promise.all([
        signWithRetry(rig, releaseId, 'qa', digest),
        signWithRetry(rig, releaseId, 'clinical', digest),
      ]);
      // The reads only after nginx has dispatched both signatures (two consecutive requests, two replicas): once the
      // live replica has recorded its one, asked directly, not through nginx (a fixed 400 ms pause lets a starved test
      // process send a read between the two signatures on a loaded machine).
      await waitFor(
        'the live replica to record one signature',
        async () => (await status(rig, releaseId, survivor.url!)).signatures.length === 1,
        120_000,
      );
      const reads = Promise.all(
        Array.from({ length: 10 }, async () => (await api(rig, 'GET', `/releases/${releaseId}`)).status),
      );
      await new Promise((r) => setTimeout(r, 1500));
      process.kill(victim.process.pid, 'SIGKILL');
      const [qa, clinical] = await signing;
      // The request the dead replica held came back as nginx's 502 and went through on the retry (201: it had
      // never reached the workflow; 200 "repeated" would mean it had).
      assert.deepEqual(
        [qa.attempts, clinical.attempts].map((a) => a.length).sort(),
        [1, 2],
        JSON.stringify([qa, clinical]),
      );
      assert.deepEqual([...qa.attempts, ...clinical.attempts].sort(), [201, 201, 502]);
      assert.deepEqual(await reads, Array(10).fill(200));
      const end = await assertReleasedAndAudited(releaseId);
      // Each person signed once, whatever was retried.
      assert.deepEqual(end.signatures.map((s) => s.signer).sort(), ['dana.qa', 'sam.clin']);
      assert.deepEqual(decisions(end), decisions(undisturbed));
    } finally {
      victim.process.stop(0).catch(() => undefined); // SIGKILLs a stopped one; a no-op when it is gone
      await victim.process.exited;
      await victim.restart();
    }
  });

  it('a gateway stopped during a canary step: the other follows the canary, the restarted one catches up', async () => {
    // Bakes long enough to stop a gateway inside one and see the other gateway route the canary.
    const slowCanary = await fastPolicy('demo.yaml', (p) => {
      for (const step of p.canary.steps) step.bakeSeconds = 8;
    });
    const releaseId = await startDemoRelease(rig, slowCanary, 5);
    const waiting = await inStage(rig, releaseId, 'AWAITING_APPROVAL');
    for (const role of ['qa', 'clinical'] as const) {
      const r = await signWithRetry(rig, releaseId, role, waiting.dossier!.sha256);
      assert.equal(r.final.status, 201, JSON.stringify(r.final.body));
    }
    await inStage(rig, releaseId, 'CANARY');
    const [g1, g2] = rig.topology.replicas.gateway as [Replica, Replica];
    await g2.process.stop(); // SIGTERM: a clean stop (final upload, a `stopped` watermark)
    try {
      await waitFor(`${g1.id} routing the canary`, async () => {
        const t = await routesOf(g1);
        return t.canary?.model === DEMO_CANDIDATE.version && t.production !== DEMO_CANDIDATE.version;
      });
      await assertReleasedAndAudited(releaseId);
      assert.equal((await routesOf(g1)).production, DEMO_CANDIDATE.version);
    } finally {
      await g2.restart();
    }
    // Started again after the release, it takes the current table from the route store, not its models file's.
    const t = await routesOf(g2);
    assert.equal(t.production, DEMO_CANDIDATE.version);
    assert.equal(t.canary, null);
  });
});
