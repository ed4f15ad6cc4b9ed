/**
 * The IdentityProvider when people sign in through the organisation's OpenID provider. There are no passwords
 * here: `authenticate` always refuses, and `lookup` answers from what the provider said at the person's last
 * sign-in or re-authentication in this process.
 *
 * The cache is per process. Sessions carry their own identity snapshot (with the provider subject) in the shared
 * session store, and the UI resolves a session from it (src/ui/middleware.ts), so a shared session works on every
 * replica; this cache answers for sessions stored without a snapshot (before shared-state migration 2).
 */
import type { Role } from '../../domain/policy';
import type { Identity, IdentityProvider } from '../users';

/** Who a Vigil user id is at the provider: the pair a re-authentication must match. */
export interface ProviderSubject {
  issuer: string;
  subject: string;
}

export class OidcIdentityProvider implements IdentityProvider {
  private readonly byId = new Map<string, { identity: Identity; subject: ProviderSubject }>();

  constructor(
    /** The provider's name as people know it (shown on the sign-in page): its issuer's host unless given. */
    readonly signInWith: string,
    private readonly meanings: Partial<Record<Role, readonly string[]>> = {},
  ) {}

  /** Password sign-in does not exist under OIDC: the provider authenticates. */
  authenticate(): Promise<Identity | null> {
    return Promise.resolve(null);
  }

  lookup(id: string): Identity | null {
    return this.byId.get(id)?.identity ?? null;
  }

  /** The provider subject behind a Vigil user id, as of the last sign-in. */
  subjectOf(id: string): ProviderSubject | null {
    return this.byId.get(id)?.subject ?? null;
  }

  /** Records (or refreshes) the identity after a verified sign-in; roles may have changed at the provider. */
  remember(identity: Identity, subject: ProviderSubject): void {
    const existing = this.byId.get(identity.id)?.subject;
    // One Vigil user id is one person at the provider: another subject claiming the same id is refused by the caller.
    if (existing && (existing.issuer !== subject.issuer || existing.subject !== subject.subject)) {
      throw new Error(`user id ${identity.id} already belongs to another subject at the identity provider`);
    }
    this.byId.set(identity.id, { identity, subject });
  }

  /** Forgets a person (sign-out); their sessions stop resolving on this replica. */
  forget(id: string): void {
    this.byId.delete(id);
  }

  signatureMeanings(role: Role): readonly string[] {
    return this.meanings[role] ?? [];
  }
}
