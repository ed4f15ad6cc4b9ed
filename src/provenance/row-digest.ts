import crypto from 'node:crypto';
import { canonicalBytes } from '../evidence/canonical-json';

/** A cell as the digest sees it: text, or null (Parquet null; CSV has no nulls, an empty field is ""). */
export type Cell = string | null;

export const ROW_DIGEST_METHOD_ID = 'vigil-row-lp-v1';

/**
 * Written into every manifest so that a reviewer can recompute a record's digest without Vigil.
 * Length-prefixing makes the encoding injective: no two different rows (or cell splits) share bytes.
 */
export const ROW_DIGEST_METHOD =
  `${ROW_DIGEST_METHOD_ID}: rowDigest = SHA-256(u32be(cellCount) || cell_1 || ... || cell_n), cells in header order; ` +
  'cell = 0x00 for null, or 0x01 || u32be(byteLength) || UTF-8 bytes of the value as text. ' +
  'Text of a CSV cell: the field after RFC 4180 unquoting, no trimming. Text of a Parquet value: strings as is; ' +
  'numbers as ECMAScript Number::toString (shortest round-trip); bigints in decimal; booleans "true"/"false"; ' +
  'dates as ISO 8601 UTC (toISOString); byte arrays as lowercase hex; other values as RFC 8785 JSON. ' +
  'Merkle leaf = SHA-256(0x00 || rowDigest), node = SHA-256(0x01 || left || right), tree shape per RFC 9162 §2.1.';

const oneShot = (crypto as { hash?: (alg: string, data: Uint8Array, enc: 'buffer') => Buffer }).hash;

/**
 * Computes row digests reusing one scratch buffer, so that a million rows cost a million hash calls
 * and almost no garbage. Not re-entrant: one encoder per stream.
 */
export class RowDigester {
  private scratch = Buffer.allocUnsafe(64 * 1024);

  digest(cells: readonly Cell[]): Buffer {
    // Upper bound: 3 UTF-8 bytes per UTF-16 code unit, plus 5 bytes of framing per cell.
    let bound = 4;
    for (let i = 0; i < cells.length; i++) {
      const c = cells[i];
      bound += c === null || c === undefined ? 1 : 5 + c.length * 3;
    }
    if (bound > this.scratch.length) this.scratch = Buffer.allocUnsafe(Math.max(bound, this.scratch.length * 2));
    const buf = this.scratch;
    buf.writeUInt32BE(cells.length, 0);
    let off = 4;
    for (let i = 0; i < cells.length; i++) {
      const c = cells[i];
      if (c === null || c === undefined) {
        buf[off++] = 0x00;
        continue;
      }
      buf[off] = 0x01;
      const len = buf.write(c, off + 5, 'utf8');
      buf.writeUInt32BE(len, off + 1);
      off += 5 + len;
    }
    const bytes = buf.subarray(0, off);
    return oneShot ? oneShot('sha256', bytes, 'buffer') : crypto.createHash('sha256').update(bytes).digest();
  }
}

export function rowDigest(cells: readonly Cell[]): Buffer {
  return new RowDigester().digest(cells);
}

/** The text a typed (Parquet) value contributes to its row digest; see ROW_DIGEST_METHOD. */
export function cellText(value: unknown): Cell {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex');
  const plain: unknown = JSON.parse(JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
  return canonicalBytes(plain).toString('utf8');
}
