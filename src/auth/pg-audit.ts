import { guarded, type Queryable } from '../state';
import type { AuthAuditLog, AuthEvent, AuthEventInput, AuthEventType } from './audit';

/**
 * Authentication events in the shared-state database: one log for all replicas, in commit order (`seq`), where a
 * file per replica would have to be merged. Passwords are never passed here.
 */
export class PgAuditLog implements AuthAuditLog {
  private readonly db: Queryable;

  constructor(db: Queryable) {
    this.db = guarded(db);
  }

  async record(event: AuthEventInput): Promise<void> {
    const full = { ...event, at: event.at ?? new Date().toISOString() };
    await this.db.query('INSERT INTO vigil_auth_events (at, type, user_id, ip, event) VALUES ($1, $2, $3, $4, $5)', [
      full.at,
      full.type,
      full.user,
      full.ip,
      JSON.stringify(full),
    ]);
  }

  /** Events in the order they were recorded, optionally of some types only (for reviews and tests). */
  async list(opts: { types?: AuthEventType[]; limit?: number } = {}): Promise<AuthEvent[]> {
    const { rows } = await this.db.query<{ event: AuthEvent }>(
      `SELECT event FROM vigil_auth_events WHERE ($1::text[] IS NULL OR type = ANY($1)) ORDER BY seq LIMIT $2`,
      [opts.types ?? null, opts.limit ?? 10_000],
    );
    return rows.map((r) => r.event);
  }
}
