/**
 * Which deliveries have already been acted on, so a retried delivery is answered quickly (202) with
 * the release it produced, and parallel copies of one delivery get one answer of what was done (the rest
 * answer "duplicate"). The guarantee that a delivery sent ten times starts one release comes from the
 * deterministic workflow id (releaseIdFor + USE_EXISTING), which holds even with an empty ledger.
 */
export interface LedgerEntry {
  releaseId: string;
  /** What happened the first time. */
  outcome: 'started' | 'joined' | 'queued';
}

export interface DeliveryLedger {
  /** `key` is `<source>:<delivery id>`. */
  get(key: string): Promise<LedgerEntry | undefined>;
  /**
   * Records what this delivery did unless a copy recorded first: then nothing changes and the earlier entry is
   * returned (the caller answers "duplicate"). Null when this entry is now the record. Atomic.
   */
  record(key: string, entry: LedgerEntry): Promise<LedgerEntry | null>;
}

/**
 * The single-process default: an in-process LRU with a TTL. Several API replicas share a database ledger
 * (PgDeliveryLedger) instead, so that copies of a delivery reaching different replicas get one answer.
 */
export class InMemoryDeliveryLedger implements DeliveryLedger {
  private readonly entries = new Map<string, { entry: LedgerEntry; expiresAt: number }>();

  constructor(
    private readonly opts: { maxEntries: number; ttlMs: number; now?: () => number } = {
      maxEntries: 10_000,
      ttlMs: 24 * 3600_000,
    },
  ) {}

  private now(): number {
    return this.opts.now?.() ?? Date.now();
  }

  get(key: string): Promise<LedgerEntry | undefined> {
    return Promise.resolve(this.lookup(key));
  }

  record(key: string, entry: LedgerEntry): Promise<LedgerEntry | null> {
    // Look up and insert with no await between: parallel copies cannot both find the key free.
    const earlier = this.lookup(key);
    if (earlier) return Promise.resolve(earlier);
    this.entries.set(key, { entry, expiresAt: this.now() + this.opts.ttlMs });
    while (this.entries.size > this.opts.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
    return Promise.resolve(null);
  }

  private lookup(key: string): LedgerEntry | undefined {
    const hit = this.entries.get(key);
    if (!hit) return undefined;
    if (hit.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    // Refresh recency: Map iteration order is insertion order, so re-insert.
    this.entries.delete(key);
    this.entries.set(key, hit);
    return hit.entry;
  }

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
  }
}
