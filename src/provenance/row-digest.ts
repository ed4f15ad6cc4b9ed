import crypto from 'node:crypto';
import { canonicalBytes } from '../evidence/canonical-json';

/** A cell as the digest sees it: text, or null (Parquet null; CSV has no nulls, an empty field is ""). */
export type Cell = string | null;

export const ROW_DIGEST_METHOD_ID = 'vigil-row-jcs-v1';

/**
 * Written into every manifest so that a reviewer can recompute a record's digest without Vigil. A JSON
 * array of strings is unambiguous (quoting and escaping delimit every cell), and for an array of strings
 * and nulls RFC 8785 serialisation is exactly ECMAScript JSON.stringify, which any JCS library reproduces.
 */
export const ROW_DIGEST_METHOD =
  `${ROW_DIGEST_METHOD_ID}: rowDigest = SHA-256(UTF-8(RFC 8785 JSON of the array of the row's cells in header order)), ` +
  'each cell a JSON string, or null for a missing value (Parquet null; a CSV field is never null, an empty field is ""). ' +
  'Text of a CSV cell: the field after RFC 4180 unquoting, no trimming. Text of a Parquet value: strings as is; ' +
  'numbers as ECMAScript Number::toString (shortest round-trip); bigints in decimal; booleans "true"/"false"; ' +
  'dates as ISO 8601 UTC (toISOString); byte arrays as lowercase hex; other values as RFC 8785 JSON text. ' +
  'Merkle leaf = SHA-256(0x00 || rowDigest), node = SHA-256(0x01 || left || right), tree shape per RFC 9162 §2.1.';

const oneShot = (crypto as { hash?: (alg: string, data: string | Uint8Array, enc: 'buffer') => Buffer }).hash;

/** SHA-256 of the row's canonical JSON; one native call per row, which is what makes 1M rows cheap. */
export function rowDigest(cells: readonly Cell[]): Buffer {
  // JSON.stringify of an array of strings/nulls is its RFC 8785 form: no keys, no numbers to reformat.
  const json = JSON.stringify(cells);
  return oneShot ? oneShot('sha256', json, 'buffer') : crypto.createHash('sha256').update(json, 'utf8').digest();
}

/** SHA-256 of bytes (the ASCII fast path hands `rowDigest`'s JSON already encoded). */
export function sha256Bytes(bytes: Uint8Array): Buffer {
  return oneShot ? oneShot('sha256', bytes, 'buffer') : crypto.createHash('sha256').update(bytes).digest();
}

/** The text a typed (Parquet) value contributes to its row digest; see ROW_DIGEST_METHOD. */
export function cellText(value: unknown): Cell {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex');
  const plain: unknown = JSON.parse(
    JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)),
  );
  return canonicalBytes(plain).toString('utf8');
}
