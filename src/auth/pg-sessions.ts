import crypto from 'node:crypto';
import { guarded, type Queryable } from '../state';
import {
  DEFAULT_SESSION,
  newSession,
  snapshotOf,
  type Session,
  type SessionOptions,
  type SessionStore,
} from './sessions';
import type { Identity } from './users';

/** Rows this long past their expiry are deleted at a login; until then a late request still hears "expired". */
const KEEP_EXPIRED_MS = 24 * 3600_000;

/**
 * Sessions in the shared-state database, so every API replica sees every sign-in and sign-out. The row is keyed
 * by the sha256 of the session id: a copy of the table gives no usable cookies. Expiry is decided in the UPDATE
 * that touches the session, so two replicas cannot revive an expired one.
 */
export class PgSessionStore implements SessionStore {
  private readonly db: Queryable;

  constructor(
    db: Queryable,
    private readonly opts: SessionOptions = DEFAULT_SESSION,
    private readonly now: () => number = Date.now,
  ) {
    this.db = guarded(db);
  }

  async create(identity: Identity): Promise<Session> {
    const s = newSession(identity, this.now());
    await this.db.query(
      `INSERT INTO vigil_sessions (id_sha256, user_id, csrf_token, created_at, last_seen_at, identity)
       VALUES ($1, $2, $3, $4, $4, $5)`,
      [idHash(s.id), s.userId, s.csrfToken, s.createdAt, JSON.stringify(s.identity)],
    );
    await this.db.query('DELETE FROM vigil_sessions WHERE last_seen_at < $1 OR created_at < $2', [
      s.createdAt - this.opts.idleMs - KEEP_EXPIRED_MS,
      s.createdAt - this.opts.absoluteMs - KEEP_EXPIRED_MS,
    ]);
    return s;
  }

  async get(id: string | undefined): Promise<{ session: Session | null; expired: boolean }> {
    if (!id) return { session: null, expired: false };
    const t = this.now();
    const h = idHash(id);
    const { rows } = await this.db.query<{
      user_id: string;
      csrf_token: string;
      created_at: string;
      identity: Identity | null;
    }>(
      `UPDATE vigil_sessions SET last_seen_at = $2
        WHERE id_sha256 = $1 AND $2 - last_seen_at <= $3 AND $2 - created_at <= $4
        RETURNING user_id, csrf_token, created_at, identity`,
      [h, t, this.opts.idleMs, this.opts.absoluteMs],
    );
    const row = rows[0];
    if (row) {
      const session = { id, userId: row.user_id, csrfToken: row.csrf_token, createdAt: Number(row.created_at) };
      return {
        session: { ...session, lastSeenAt: t, ...(row.identity ? { identity: row.identity } : {}) },
        expired: false,
      };
    }
    const gone = await this.db.query('DELETE FROM vigil_sessions WHERE id_sha256 = $1', [h]);
    return { session: null, expired: (gone.rowCount ?? 0) > 0 };
  }

  async destroy(id: string): Promise<void> {
    await this.db.query('DELETE FROM vigil_sessions WHERE id_sha256 = $1', [idHash(id)]);
  }

  async updateIdentity(id: string, identity: Identity): Promise<boolean> {
    const { rowCount } = await this.db.query(
      'UPDATE vigil_sessions SET identity = $3 WHERE id_sha256 = $1 AND user_id = $2',
      [idHash(id), identity.id, JSON.stringify(snapshotOf(identity))],
    );
    return (rowCount ?? 0) === 1;
  }
}

const idHash = (id: string): string => crypto.createHash('sha256').update(id).digest('hex');
