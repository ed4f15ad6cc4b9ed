import crypto from 'node:crypto';
import canonicalize from 'canonicalize';

/**
 * RFC 8785 (JCS) bytes of a JSON value: sorted keys, ECMAScript number formatting, minimal
 * escaping, UTF-8. Digests of evidence are taken over these bytes so that any party can
 * recompute them from the parsed JSON.
 */
export function canonicalBytes(value: unknown): Buffer {
  const text = canonicalize(value);
  if (text === undefined) throw new TypeError('value has no JSON representation');
  return Buffer.from(text, 'utf8');
}

export function sha256Hex(bytes: Uint8Array): string {
  return crypto.createHash('sha256').update(bytes).digest('hex');
}
