/**
 * Judging what an OpenID provider said, as pure functions: which Vigil identity its claims map to, and whether an
 * authentication is fresh and strong enough to sign with (21 CFR 11.200(a): a fresh authentication at each
 * signing act). The token checks themselves (signature, iss, aud, exp, nonce) are the libraries' (./client.ts,
 * ./token-verifier.ts).
 */
import type { SignerAuthentication } from '../../domain/approval';
import type { Identity, UserRole } from '../users';
import type { OidcSettings } from './settings';

/** What a verified ID token says about the person, plus its digest (the token itself is never kept). */
export interface VerifiedAuthentication {
  issuer: string;
  subject: string;
  claims: Record<string, unknown>;
  /** `auth_time` in seconds since the epoch, when the provider sent one. */
  authTime: number | undefined;
  acr: string | undefined;
  amr: string[] | undefined;
  idTokenSha256: string;
}

/** The Vigil identity for these claims, or why there is none (a message for the person, naming the claim). */
export function identityFromClaims(
  settings: Pick<OidcSettings, 'usernameClaim' | 'nameClaim' | 'rolesClaim' | 'roleMap'>,
  claims: Record<string, unknown>,
): { identity: Identity } | { refusal: string } {
  const id = claims[settings.usernameClaim];
  if (typeof id !== 'string' || id.trim() === '' || id.length > 128) {
    return { refusal: `the identity provider sent no usable "${settings.usernameClaim}" claim (Vigil's user id)` };
  }
  const name = claims[settings.nameClaim];
  if (typeof name !== 'string' || name.trim() === '' || name.length > 200) {
    return {
      refusal: `the identity provider sent no usable "${settings.nameClaim}" claim (the printed name a signature shows)`,
    };
  }
  const raw = claims[settings.rolesClaim];
  const values = Array.isArray(raw)
    ? raw.filter((v): v is string => typeof v === 'string')
    : typeof raw === 'string'
      ? [raw]
      : [];
  const roles = [...new Set(values.flatMap((v) => settings.roleMap[v] ?? []))] as UserRole[];
  if (roles.length === 0) {
    return {
      refusal: `${id} holds no Vigil role: none of the values of the "${settings.rolesClaim}" claim is mapped (VIGIL_OIDC_ROLE_MAP)`,
    };
  }
  return { identity: { id: id.trim(), name: name.trim(), roles } };
}

/**
 * Null when this authentication may carry a signature requested at `requestedAt` (seconds): it happened after the
 * request (the provider did re-authenticate), it is at most `signingMaxAgeSeconds` old now, and it has the `amr` /
 * `acr` the policy asks for. Otherwise the reason, in words a signer can act on.
 */
export function signingRefusal(
  settings: Pick<OidcSettings, 'signingMaxAgeSeconds' | 'signingAmr' | 'signingAcr' | 'clockToleranceSeconds'>,
  auth: Pick<VerifiedAuthentication, 'authTime' | 'amr' | 'acr'>,
  nowSeconds: number,
  requestedAt?: number,
): string | null {
  const tol = settings.clockToleranceSeconds;
  if (auth.authTime === undefined) {
    return 'the identity provider did not say when you authenticated (no auth_time claim); the signature was not submitted';
  }
  const age = nowSeconds - auth.authTime;
  if (age > settings.signingMaxAgeSeconds + tol) {
    return (
      `your authentication at ${iso(auth.authTime)} is ${Math.round(age)} s old; signing needs one at most ` +
      `${settings.signingMaxAgeSeconds} s old. Sign in again to sign; the signature was not submitted`
    );
  }
  if (requestedAt !== undefined && auth.authTime < requestedAt - tol) {
    return (
      `the identity provider did not re-authenticate you for this signature (auth_time ${iso(auth.authTime)} is ` +
      `before the signing request at ${iso(requestedAt)}); the signature was not submitted`
    );
  }
  const missing = settings.signingAmr.filter((m) => !(auth.amr ?? []).includes(m));
  if (missing.length > 0) {
    return (
      `signing requires the authentication method(s) ${missing.map((m) => `"${m}"`).join(', ')} (amr); the identity ` +
      `provider reported ${auth.amr?.length ? auth.amr.map((m) => `"${m}"`).join(', ') : 'none'}; the signature was not submitted`
    );
  }
  if (settings.signingAcr.length > 0 && (auth.acr === undefined || !settings.signingAcr.includes(auth.acr))) {
    return (
      `signing requires an authentication context (acr) of ${settings.signingAcr.map((a) => `"${a}"`).join(' or ')}; ` +
      `the identity provider reported ${auth.acr ? `"${auth.acr}"` : 'none'}; the signature was not submitted`
    );
  }
  return null;
}

/** What the signature record keeps of the authentication (after `signingRefusal` said null). */
export function authenticationRecord(
  auth: VerifiedAuthentication,
  settings: Pick<OidcSettings, 'signingMaxAgeSeconds' | 'clockToleranceSeconds'>,
): SignerAuthentication {
  return {
    method: 'oidc',
    issuer: auth.issuer,
    subject: auth.subject,
    authTime: iso(auth.authTime ?? 0),
    ...(auth.acr !== undefined ? { acr: auth.acr } : {}),
    ...(auth.amr !== undefined ? { amr: auth.amr } : {}),
    idTokenSha256: auth.idTokenSha256,
    maxAgeSeconds: settings.signingMaxAgeSeconds,
    clockToleranceSeconds: settings.clockToleranceSeconds,
  };
}

const iso = (seconds: number): string => new Date(seconds * 1000).toISOString();
