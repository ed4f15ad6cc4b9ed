/** What a release page shows besides the status: the sign form's state and the OFFLINE_EVAL report. */
import type { Identity } from '../auth';
import { RoleSchema, type ReleaseStatus, type Role } from '../domain';
import type { UiDeps } from './deps';
import type { releasePage, SignFormState } from './views';

const SIGNING_ROLES = RoleSchema.options;

/** The report part of the release page: the HTML, an error, or null when there is no report yet. */
export type EvaluationReport = Parameters<typeof releasePage>[1]['report'];

/** The roles this user holds that are still pending on the release. */
export function eligibleRoles(user: Identity, status: ReleaseStatus): Role[] {
  return status.pendingRoles.filter((r) => (user.roles as string[]).includes(r));
}

/** Which roles the user may sign as, or why they may not sign at all. */
export function signFormState(user: Identity, status: ReleaseStatus): SignFormState {
  const mine = eligibleRoles(user, status);
  const signingRoles = user.roles.filter((r): r is Role => (SIGNING_ROLES as readonly string[]).includes(r));
  let blockedReason: string | null = null;
  if (status.submittedBy === user.id)
    blockedReason = 'You submitted this release: separation of duties forbids you to sign it.';
  else if (status.signatures.some((s) => s.signer === user.id)) blockedReason = 'You have already signed this release.';
  else if (signingRoles.length === 0) blockedReason = 'Your account has no signing role (read-only access).';
  else if (mine.length === 0)
    blockedReason = `None of your roles (${signingRoles.join(', ')}) is pending on this release.`;
  return { eligibleRoles: mine, blockedReason };
}

/** The OFFLINE_EVAL report fragment, read back through the evidence store (which re-hashes it). */
export async function evaluationReport(
  deps: Pick<UiDeps, 'evidence' | 'log'>,
  status: ReleaseStatus,
): Promise<EvaluationReport> {
  const stage = [...status.history].reverse().find((h) => h.stage === 'OFFLINE_EVAL' && h.decision);
  const ref = stage?.artifacts.find((a) => a.mediaType.startsWith('text/html'));
  if (!ref) return null;
  try {
    return { html: Buffer.from(await deps.evidence.getBytes(ref.key, ref.sha256)).toString('utf8'), key: ref.key };
  } catch (err) {
    deps.log.warn({ key: ref.key, err: String(err) }, 'ui: evaluation report unreadable');
    return {
      error: `The evaluation report ${ref.key} could not be read or failed its digest check: ${(err as Error).message}`,
    };
  }
}
