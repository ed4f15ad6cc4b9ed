import crypto from 'node:crypto';

/**
 * Patient-level split assignment. Every row of a patient lands in the same split, so no patient straddles
 * train and test; the patient id itself is only ever fed to a keyed HMAC and never written anywhere.
 */
export const SPLIT_METHOD =
  'hmac-sha256-uniform-v1: u = (first 6 bytes of HMAC-SHA256(key, UTF-8 patient id) as a big-endian integer) / 2^48; ' +
  'splits taken in lexicographic order of their names; a row goes to the first split whose cumulative proportion exceeds u ' +
  '(the last split takes any remainder).';

const TWO_POW_48 = 2 ** 48;

export class SplitAssigner {
  private readonly names: string[];
  private readonly cumulative: number[];
  private readonly rowCounts: number[];
  /** Patients usually have several rows; caching avoids recomputing the HMAC for each of them. */
  private readonly cache = new Map<string, number>();

  constructor(
    private readonly key: Buffer,
    proportions: Record<string, number>,
  ) {
    if (key.length < 16) throw new RangeError('split HMAC key must be at least 16 bytes');
    this.names = Object.keys(proportions).sort();
    let acc = 0;
    this.cumulative = this.names.map((n) => (acc += proportions[n]!));
    this.rowCounts = this.names.map(() => 0);
  }

  /** Split name for one row's patient id; also counts the row. */
  assign(patientId: string): string {
    let idx = this.cache.get(patientId);
    if (idx === undefined) {
      idx = this.bucket(patientId);
      if (this.cache.size >= 1_000_000) this.cache.clear();
      this.cache.set(patientId, idx);
    }
    this.rowCounts[idx]! += 1;
    return this.names[idx]!;
  }

  counts(): Record<string, number> {
    return Object.fromEntries(this.names.map((n, i) => [n, this.rowCounts[i]!]));
  }

  private bucket(patientId: string): number {
    const u = crypto.createHmac('sha256', this.key).update(patientId, 'utf8').digest().readUIntBE(0, 6) / TWO_POW_48;
    for (let i = 0; i < this.cumulative.length - 1; i++) if (u < this.cumulative[i]!) return i;
    return this.cumulative.length - 1;
  }
}

/** Split of a single patient id (for reviewers recomputing one assignment). */
export function splitFor(key: Buffer, proportions: Record<string, number>, patientId: string): string {
  return new SplitAssigner(key, proportions).assign(patientId);
}
