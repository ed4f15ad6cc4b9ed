/**
 * The person acting on a signing route (sign, withdraw, canary decision, adjudication) under OIDC (docs/sso.md):
 * instead of user id and password, an ID token from a fresh authentication at the provider (`vigil approve --sso`:
 * device authorization grant), checked for signature, issuer, audience, expiry, one use, auth_time within the
 * signing max age and the required amr/acr.
 */
import { z } from 'zod';
import type { AuthEventType, Identity } from '../auth';
import {
  authenticationRecord,
  identityFromClaims,
  OidcRefusal,
  signingRefusal,
  type IdTokenVerifier,
} from '../auth/oidc';
import type { SignerAuthentication } from '../domain';
import { ApiError, fieldIssues } from './errors';

type Audit = (type: AuthEventType, user: string | null, detail?: Record<string, unknown>) => Promise<void>;

/** The request without its credentials, the person, and the authentication to record. */
export interface TokenPerson<R> {
  req: R;
  identity: Identity;
  authentication: SignerAuthentication;
}

/**
 * Under OIDC: `schema` without username/password plus `idToken`; the token verified and judged for this act.
 * Throws ApiError 400/401/403 with the reason; the token never appears in a message or the audit log.
 */
export async function idTokenPerson<R>(
  verifier: IdTokenVerifier,
  audit: Audit,
  schema: z.ZodObject<z.ZodRawShape>,
  body: unknown,
  what: string,
): Promise<TokenPerson<R>> {
  if (body !== null && typeof body === 'object' && ('password' in body || 'username' in body)) {
    throw new ApiError(
      400,
      'this server signs through the identity provider: send an ID token from a fresh sign-in (`vigil approve --sso`), not a password',
    );
  }
  const parsed = schema
    .omit({ username: true, password: true })
    .extend({ idToken: z.string().min(16).max(16384) })
    .strict()
    .safeParse(body);
  if (!parsed.success) throw new ApiError(400, `invalid ${what}`, { issues: fieldIssues(parsed.error.issues) });
  const { idToken, ...req } = parsed.data as { idToken: string } & Record<string, unknown>;
  const settings = verifier.settings;
  let verified;
  try {
    verified = await verifier.verify(idToken);
  } catch (err) {
    if (err instanceof OidcRefusal) {
      void audit('reauth.failure', null, { channel: 'oidc', reason: err.reason });
      throw new ApiError(401, `${err.message}; nothing was submitted`, { reason: err.reason });
    }
    throw err;
  }
  const mapped = identityFromClaims(settings, verified.claims);
  if ('refusal' in mapped) {
    void audit('reauth.failure', null, { channel: 'oidc', reason: 'no-role', subject: verified.subject });
    throw new ApiError(403, mapped.refusal);
  }
  const stale = signingRefusal(settings, verified, Math.floor(Date.now() / 1000));
  if (stale) {
    void audit('reauth.failure', mapped.identity.id, {
      channel: 'oidc',
      reason: 'policy',
      authTime: verified.authTime,
    });
    throw new ApiError(401, stale, { reason: 'policy' });
  }
  void audit('reauth.success', mapped.identity.id, {
    channel: 'oidc',
    subject: verified.subject,
    authTime: verified.authTime,
    amr: verified.amr,
  });
  return { req: req as R, identity: mapped.identity, authentication: authenticationRecord(verified, settings) };
}
