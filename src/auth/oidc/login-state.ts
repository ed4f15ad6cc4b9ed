/**
 * The transient state of one trip to the provider (state, nonce, PKCE verifier, and what to do on return), sealed
 * into a short-lived cookie with jose (JWE, dir + A256GCM) under a key every API replica shares.
 *
 * Why a cookie and not an in-process map keyed by state: behind a round-robin balancer the callback may reach a
 * replica other than the one that sent the browser away; the sealed cookie needs no shared store and no sticky
 * sessions. Integrity and secrecy come from the AEAD; replay is bounded by the expiry (10 min), the cookie being
 * cleared at the callback, the provider's single-use authorization code, and the nonce in the ID token.
 */
import { EncryptJWT, jwtDecrypt } from 'jose';
import type { PendingAuthorization } from './client';

/** What the UI needs back at the callback, besides the pending authorization. */
export interface LoginContext {
  /** Where to go after a plain sign-in (a /ui/ path). */
  next?: string;
  /** For a signing re-authentication: the session that asked, its user, and the validated form values. */
  sign?: {
    sessionId: string;
    userId: string;
    releaseId: string;
    values: { role: string; decision: string; meaning: string; reason: string; dossierSha256: string };
  };
}

export type SealedLogin = PendingAuthorization & LoginContext;

const TTL_SECONDS = 600;
const AUDIENCE = 'vigil-oidc-login-state';

/** Seals the login state; the cookie value. */
export async function sealLoginState(key: Uint8Array, state: SealedLogin, nowMs = Date.now()): Promise<string> {
  const iat = Math.floor(nowMs / 1000);
  return new EncryptJWT({ login: state })
    .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
    .setAudience(AUDIENCE)
    .setIssuedAt(iat)
    .setExpirationTime(iat + TTL_SECONDS)
    .encrypt(key);
}

/** Opens a sealed login state, or null when absent, tampered with, sealed under another key, or expired. */
export async function openLoginState(
  key: Uint8Array,
  value: string | undefined,
  nowMs = Date.now(),
): Promise<SealedLogin | null> {
  if (!value) return null;
  try {
    const { payload } = await jwtDecrypt(value, key, {
      audience: AUDIENCE,
      currentDate: new Date(nowMs),
      keyManagementAlgorithms: ['dir'],
      contentEncryptionAlgorithms: ['A256GCM'],
    });
    const login = payload.login as SealedLogin | undefined;
    return login && typeof login.state === 'string' && typeof login.nonce === 'string' ? login : null;
  } catch {
    return null;
  }
}

export const LOGIN_STATE_TTL_SECONDS = TTL_SECONDS;
