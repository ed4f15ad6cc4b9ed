import pg from 'pg';
import type { Logger } from '../logging/logger';
import { migrate, MigrationError } from './migrate';
import { outageAsUnavailable } from './unavailable';

/** The shared-state database cannot be reached or migrated: the replica must not start without it. */
export class StateDatabaseError extends Error {
  override name = 'StateDatabaseError';
}

/** The shared-state database of the API replicas (VIGIL_STATE_DATABASE_URL). */
export interface StateDatabase {
  pool: pg.Pool;
  close(): Promise<void>;
}

/**
 * Connects and migrates; throws (with the server's reason) when the database cannot be reached or migrated, so a
 * replica that cannot share state does not start. The URL carries a password: it is never logged.
 */
export async function openStateDatabase(url: string, log: Logger, opts: { max?: number } = {}): Promise<StateDatabase> {
  const pool = new pg.Pool({ connectionString: url, max: opts.max ?? 10, connectionTimeoutMillis: 10_000 });
  // An idle client's error (server restart, network) is reported here instead of crashing the process; the pool
  // drops that client and the next query opens a new connection.
  let closing = false;
  pool.on('error', (err) => {
    // pool.end() resolves before the sockets are closed: a server stopping right after is no failure.
    if (!closing) log.warn({ err: err.message }, 'shared state: idle database connection failed');
  });
  try {
    await migrate(pool, log);
  } catch (err) {
    await pool.end().catch(() => undefined);
    if (err instanceof MigrationError) throw err;
    // pg's messages name the host, user or database at most, never the password.
    const reason = err instanceof Error ? err.message || err.name : String(err);
    throw new StateDatabaseError(`shared-state database (VIGIL_STATE_DATABASE_URL) unusable: ${reason}`, {
      cause: err,
    });
  }
  return {
    pool,
    close: () => {
      closing = true;
      return pool.end();
    },
  };
}

/** `fn` inside one transaction on one connection; rolled back when it throws. Outages: StateUnavailableError. */
export async function inTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect().catch((err: unknown) => {
    throw outageAsUnavailable(err);
  });
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw outageAsUnavailable(err);
  } finally {
    client.release();
  }
}
