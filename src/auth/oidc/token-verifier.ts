/**
 * Checking an ID token a person brings to the signing API (the CLI's device authorization grant): the signature
 * against the provider's JWKS (jose's remote key set: cached, fetched again for an unknown key id, so rotation
 * works), issuer, audience (the CLI's client), expiry with the clock tolerance, and that it was not used before.
 * Freshness and amr/acr are judged by ./policy.ts. Errors name the failed check; the token is never logged.
 * The one-use check goes through a UsedTokenStore: shared by API replicas (PgUsedTokenStore), so a token used at one
 * replica is refused at the others.
 */
import crypto from 'node:crypto';
import { createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from 'jose';
import * as oidc from 'openid-client';
import { isLoopbackHttp, OidcRefusal, verifiedFrom, verifyRefusal } from './client';
import { MemoryUsedTokenStore, type UsedTokenStore } from '../used-tokens';
import type { VerifiedAuthentication } from './policy';
import type { OidcSettings } from './settings';

export class IdTokenVerifier {
  private keys: Promise<JWTVerifyGetKey> | null = null;

  constructor(
    readonly settings: OidcSettings,
    /** The SHA-256 of tokens already used for an act; one act per token. */
    private readonly used: UsedTokenStore = new MemoryUsedTokenStore(),
    private readonly now: () => number = Date.now,
  ) {}

  /** The audiences accepted: the CLI's client (and the UI's, for tokens a browser flow obtained). */
  private audiences(): string[] {
    return [this.settings.cliClientId, this.settings.clientId].filter((a): a is string => !!a);
  }

  private jwks(): Promise<JWTVerifyGetKey> {
    if (!this.keys) {
      const s = this.settings;
      this.keys = oidc
        .discovery(
          new URL(s.issuer),
          s.cliClientId ?? s.clientId,
          undefined,
          oidc.None(),
          isLoopbackHttp(s.issuer) ? { execute: [oidc.allowInsecureRequests] } : undefined,
        )
        .then((config) => {
          const uri = config.serverMetadata().jwks_uri;
          if (!uri) throw new Error('the provider publishes no jwks_uri');
          return createRemoteJWKSet(new URL(uri), { cooldownDuration: 1000 });
        })
        .catch((err: unknown) => {
          this.keys = null;
          throw new OidcRefusal(
            `the identity provider at ${s.issuer} cannot be reached (${(err as Error).message})`,
            'discovery',
          );
        });
    }
    return this.keys;
  }

  /** The verified token, marked used; throws OidcRefusal naming the failed check. */
  async verify(idToken: string): Promise<VerifiedAuthentication> {
    const keys = await this.jwks();
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(idToken, keys, {
        issuer: this.settings.issuer,
        audience: this.audiences(),
        clockTolerance: this.settings.clockToleranceSeconds,
        currentDate: new Date(this.now()),
        requiredClaims: ['sub', 'iat', 'exp'],
      }));
    } catch (err) {
      throw verifyRefusal(err);
    }
    const digest = crypto.createHash('sha256').update(idToken).digest('hex');
    // Kept until the token could no longer pass jwtVerify above (exp plus the tolerance); `exp` is a required claim.
    const unusableAt = ((payload.exp as number) + this.settings.clockToleranceSeconds) * 1000 + 1000;
    if (!(await this.used.claim(digest, unusableAt))) {
      throw new OidcRefusal(
        'this ID token was already used for a signing act (replayed token); authenticate again for each act',
        'replay',
      );
    }
    return verifiedFrom(payload, idToken);
  }
}
