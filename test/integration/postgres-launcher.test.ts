/**
 * The PostgreSQL launcher (src/stack/postgres.ts) against the real server binaries: it initialises a cluster in a
 * temp dir, serves on loopback with password authentication, creates databases, runs unprivileged when we are root,
 * keeps data across a restart, and says why when its port is taken.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createLogger } from '../../src/logging/logger';
import { startPostgres, type PostgresServer } from '../../src/stack/postgres';

const log = createLogger('postgres-launcher-test', 'silent');

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

describe('startPostgres', () => {
  let dir: string;
  let server: PostgresServer | undefined;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-pg-test-'));
    server = await startPostgres({ stateDir: path.join(dir, 'pg'), log, databases: ['vigil_state', 'temporal'] });
  });
  after(async () => {
    await server?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('serves the requested databases on loopback, with password authentication', async () => {
    const s = server!;
    assert.equal(s.host, '127.0.0.1');
    const [row] = await query<{ db: string; who: string; addr: string }>(
      s.url('vigil_state'),
      'SELECT current_database() AS db, current_user AS who, host(inet_server_addr()) AS addr',
    );
    assert.deepEqual(row, { db: 'vigil_state', who: 'vigil', addr: '127.0.0.1' });
    const names = await query<{ datname: string }>(s.url(), 'SELECT datname FROM pg_database ORDER BY datname');
    assert.ok(names.some((r) => r.datname === 'temporal'));

    const wrong = s.url('vigil_state').replace(encodeURIComponent(s.password), 'not-the-password');
    await assert.rejects(query(wrong, 'SELECT 1'), (e: { code?: string }) => e.code === '28P01');
    const [listen] = await query<{ setting: string }>(
      s.url(),
      "SELECT setting FROM pg_settings WHERE name = 'listen_addresses'",
    );
    assert.equal(listen!.setting, '127.0.0.1');
  });

  it('creates a database once, however often and concurrently it is asked for', async () => {
    const s = server!;
    await Promise.all(Array.from({ length: 4 }, () => s.createDatabase('twice')));
    await s.createDatabase('twice');
    const rows = await query<{ n: string }>(s.url(), "SELECT count(*) AS n FROM pg_database WHERE datname = 'twice'");
    assert.equal(rows[0]!.n, '1');
    await assert.rejects(s.createDatabase('Bad-Name"'), /invalid database name/);
  });

  it('runs the server unprivileged when started as root', { skip: process.getuid?.() !== 0 }, () => {
    const status = fs.readFileSync(`/proc/${server!.process.pid}/status`, 'utf8');
    const uid = Number(/^Uid:\s+(\d+)/m.exec(status)![1]);
    assert.notEqual(uid, 0);
  });

  it('keeps its data across a stop and a start on the same state dir', async () => {
    const s = server!;
    await query(s.url('vigil_state'), "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('still here')");
    await s.stop();
    await s.stop(); // idempotent
    await assert.rejects(query(s.url('vigil_state'), 'SELECT 1'));
    server = await startPostgres({ stateDir: path.join(dir, 'pg'), log });
    const rows = await query<{ v: string }>(server.url('vigil_state'), 'SELECT v FROM kept');
    assert.deepEqual(rows, [{ v: 'still here' }]);
  });

  it('refuses a port that is taken, naming the reason', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      await assert.rejects(
        startPostgres({ stateDir: path.join(dir, 'taken'), port, log, readyTimeoutMs: 30_000 }),
        /Address already in use/,
      );
    } finally {
      blocker.close();
    }
  });
});
