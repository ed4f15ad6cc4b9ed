/**
 * The web UI's relying party, on openid-client (a certified RP): discovery, authorization code with PKCE,
 * state and nonce, issuer/audience/expiry checks with a clock tolerance (openid-client); the ID token's signature is
 * also checked against the provider's JWKS with jose's remote key set (cached; a key id it does not know makes it
 * fetch the set again after 1 s, so key rotation works without waiting out openid-client's 60 s cache).
 * Nothing here is hand-written crypto, and no token is ever logged or put into an error message.
 */
import crypto from 'node:crypto';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import * as oidc from 'openid-client';
import type { VerifiedAuthentication } from './policy';
import type { OidcSettings } from './settings';

/** A refused sign-in or re-authentication: the message is for the person (no token, no claim values beyond ids). */
export class OidcRefusal extends Error {
  override name = 'OidcRefusal';
  constructor(
    message: string,
    /** A short machine-readable reason for the audit log (expired, audience, issuer, nonce, state, ...). */
    readonly reason: string,
  ) {
    super(message);
  }
}

/** What must survive the round trip to the provider (sealed in a cookie by ./login-state.ts). */
export interface PendingAuthorization {
  state: string;
  nonce: string;
  codeVerifier: string;
  /** Seconds since the epoch when the request was made (a signing re-authentication must be newer). */
  requestedAt: number;
  /** `sign`: prompt=login and max_age — a fresh authentication for one signing act. */
  purpose: 'login' | 'sign';
}

/** The UI's client for one provider. Discovery is lazy and retried after a failure. */
export class OidcClient {
  private config: Promise<oidc.Configuration> | null = null;
  private keys: JWTVerifyGetKey | null = null;

  constructor(
    readonly settings: OidcSettings,
    private readonly now: () => number = Date.now,
  ) {}

  /** The provider's metadata and keys, as discovered (once; again after a failure). */
  configuration(): Promise<oidc.Configuration> {
    if (!this.config) {
      const s = this.settings;
      this.config = oidc
        .discovery(
          new URL(s.issuer),
          s.clientId,
          { [oidc.clockTolerance]: s.clockToleranceSeconds },
          oidc.ClientSecretBasic(s.clientSecret),
          isLoopbackHttp(s.issuer) ? { execute: [oidc.allowInsecureRequests] } : undefined,
        )
        .then((config) => {
          const uri = config.serverMetadata().jwks_uri;
          if (!uri) throw new Error('the provider publishes no jwks_uri');
          this.keys = createRemoteJWKSet(new URL(uri), { cooldownDuration: 1000 });
          return config;
        })
        .catch((err: unknown) => {
          this.config = null;
          throw new OidcRefusal(
            `the identity provider at ${s.issuer} cannot be reached or is misconfigured (${(err as Error).message})`,
            'discovery',
          );
        });
    }
    return this.config;
  }

  /** The provider URL to send the browser to, and what to keep until it comes back. */
  async authorizationRequest(
    purpose: PendingAuthorization['purpose'],
    loginHint?: string,
  ): Promise<{ url: URL; pending: PendingAuthorization }> {
    const config = await this.configuration();
    const s = this.settings;
    const pending: PendingAuthorization = {
      state: oidc.randomState(),
      nonce: oidc.randomNonce(),
      codeVerifier: oidc.randomPKCECodeVerifier(),
      requestedAt: Math.floor(this.now() / 1000),
      purpose,
    };
    const params: Record<string, string> = {
      redirect_uri: s.redirectUri,
      scope: s.scopes.join(' '),
      response_type: 'code',
      code_challenge: await oidc.calculatePKCECodeChallenge(pending.codeVerifier),
      code_challenge_method: 'S256',
      state: pending.state,
      nonce: pending.nonce,
    };
    if (purpose === 'sign') {
      // 21 CFR 11.200(a): the provider must authenticate the person again now, not reuse its session.
      params.prompt = 'login';
      params.max_age = String(s.signingMaxAgeSeconds);
      if (s.signingAcr.length > 0) params.acr_values = s.signingAcr.join(' ');
      if (loginHint) params.login_hint = loginHint;
    }
    return { url: oidc.buildAuthorizationUrl(config, params), pending };
  }

  /**
   * Where to send the browser so the provider ends its own session too (OpenID Connect RP-Initiated Logout 1.0):
   * its end_session_endpoint with our client_id (and the post-logout redirect URI when configured); null when
   * the provider advertises no such endpoint. No id_token_hint: Vigil keeps no ID token.
   */
  async endSessionUrl(): Promise<URL | null> {
    const config = await this.configuration();
    if (!config.serverMetadata().end_session_endpoint) return null;
    const uri = this.settings.postLogoutRedirectUri;
    return oidc.buildEndSessionUrl(config, uri ? { post_logout_redirect_uri: uri } : {});
  }

