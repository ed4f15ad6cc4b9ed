import { existsSync } from 'node:fs';
import { loadOrCreateDevKey, PublicKeyVerifier } from '../attestation';
import {
  FileIdentityProvider,
  JsonLinesAuditLog,
  MemoryLoginThrottle,
  MemorySessionStore,
  NO_USERS,
  type UsedTokenStore,
} from '../auth';
import type { VigilConfig } from '../config';
import { CHROMIUM_PATH } from '../dossier/export';
import { oidcUiDeps } from '../auth/oidc';
import { clientAddressResolver } from '../api/client-address';
import type { UiDeps } from './deps';

/** The UI's dependencies from configuration: users file, auth audit log, the system key's public half. */
export function uiDepsFromConfig(
  config: Pick<VigilConfig, 'auth' | 'signingKeyDir'>,
  parts: Pick<UiDeps, 'client' | 'evidence' | 'log'> &
    Partial<Pick<UiDeps, 'throttle' | 'sessions' | 'audit' | 'chromiumPath'>> & { usedTokens?: UsedTokenStore },
): UiDeps {
  // OIDC when configured (docs/sso.md); otherwise the users file, the local default.
  const { usedTokens, ...rest } = parts;
  const oidc = config.auth.oidc ? oidcUiDeps(config.auth.oidc, usedTokens ? { usedTokens } : {}) : undefined;
  const identities =
    oidc?.identities ?? (config.auth.usersFile ? FileIdentityProvider.fromFile(config.auth.usersFile) : NO_USERS);
  if (!config.auth.usersFile && !oidc)
    parts.log.warn({}, 'ui: VIGIL_USERS_FILE is not set; nobody can sign in to the web UI');
  // The worker seals signature records with this key; the API only needs its public half to check them.
  const key = loadOrCreateDevKey(config.signingKeyDir).signer.publicKey();
  return {
    ...rest,
    identities,
    ...(oidc ? { oidc, idTokens: oidc.idTokens } : {}),
    usersConfigured: config.auth.usersFile !== undefined || oidc !== undefined,
    sessions: parts.sessions ?? new MemorySessionStore(),
    throttle: parts.throttle ?? new MemoryLoginThrottle(),
    audit: parts.audit ?? new JsonLinesAuditLog(config.auth.auditLog),
    verifiers: [new PublicKeyVerifier(key)],
    systemKeyPem: key.export({ type: 'spki', format: 'pem' }).toString(),
    secureCookies: config.auth.secureCookies,
    // Server-side PDF only where Debian's Chromium is installed (see docs/operations.md).
    chromiumPath:
      parts.chromiumPath !== undefined ? parts.chromiumPath : existsSync(CHROMIUM_PATH) ? CHROMIUM_PATH : null,
    clientAddress: clientAddressResolver(config.auth.trustedProxies),
  };
}
