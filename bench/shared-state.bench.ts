/**
 * What sharing the API replicas' state in PostgreSQL costs per operation, against the in-memory stores: the session
 * lookup every UI request makes, a sign-in's store steps, a failed password and a webhook delivery record. Two
 * replicas' stores (two pools) on one PostgreSQL started by src/stack/postgres.ts, `--concurrency` operations in
 * flight, split across the replicas.
 *
 *   npm run bench:shared-state [-- --seconds 5] [--concurrency 16] [--json]
 *
 * Figures go by hand into the "Shared state (bench:shared-state)" section of docs/benchmarks.md.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { openSharedState, type SharedState } from '../src/api/shared-state';
import { InMemoryDeliveryLedger, type DeliveryLedger } from '../src/api/webhooks';
import { MemoryLoginThrottle, MemorySessionStore, type LoginThrottle, type SessionStore } from '../src/auth';
import { createLogger } from '../src/logging/logger';
import { startPostgres } from '../src/stack/postgres';

type Stores = { sessions: SessionStore; throttle: LoginThrottle; ledger: DeliveryLedger };
const who = { id: 'dana.qa', name: 'Dana Whitfield', roles: ['qa' as const] };

/** Runs `op` with `concurrency` in flight for `seconds`; ops/s and latency percentiles in ms. */
async function measure(seconds: number, concurrency: number, op: (i: number) => Promise<unknown>) {
  const latencies: number[] = [];
  const deadline = performance.now() + seconds * 1000;
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const i = next++;
        const t = performance.now();
        await op(i);
        latencies.push(performance.now() - t);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) =>
    Number(latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))]!.toFixed(2));
  return {
    opsPerSecond: Math.round(latencies.length / elapsed),
    p50Ms: pct(0.5),
    p99Ms: pct(0.99),
    ops: latencies.length,
  };
}

async function scenarios(replicas: Stores[], seconds: number, concurrency: number) {
  const on = (i: number) => replicas[i % replicas.length]!;
  const live = await Promise.all(Array.from({ length: 200 }, (_, i) => on(i).sessions.create(who)));
  return {
    'session lookup (every UI request)': await measure(seconds, concurrency, (i) =>
      on(i).sessions.get(live[i % live.length]!.id),
    ),
    'sign-in store steps (limit, lock check, reset, new session)': await measure(seconds, concurrency, async (i) => {
      const r = on(i);
      const ip = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
      await r.throttle.allowAttempt(ip);
      await r.throttle.lockedFor(who.id);
      await r.throttle.succeed(who.id);
      await r.sessions.create(who);
    }),
    'failed password (count, maybe lock)': await measure(seconds, concurrency, (i) =>
      on(i).throttle.fail(`user-${i % 1000}`),
    ),
    'webhook delivery record (first wins)': await measure(seconds, concurrency, (i) =>
      on(i).ledger.record(`bench:${i}`, { releaseId: `r-${i}`, outcome: 'started' }),
    ),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '5' },
      concurrency: { type: 'string', default: '16' },
      json: { type: 'boolean', default: false },
    },
  });
  const seconds = Number(values.seconds);
  const concurrency = Number(values.concurrency);
  const log = createLogger('bench-shared-state', 'warn');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-state-'));
  const postgres = await startPostgres({ stateDir: path.join(dir, 'pg'), log, databases: ['vigil_state'] });
  const opened: SharedState[] = [];
  try {
    const memory: Stores = {
      sessions: new MemorySessionStore(),
      throttle: new MemoryLoginThrottle({ maxFailures: 5, lockoutMs: 1, maxAttemptsPerWindow: 30, windowMs: 300_000 }),
      ledger: new InMemoryDeliveryLedger({ maxEntries: 1_000_000, ttlMs: 3600_000 }),
    };
    for (let i = 0; i < 2; i++) {
      opened.push(await openSharedState(postgres.url('vigil_state'), { log, ledgerTtlMs: 3600_000 }));
    }
    const results = {
      memory: await scenarios([memory], seconds, concurrency),
      postgresTwoReplicas: await scenarios(opened, seconds, concurrency),
    };
    const summary = {
      seconds,
      concurrency,
      node: process.versions.node,
      postgres: (await opened[0]!.database.pool.query<{ v: string }>("SELECT current_setting('server_version') AS v"))
        .rows[0]?.v,
      cpus: os.cpus().length,
      loadAverage: os.loadavg().map((l) => Number(l.toFixed(2))),
      results,
    };
    if (values.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    else {
      for (const [store, byOp] of Object.entries(results)) {
        for (const [op, r] of Object.entries(byOp)) {
          process.stdout.write(
            `${store.padEnd(20)} ${op.padEnd(62)} ${String(r.opsPerSecond).padStart(7)} ops/s  p50 ${r.p50Ms} ms  p99 ${r.p99Ms} ms\n`,
          );
        }
      }
      process.stdout.write(
        `load average ${summary.loadAverage.join(' / ')} on ${summary.cpus} CPUs, node ${summary.node}, PostgreSQL ${summary.postgres}\n`,
      );
    }
  } finally {
    await Promise.all(opened.map((s) => s.close()));
    await postgres.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:shared-state: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
