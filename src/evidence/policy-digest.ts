import type { ReleasePolicy, ReleaseRequest } from '../domain';
import { canonicalBytes, sha256Hex } from './canonical-json';

/**
 * What a release's pinned policy digest is of. `as-written`: the document its author wrote, as parsed (YAML or
 * JSON), before defaults. `effective`: the policy with its defaults made explicit — the only form before
 * `policyAsWritten` existed, which releases recorded then (and their audits) still use.
 */
export type PolicyDigestForm = 'as-written' | 'effective';

/** SHA-256 of the RFC 8785 canonical JSON of a policy document: effective (parsed) or as written. */
export function policyDigest(policy: ReleasePolicy | Record<string, unknown>): string {
  return sha256Hex(canonicalBytes(policy));
}

/** Which digest form a request's release pins: as written when the request carries the written document. */
export function policyDigestForm(request: Pick<ReleaseRequest, 'policyAsWritten'>): PolicyDigestForm {
  return request.policyAsWritten === undefined ? 'effective' : 'as-written';
}

/**
 * The document a release's policy digest is taken over (the bytes SNAPSHOT stores and pins): the policy as
 * written; for requests recorded before the written document was kept, the effective policy.
 */
export function pinnedPolicyDocument(request: Pick<ReleaseRequest, 'policy' | 'policyAsWritten'>): object {
  return request.policyAsWritten ?? request.policy;
}

/**
 * The release's policy digest — the digest SNAPSHOT pins (the evidence store keys the stored document by the same
 * bytes), release ids are derived from, and OFFLINE_EVAL and audits check against. Key order, whitespace and
 * comments of the file do not change it (RFC 8785 of the parsed document); leaving a default out does.
 */
export function requestPolicyDigest(request: Pick<ReleaseRequest, 'policy' | 'policyAsWritten'>): string {
  return sha256Hex(canonicalBytes(pinnedPolicyDocument(request)));
}