  /**
   * The callback: exchanges the code (PKCE) and checks state, nonce, issuer, audience, expiry, the signature and
   * (for signing) max_age through auth_time. Throws OidcRefusal with the reason.
   */
  async complete(callbackUrl: URL, pending: PendingAuthorization): Promise<VerifiedAuthentication> {
    const config = await this.configuration();
    const providerError = callbackUrl.searchParams.get('error');
    if (providerError) {
      const description = callbackUrl.searchParams.get('error_description');
      throw new OidcRefusal(
        `the identity provider refused the sign-in: ${providerError}${description ? ` (${description.slice(0, 200)})` : ''}`,
        'provider-error',
      );
    }
    let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
    try {
      tokens = await oidc.authorizationCodeGrant(config, callbackUrl, {
        pkceCodeVerifier: pending.codeVerifier,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
        ...(pending.purpose === 'sign' ? { maxAge: this.settings.signingMaxAgeSeconds } : {}),
      });
    } catch (err) {
      throw refusalFor(err);
    }
    const claims = tokens.claims();
    if (!claims || !tokens.id_token) throw new OidcRefusal('the identity provider returned no ID token', 'no-id-token');
    // Its hash goes into signature records: verify the JWS against the provider's keys too, not only TLS.
    try {
      await jwtVerify(tokens.id_token, this.keys!, {
        issuer: this.settings.issuer,
        audience: this.settings.clientId,
        clockTolerance: this.settings.clockToleranceSeconds,
        currentDate: new Date(this.now()),
      });
    } catch (err) {
      throw verifyRefusal(err);
    }
    return verifiedFrom(claims as unknown as Record<string, unknown>, tokens.id_token);
  }
}

/** The parts of a verified ID token Vigil uses, and the token's SHA-256 (the token itself is dropped here). */
export function verifiedFrom(claims: Record<string, unknown>, idToken: string): VerifiedAuthentication {
  const amr = Array.isArray(claims.amr) ? claims.amr.filter((v): v is string => typeof v === 'string') : undefined;
  return {
    issuer: String(claims.iss),
    subject: String(claims.sub),
    claims,
    authTime: typeof claims.auth_time === 'number' ? claims.auth_time : undefined,
    acr: typeof claims.acr === 'string' ? claims.acr : undefined,
    amr,
    idTokenSha256: crypto.createHash('sha256').update(idToken).digest('hex'),
  };
}

/** openid-client / oauth4webapi failures as reasons a person can read; the token never appears. */
export function refusalFor(err: unknown): OidcRefusal {
  // openid-client wraps oauth4webapi's error, whose own cause names the claim.
  type Cause = { claim?: string; error?: string; cause?: Cause };
  const e = err as { code?: string; message?: string; cause?: Cause };
  const claim = e.cause?.claim ?? e.cause?.cause?.claim;
  switch (e.code) {
    case 'OAUTH_JWT_TIMESTAMP_CHECK_FAILED':
      if (claim === 'auth_time') {
        return new OidcRefusal(
          'your authentication at the identity provider is older than signing allows (auth_time past max_age); sign in again',
          'stale-auth-time',
        );
      }
      return new OidcRefusal(`the ID token is expired or not yet valid (${claim ?? 'exp'} claim)`, 'expired');
    case 'OAUTH_JWT_CLAIM_COMPARISON_FAILED':
      if (claim === 'aud' || claim === 'azp')
        return new OidcRefusal('the ID token was issued to another client (wrong audience)', 'audience');
      if (claim === 'iss') return new OidcRefusal('the ID token comes from another issuer (wrong issuer)', 'issuer');
      if (claim === 'nonce')
        return new OidcRefusal('the ID token answers another sign-in (nonce mismatch: replayed token?)', 'nonce');
      return new OidcRefusal(`the ID token's "${claim ?? '?'}" claim is not what Vigil expected`, 'claim');
    case 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED':
      return new OidcRefusal('the sign-in answer does not match this sign-in (state mismatch)', 'state');
    case 'OAUTH_KEY_SELECTION_FAILED':
      return new OidcRefusal("the ID token is signed with a key the provider's JWKS does not list", 'key');
    case 'OAUTH_RESPONSE_BODY_ERROR':
      return new OidcRefusal(
        `the identity provider refused the code exchange: ${e.cause?.error ?? 'error'} (a code is valid once and briefly)`,
        'code-exchange',
      );
    default:
      return new OidcRefusal(`the sign-in could not be verified (${e.code ?? 'error'}: ${e.message ?? ''})`, 'invalid');
  }
}

/** jose verification failures as reasons a person can read; the token never appears. */
export function verifyRefusal(err: unknown): OidcRefusal {
  if (err instanceof joseErrors.JWTExpired) return new OidcRefusal('the ID token is expired', 'expired');
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.claim === 'aud')
      return new OidcRefusal('the ID token was issued to another client (wrong audience)', 'audience');
    if (err.claim === 'iss') return new OidcRefusal('the ID token comes from another issuer (wrong issuer)', 'issuer');
    return new OidcRefusal(`the ID token's "${err.claim}" claim is invalid (${err.reason})`, 'claim');
  }
  if (err instanceof joseErrors.JWKSNoMatchingKey)
    return new OidcRefusal("the ID token is signed with a key the provider's JWKS does not list", 'key');
  if (err instanceof joseErrors.JWSSignatureVerificationFailed)
    return new OidcRefusal('the ID token signature does not verify', 'signature');
  if (err instanceof joseErrors.JOSEError) return new OidcRefusal(`the ID token is not valid (${err.code})`, 'invalid');
  return new OidcRefusal('the ID token is not a valid JWT', 'invalid');
}

/** Plain http only to a loopback issuer (tests, a local provider); anything else must be https. */
export function isLoopbackHttp(issuer: string): boolean {
  const u = new URL(issuer);
  return u.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname);
}
