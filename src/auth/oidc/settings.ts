/**
 * What configures sign-in through the organisation's OpenID provider (parsed from VIGIL_OIDC_* in src/config.ts,
 * documented in docs/sso.md). A leaf module: config, the client and the policy all import it.
 */
import type { UserRole } from '../users';

export interface OidcSettings {
  /** The provider's issuer URL (discovery at <issuer>/.well-known/openid-configuration). */
  issuer: string;
  /** The web UI's confidential client (authorization code + PKCE). The secret is a secret: never log it. */
  clientId: string;
  clientSecret: string;
  /** Where the provider sends the browser back: <VIGIL_API_URL>/ui/oidc/callback unless set. */
  redirectUri: string;
  /** The CLI's public client (device authorization grant); its ID tokens are accepted by the signing API. */
  cliClientId: string | undefined;
  scopes: string[];
  /** The claim that lists the user's groups or roles (e.g. `groups`, `roles`). */
  rolesClaim: string;
  /** Provider group/role value → Vigil role; values not listed grant nothing. */
  roleMap: Record<string, UserRole[]>;
  /** The claim that becomes the Vigil user id (signer) — stable and human-readable, e.g. preferred_username. */
  usernameClaim: string;
  /** The claim that becomes the printed name in signature manifestations (21 CFR 11.50). */
  nameClaim: string;
  /** A signature needs an authentication at most this old (prompt=login + max_age at every signing act). */
  signingMaxAgeSeconds: number;
  /** Every one of these `amr` values must be present at signing (e.g. ["mfa"]); empty: no requirement. */
  signingAmr: string[];
  /** One of these `acr` values must be present at signing; empty: no requirement. */
  signingAcr: string[];
  /** Tolerated clock difference between Vigil and the provider (exp, iat, auth_time). */
  clockToleranceSeconds: number;
  /**
   * Where the provider sends the browser after it ended its session (RP-initiated logout); registered at the
   * provider as a post-logout redirect URI. Absent: the provider shows its own signed-out page.
   */
  postLogoutRedirectUri?: string;
  /** 32 bytes that seal the transient login cookie; the same on every API replica. */
  stateKey: Uint8Array;
}
