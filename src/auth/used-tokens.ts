/**
 * One signing act per ID token (docs/sso.md): the tokens already used, keyed by their SHA-256 (never the token),
 * each kept until it could no longer pass verification (exp plus the clock tolerance). Behind several API
 * replicas the store is shared (PgUsedTokenStore), so a token used at one replica is refused at every other.
 */
export interface UsedTokenStore {
  /**
   * Marks the token with this SHA-256 used until `expiresAt` (ms since the epoch). True for the first claim; false
   * when it was claimed before and has not yet expired. Of concurrent claims of one digest, exactly one is true.
   */
  claim(sha256: string, expiresAt: number): Promise<boolean>;
}

/** Used tokens in this process's memory: the single-process default. */
export class MemoryUsedTokenStore implements UsedTokenStore {
  private readonly used = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  claim(sha256: string, expiresAt: number): Promise<boolean> {
    const t = this.now();
    for (const [k, exp] of this.used) if (exp <= t) this.used.delete(k);
    if (this.used.has(sha256)) return Promise.resolve(false);
    this.used.set(sha256, expiresAt);
    return Promise.resolve(true);
  }
}
