import crypto from 'node:crypto';

/**
 * Signature and token checks for webhook deliveries. Every comparison is constant-time over
 * equal-length buffers; a malformed header is simply "no match", never an exception.
 */

const HEX_SHA256 = /^[0-9a-f]{64}$/i;

function hmacSha256(secret: string, parts: ReadonlyArray<Uint8Array | string>): Buffer {
  const mac = crypto.createHmac('sha256', secret);
  for (const p of parts) mac.update(p);
  return mac.digest();
}

/** Constant-time equality of a hex digest someone sent against the one we computed. */
function hexDigestMatches(provided: string | undefined, expected: Buffer): boolean {
  if (provided === undefined || !HEX_SHA256.test(provided)) return false;
  const got = Buffer.from(provided, 'hex');
  return got.length === expected.length && crypto.timingSafeEqual(got, expected);
}

/**
 * GitHub: `X-Hub-Signature-256: sha256=<hex>`, HMAC-SHA256 of the raw body bytes with the hook secret.
 * (https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries)
 */
export function verifyGitHubSignature(secret: string, rawBody: Uint8Array, header: string | undefined): boolean {
  const match = /^sha256=([0-9a-fA-F]{64})$/.exec((header ?? '').trim());
  return hexDigestMatches(match?.[1], hmacSha256(secret, [rawBody]));
}

export function signGitHub(secret: string, rawBody: Uint8Array | string): string {
  return `sha256=${hmacSha256(secret, [rawBody]).toString('hex')}`;
}

/**
 * GitLab sends the configured secret token verbatim in `X-Gitlab-Token`. Both sides are hashed first
 * so the comparison is constant-time whatever the lengths.
 */
export function verifyGitLabToken(expected: string, header: string | undefined): boolean {
  if (header === undefined || header.length === 0 || header.length > 1024) return false;
  const a = crypto.createHash('sha256').update(header, 'utf8').digest();
  const b = crypto.createHash('sha256').update(expected, 'utf8').digest();
  return crypto.timingSafeEqual(a, b);
}

/**
 * Vigil's own scheme (data-refresh and generic release webhooks):
 *
 *   X-Vigil-Delivery:  <delivery id>             1–128 chars of [A-Za-z0-9._:-]
 *   X-Vigil-Timestamp: <unix seconds>            decimal integer
 *   X-Vigil-Signature: v1=<hex>                  HMAC-SHA256(secret, "v1:" + timestamp + ":" + deliveryId + ":" + rawBody)
 *
 * Timestamp and delivery id are inside the signed material, so neither can be altered to make a
 * captured delivery look fresh or new. Several `v1=` values may be sent comma-separated (secret rotation).
 */
export const VIGIL_SIGNATURE_VERSION = 'v1';

export function vigilSignedMaterial(
  timestamp: string,
  deliveryId: string,
  rawBody: Uint8Array | string,
): Array<Uint8Array | string> {
  return [`${VIGIL_SIGNATURE_VERSION}:${timestamp}:${deliveryId}:`, rawBody];
}

export function signVigil(secret: string, timestamp: string, deliveryId: string, rawBody: Uint8Array | string): string {
  return `v1=${hmacSha256(secret, vigilSignedMaterial(timestamp, deliveryId, rawBody)).toString('hex')}`;
}

export function verifyVigilSignature(
  secret: string,
  timestamp: string,
  deliveryId: string,
  rawBody: Uint8Array,
  header: string | undefined,
): boolean {
  if (header === undefined || header.length > 1024) return false;
  const expected = hmacSha256(secret, vigilSignedMaterial(timestamp, deliveryId, rawBody));
  let ok = false;
  // Check every candidate (no early exit) so timing does not reveal which one matched.
  for (const part of header.split(',')) {
    const m = /^\s*v1=([0-9a-fA-F]{64})\s*$/.exec(part);
    if (hexDigestMatches(m?.[1], expected)) ok = true;
  }
  return ok;
}
