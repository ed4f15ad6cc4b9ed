/**
 * Which deliveries have already been acted on, so a retried delivery is answered quickly (202) with
 * the release it produced. This is an optimisation only: the guarantee that a delivery sent ten times
 * starts one release comes from the deterministic workflow id (releaseIdFor + USE_EXISTING), which
 * holds even with an empty ledger (API restart, several API replicas).
 */
export interface LedgerEntry {
  releaseId: string;
  /** What happened the first time. */
  outcome: 'started' | 'joined' | 'queued';
}

export interface DeliveryLedger {
  /** `key` is `<source>:<delivery id>`. */
  get(key: string): Promise<LedgerEntry | undefined>;
  record(key: string, entry: LedgerEntry): Promise<void>;
}

/**
 * The default: an in-process LRU with a TTL. Per process only — with several API replicas a shared
 * store (e.g. Redis SET NX EX, or a DynamoDB conditional put) is needed for the fast path to see
 * other replicas' deliveries; correctness does not depend on it.
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

  async get(key: string): Promise<LedgerEntry | undefined> {
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

  async record(key: string, entry: LedgerEntry): Promise<void> {
    this.entries.delete(key);
    this.entries.set(key, { entry, expiresAt: this.now() + this.opts.ttlMs });
    while (this.entries.size > this.opts.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
  }

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
  }
}
