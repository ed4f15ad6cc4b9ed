/**
 * `vigil approve --sso`: a fresh authentication at the organisation's OpenID provider for one signature, through
 * the device authorization grant (RFC 8628) with openid-client. The person opens the printed address in any
 * browser and signs in; the CLI polls for the tokens and hands the ID token to the API, which checks it. The token
 * is never printed.
 */
import * as oidc from 'openid-client';
import { isLoopbackHttp } from '../auth/oidc/client';
import type { SsoInfo } from './api-client';
import { UsageError } from './context';

/** Runs the device grant; `say` gets the instructions (stderr). Returns the ID token. */
export async function deviceSignIn(info: SsoInfo, say: (line: string) => void): Promise<string> {
  let config: oidc.Configuration;
  try {
    config = await oidc.discovery(
      new URL(info.issuer),
      info.cliClientId,
      undefined,
      oidc.None(),
      isLoopbackHttp(info.issuer) ? { execute: [oidc.allowInsecureRequests] } : undefined,
    );
  } catch (err) {
    throw new UsageError(`cannot reach the identity provider at ${info.issuer}: ${(err as Error).message}`);
  }
  // max_age=0: the provider must authenticate the person now, whatever session it has (21 CFR 11.200(a)).
  const params: Record<string, string> = { scope: info.scopes.join(' '), max_age: '0' };
  if (info.acrValues.length > 0) params.acr_values = info.acrValues.join(' ');
  const grant = await oidc.initiateDeviceAuthorization(config, params);
  say(
    `To sign, open ${grant.verification_uri_complete ?? grant.verification_uri} in a browser and sign in` +
      ` (code ${grant.user_code}); waiting up to ${Math.round(grant.expires_in / 60)} min...`,
  );
  let tokens;
  try {
    tokens = await oidc.pollDeviceAuthorizationGrant(config, grant);
  } catch (err) {
    const e = err as { error?: string; message?: string };
    throw new UsageError(`the sign-in at the identity provider did not complete: ${e.error ?? e.message ?? 'error'}`);
  }
  if (!tokens.id_token) throw new UsageError('the identity provider returned no ID token (is "openid" in the scopes?)');
  return tokens.id_token;
}
