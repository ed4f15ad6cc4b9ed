import crypto from 'node:crypto';
import type pg from 'pg';
import type { Logger } from '../logging/logger';
import { MIGRATIONS, type Migration } from './migrations';

/** Any constant: the advisory lock every Vigil replica takes to migrate (ASCII "vigilmig"). */
const MIGRATION_LOCK = '8537815442151090535';

export class MigrationError extends Error {
  override name = 'MigrationError';
}

/**
 * Brings the schema up to date in one transaction under a transaction-scoped advisory lock: replicas starting
 * together migrate one after the other, and the later ones find nothing left to do. Refuses a database whose
 * applied migrations differ from this code's (an edited migration). A database migrated by newer code is used
 * as is: migrations only add, so older replicas keep working during a rolling upgrade.
 */
export async function migrate(
  pool: pg.Pool,
  log: Logger,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<{ applied: number[] }> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [MIGRATION_LOCK]);
    await client.query(`CREATE TABLE IF NOT EXISTS vigil_schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      sha256 text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const { rows } = await client.query<{ version: number; sha256: string }>(
      'SELECT version, sha256 FROM vigil_schema_migrations ORDER BY version',
    );
    const done = new Map(rows.map((r) => [r.version, r.sha256]));
    const applied: number[] = [];
    for (const m of migrations) {
      const digest = sha256(m.sql);
      const recorded = done.get(m.version);
      if (recorded !== undefined) {
        if (recorded !== digest) {
          throw new MigrationError(
            `shared-state migration ${m.version} (${m.name}) differs from the one applied to this database`,
          );
        }
        continue;
      }
      await client.query(m.sql);
      await client.query('INSERT INTO vigil_schema_migrations (version, name, sha256) VALUES ($1, $2, $3)', [
        m.version,
        m.name,
        digest,
      ]);
      applied.push(m.version);
    }
    await client.query('COMMIT');
    const newest = Math.max(0, ...done.keys(), ...applied);
    const known = Math.max(0, ...migrations.map((m) => m.version));
    if (newest > known) log.warn({ newest, known }, 'shared state: database migrated by newer code; using it as is');
    log.info({ applied, version: newest }, 'shared state: schema up to date');
    return { applied };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

const sha256 = (s: string): string => crypto.createHash('sha256').update(s).digest('hex');
