// Sign-in through the organisation's OpenID provider (issue #21; docs/sso.md): the UI's client, the API's ID
// token verifier, the sealed login state, the OIDC identity cache and the signing policy.
export { OidcClient, OidcRefusal, refusalFor, verifiedFrom, type PendingAuthorization } from './client';
export { IdTokenVerifier } from './token-verifier';
export { OidcIdentityProvider, type ProviderSubject } from './identities';
export {
  openLoginState,
  sealLoginState,
  LOGIN_STATE_TTL_SECONDS,
  type LoginContext,
  type SealedLogin,
} from './login-state';
export { authenticationRecord, identityFromClaims, signingRefusal, type VerifiedAuthentication } from './policy';
export type { OidcSettings } from './settings';

import { OidcClient } from './client';
import { OidcIdentityProvider } from './identities';
import { IdTokenVerifier } from './token-verifier';
import type { OidcSettings } from './settings';
import type { UsedTokenStore } from '../used-tokens';

/**
 * The UI's OIDC parts from settings: the client (discovery happens at first use), the identity cache, and the API's
 * ID-token verifier with its used-token store (the replicas' shared one when given; in memory otherwise).
 */
export function oidcUiDeps(
  settings: OidcSettings,
  opts: { usedTokens?: UsedTokenStore } = {},
): {
  client: OidcClient;
  identities: OidcIdentityProvider;
  idTokens: IdTokenVerifier;
} {
  return {
    client: new OidcClient(settings),
    identities: new OidcIdentityProvider(new URL(settings.issuer).host),
    idTokens: new IdTokenVerifier(settings, opts.usedTokens),
  };
}
