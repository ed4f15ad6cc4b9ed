/**
 * What API replicas must share, in one place: sessions, the login throttle, the ID tokens used for a signing act,
 * the authentication audit log and the webhook delivery ledger, in the PostgreSQL database named by VIGIL_STATE_DATABASE_URL (migrated at start). Unset,
 * a single API process keeps them in memory (and the audit log in a file), as before.
 */
import {
  PgAuditLog,
  PgLoginThrottle,
  PgSessionStore,
  PgUsedTokenStore,
  type AuthAuditLog,
  type LoginThrottle,
  type SessionStore,
  type UsedTokenStore,
} from '../auth';
import type { Logger } from '../logging/logger';
import { openStateDatabase, type StateDatabase } from '../state';
import { PgDeliveryLedger, type DeliveryLedger } from './webhooks';

export interface SharedState {
  sessions: SessionStore;
  throttle: LoginThrottle;
  usedTokens: UsedTokenStore;
  audit: AuthAuditLog;
  ledger: DeliveryLedger;
  database: StateDatabase;
  close(): Promise<void>;
}

/** Connects, migrates and returns the database-backed stores; throws when the database cannot be used. */
export async function openSharedState(
  url: string,
  opts: { log: Logger; ledgerTtlMs: number; poolSize?: number; now?: () => number },
): Promise<SharedState> {
  const database = await openStateDatabase(url, opts.log, { max: opts.poolSize ?? 10 });
  const now = opts.now ?? Date.now;
  return {
    sessions: new PgSessionStore(database.pool, undefined, now),
    throttle: new PgLoginThrottle(database.pool, undefined, now),
    usedTokens: new PgUsedTokenStore(database.pool, now),
    audit: new PgAuditLog(database.pool),
    ledger: new PgDeliveryLedger(database.pool, { ttlMs: opts.ledgerTtlMs, now }),
    database,
    close: () => database.close(),
  };
}
