import { guarded, type Queryable } from '../../state';
import type { DeliveryLedger, LedgerEntry } from './ledger';

/** Every this many recorded deliveries, a replica deletes expired rows. */
const PRUNE_EVERY = 200;

/**
 * The delivery ledger in the shared-state database. `record` is one INSERT … ON CONFLICT: of parallel copies of a
 * delivery, through any replicas, exactly one inserts (or takes over an expired row); the others read the
 * entry that stands and answer "duplicate".
 */
export class PgDeliveryLedger implements DeliveryLedger {
  private recorded = 0;
  private readonly db: Queryable;

  constructor(
    db: Queryable,
    private readonly opts: { ttlMs: number; now?: () => number },
  ) {
    this.db = guarded(db);
  }

  private now(): number {
    return this.opts.now?.() ?? Date.now();
  }

  async get(key: string): Promise<LedgerEntry | undefined> {
    const { rows } = await this.db.query<{ release_id: string; outcome: LedgerEntry['outcome'] }>(
      'SELECT release_id, outcome FROM vigil_webhook_deliveries WHERE delivery_key = $1 AND expires_at > $2',
      [key, this.now()],
    );
    return rows[0] ? { releaseId: rows[0].release_id, outcome: rows[0].outcome } : undefined;
  }

  async record(key: string, entry: LedgerEntry): Promise<LedgerEntry | null> {
    const t = this.now();
    // Three tries: an earlier entry can expire (and be replaced) between our INSERT and our SELECT.
    for (let attempt = 0; attempt < 3; attempt++) {
      const inserted = await this.db.query(
        `INSERT INTO vigil_webhook_deliveries AS d (delivery_key, release_id, outcome, recorded_at, expires_at)
           VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (delivery_key) DO UPDATE
           SET release_id = EXCLUDED.release_id, outcome = EXCLUDED.outcome,
               recorded_at = EXCLUDED.recorded_at, expires_at = EXCLUDED.expires_at
           WHERE d.expires_at <= $4
         RETURNING 1`,
        [key, entry.releaseId, entry.outcome, t, t + this.opts.ttlMs],
      );
      if ((inserted.rowCount ?? 0) > 0) {
        await this.maybePrune(t);
        return null;
      }
      const earlier = await this.get(key);
      if (earlier) return earlier;
    }
    throw new Error(`delivery ledger: could not record or read ${key}`);
  }

  private async maybePrune(t: number): Promise<void> {
    if (++this.recorded % PRUNE_EVERY !== 0) return;
    await this.db.query('DELETE FROM vigil_webhook_deliveries WHERE expires_at <= $1', [t]);
  }
}
