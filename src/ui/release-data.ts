/** What a release page shows besides the status: the sign form's state and the dossier the digest names. */
import { meaningsFor, type Identity, type IdentityProvider } from '../auth';
import { RoleSchema, type EvidenceRef, type ReleaseStatus, type Role } from '../domain';
import { latestDossierRef } from '../dossier/export';
import type { UiDeps } from './deps';
import type { DossierDocument, SignFormState } from './views';

const SIGNING_ROLES = RoleSchema.options;

/** The roles this user holds that are still pending on the release. */
export function eligibleRoles(user: Identity, status: ReleaseStatus): Role[] {
  return status.pendingRoles.filter((r) => (user.roles as string[]).includes(r));
}

/** Which roles the user may sign as (with each role's defined meanings), or why they may not sign at all. */
export function signFormState(
  user: Identity,
  status: ReleaseStatus,
  identities: Pick<IdentityProvider, 'signatureMeanings' | 'signInWith'>,
): SignFormState {
  const mine = eligibleRoles(user, status);
  const meanings = Object.fromEntries(mine.map((r) => [r, meaningsFor(identities, r)])) as Partial<
    Record<Role, string[]>
  >;
  const signingRoles = user.roles.filter((r): r is Role => (SIGNING_ROLES as readonly string[]).includes(r));
  let blockedReason: string | null = null;
  if (status.submittedBy === user.id)
    blockedReason = 'You submitted this release: separation of duties forbids you to sign it.';
  else if (status.signatures.some((s) => s.signer === user.id)) blockedReason = 'You have already signed this release.';
  else if (signingRoles.length === 0) blockedReason = 'Your account has no signing role (read-only access).';
  else if (mine.length === 0)
    blockedReason = `None of your roles (${signingRoles.join(', ')}) is pending on this release.`;
  return {
    eligibleRoles: mine,
    meanings,
    blockedReason,
    ...(identities.signInWith ? { sso: identities.signInWith } : {}),
  };
}

/**
 * The dossier the digest names, read from the store on every view: the index by its digest, then the HTML page
 * the index names by its digest (the store re-hashes both; a mismatch is shown, never the content). While sign-off
 * is open that is the dossier being signed; afterwards, the final one with the sign-offs.
 */
export async function dossierDocument(
  deps: Pick<UiDeps, 'evidence' | 'log'>,
  status: ReleaseStatus,
): Promise<DossierDocument> {
  const index = status.stage === 'AWAITING_APPROVAL' ? status.dossier : latestDossierRef(status);
  if (!index) return null;
  try {
    const parsed = JSON.parse(Buffer.from(await deps.evidence.getBytes(index.key, index.sha256)).toString('utf8')) as {
      html?: EvidenceRef;
      modelCardRecord?: { html?: EvidenceRef };
    };
    if (!parsed.html) throw new Error(`${index.key} is not a dossier index with an HTML page`);
    const page = Buffer.from(await deps.evidence.getBytes(parsed.html.key, parsed.html.sha256)).toString('utf8');
    return {
      ...splitDossierPage(page),
      index,
      html: parsed.html,
      modelCard: parsed.modelCardRecord?.html ?? null,
      final: index.sha256 !== status.dossier?.sha256,
    };
  } catch (err) {
    deps.log.warn({ key: index.key, err: String(err) }, 'ui: dossier unreadable');
    return {
      error: `The dossier ${index.key} could not be read or failed its digest check: ${(err as Error).message}`,
    };
  }
}

/**
 * The stored page's scoped stylesheet and its `.dossier` body. Pages stored before the stylesheet was scoped have
 * no `<style data-dossier>`: their body is shown under the UI's own styles (their global rules would restyle it).
 */
export function splitDossierPage(page: string): { css: string; body: string } {
  const css = /<style data-dossier>([\s\S]*?)<\/style>/.exec(page)?.[1] ?? '';
  const body = /<body>([\s\S]*)<\/body>/.exec(page)?.[1] ?? page;
  return { css: css.replace(/<\//g, ''), body: css ? body : `<div class="dossier">${body}</div>` };
}
