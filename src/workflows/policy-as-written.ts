/**
 * The policy as written (issue #19 item 5), behind `patched('policy-as-written')`: a release whose input carries
 * the document its author wrote pins the digest of that document; one whose input does not (started before the
 * change, or by a worker or API that did not know it) keeps pinning the effective policy, on every activity.
 */
import { patched } from '@temporalio/workflow';
import type { ReleaseRequest } from '../domain';

export const POLICY_AS_WRITTEN_PATCH = 'policy-as-written';

/**
 * The request the release's activities get. `patched()` is called only when the raw input carries
 * `policyAsWritten`, so histories recorded before it record no marker and replay as before; a run whose SNAPSHOT
 * an older worker took (no marker) goes on with the effective form it pinned.
 */
export function withPolicyAsWritten(raw: unknown, request: ReleaseRequest): ReleaseRequest {
  const given =
    typeof raw === 'object' && raw !== null && (raw as { policyAsWritten?: unknown }).policyAsWritten !== undefined;
  if (given && patched(POLICY_AS_WRITTEN_PATCH)) return request;
  const { policyAsWritten: _written, ...effective } = request;
  return effective;
}
