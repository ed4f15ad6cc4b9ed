import type pg from 'pg';
import { guarded, inTransaction, type Queryable } from '../state';
import { DEFAULT_THROTTLE, type LoginThrottle, type ThrottleOptions } from './throttle';

/** Every this many counted attempts, a replica deletes address rows with no attempt in the window. */
const PRUNE_EVERY = 500;

/**
 * The login limits in the shared-state database, so replicas count together: five wrong passwords lock the
 * account whichever replicas they reach. Each step is atomic in PostgreSQL — the failure count is one upsert
 * (its row lock orders concurrent failures), the address check-and-count holds the address row's lock — so
 * parallel attempts through several replicas are counted exactly.
 */
export class PgLoginThrottle implements LoginThrottle {
  private counted = 0;
  private readonly db: Queryable;

  constructor(
    private readonly pool: pg.Pool,
    private readonly opts: ThrottleOptions = DEFAULT_THROTTLE,
    private readonly now: () => number = Date.now,
  ) {
    this.db = guarded(pool);
  }

  async lockedFor(user: string): Promise<number> {
    const t = this.now();
    const { rows } = await this.db.query<{ locked_until: string }>(
      'SELECT locked_until FROM vigil_login_failures WHERE account = $1',
      [user],
    );
    return rows[0] ? Math.max(0, Number(rows[0].locked_until) - t) : 0;
  }

  async allowAttempt(ip: string): Promise<boolean> {
    const t = this.now();
    const allowed = await inTransaction(this.pool, async (tx) => {
      // The no-op update makes the upsert return the row locked, whether it existed or not.
      const { rows } = await tx.query<{ attempts: string[] }>(
        `INSERT INTO vigil_address_attempts (address, attempts) VALUES ($1, '{}')
         ON CONFLICT (address) DO UPDATE SET address = EXCLUDED.address
         RETURNING attempts`,
        [ip],
      );
      const recent = this.recent(rows[0]?.attempts ?? [], t);
      const ok = recent.length < this.opts.maxAttemptsPerWindow;
      await tx.query('UPDATE vigil_address_attempts SET attempts = $2 WHERE address = $1', [
        ip,
        ok ? [...recent, t] : recent,
      ]);
      return ok;
    });
    if (allowed) await this.maybePrune(t);
    return allowed;
  }

  async underLimit(ip: string): Promise<boolean> {
    const t = this.now();
    const { rows } = await this.db.query<{ attempts: string[] }>(
      'SELECT attempts FROM vigil_address_attempts WHERE address = $1',
      [ip],
    );
    return this.recent(rows[0]?.attempts ?? [], t).length < this.opts.maxAttemptsPerWindow;
  }

  async countAttempt(ip: string): Promise<void> {
    const t = this.now();
    await this.db.query(
      `INSERT INTO vigil_address_attempts AS a (address, attempts) VALUES ($1, ARRAY[$2::bigint])
       ON CONFLICT (address) DO UPDATE
         SET attempts = array(SELECT x FROM unnest(a.attempts) AS x WHERE x > $2::bigint - $3) || $2::bigint`,
      [ip, t, this.opts.windowMs],
    );
    await this.maybePrune(t);
  }

  async fail(user: string): Promise<boolean> {
    const t = this.now();
    // Reaching maxFailures locks the account and starts the count again, as MemoryLoginThrottle does; the
    // returned count is 0 exactly when this failure locked it.
    const { rows } = await this.db.query<{ failures: number }>(
      `INSERT INTO vigil_login_failures AS f (account, failures, locked_until)
         VALUES ($1, CASE WHEN 1 >= $2 THEN 0 ELSE 1 END, CASE WHEN 1 >= $2 THEN $3::bigint ELSE 0 END)
       ON CONFLICT (account) DO UPDATE SET
         failures = CASE WHEN f.failures + 1 >= $2 THEN 0 ELSE f.failures + 1 END,
         locked_until = CASE WHEN f.failures + 1 >= $2 THEN $3::bigint ELSE f.locked_until END
       RETURNING failures`,
      [user, this.opts.maxFailures, t + this.opts.lockoutMs],
    );
    return rows[0]!.failures === 0;
  }

  async succeed(user: string): Promise<void> {
    // A lock set meanwhile by failures through another replica stays.
    await this.db.query('DELETE FROM vigil_login_failures WHERE account = $1 AND locked_until <= $2', [
      user,
      this.now(),
    ]);
  }

  /** pg returns bigint[] as strings. */
  private recent(attempts: string[], t: number): number[] {
    return attempts.map(Number).filter((x) => t - x < this.opts.windowMs);
  }

  private async maybePrune(t: number): Promise<void> {
    if (++this.counted % PRUNE_EVERY !== 0) return;
    await this.db.query(
      'DELETE FROM vigil_address_attempts WHERE NOT EXISTS (SELECT 1 FROM unnest(attempts) AS x WHERE x > $1)',
      [t - this.opts.windowMs],
    );
  }
}
