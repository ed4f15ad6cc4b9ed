import type { ReleasePolicy } from '../domain';
import { canonicalBytes, sha256Hex } from './canonical-json';

/**
 * The policy's digest: SHA-256 of its RFC 8785 canonical JSON — the digest SNAPSHOT pins (the evidence store keys
 * the stored policy by the same bytes), release ids are derived from, and OFFLINE_EVAL and audits check against.
 */
export function policyDigest(policy: ReleasePolicy): string {
  return sha256Hex(canonicalBytes(policy));
}
