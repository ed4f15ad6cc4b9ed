import { guarded, type Queryable } from '../state';
import type { UsedTokenStore } from './used-tokens';

/**
 * Used ID tokens in the shared-state database: the first INSERT of a digest wins (ON CONFLICT), so a token replayed
 * at another replica, or raced through two at once, is used exactly once. A row whose token has expired may be
 * claimed again (the verifier refuses such a token before it gets here) and is pruned as claims come in.
 */
export class PgUsedTokenStore implements UsedTokenStore {
  private readonly db: Queryable;

  constructor(
    db: Queryable,
    private readonly now: () => number = Date.now,
  ) {
    this.db = guarded(db);
  }

  async claim(sha256: string, expiresAt: number): Promise<boolean> {
    const t = this.now();
    const { rowCount } = await this.db.query(
      `INSERT INTO vigil_used_id_tokens (token_sha256, expires_at) VALUES ($1, $2)
       ON CONFLICT (token_sha256) DO UPDATE SET expires_at = EXCLUDED.expires_at
         WHERE vigil_used_id_tokens.expires_at <= $3`,
      [sha256, expiresAt, t],
    );
    await this.db.query('DELETE FROM vigil_used_id_tokens WHERE expires_at <= $1', [t]);
    return (rowCount ?? 0) === 1;
  }
}
