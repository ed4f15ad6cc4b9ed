/**
 * What the sign-off UI's route modules share: their dependencies and the request variables the session
 * middleware sets. A leaf module, so the route modules import it and not each other.
 */
import type { Context } from 'hono';
import type { EvidencePort } from '../contracts/ports';
import type { Verifier } from '../attestation';
import type { AuthAuditLog, Identity, IdentityProvider, LoginThrottle, Session, SessionStore } from '../auth';
import type { IdTokenVerifier, OidcClient, OidcIdentityProvider } from '../auth/oidc';
import type { Logger } from '../logging/logger';
import type { TemporalPort } from '../api/temporal-port';

/** Everything the UI routes need from the outside, injected by `uiDepsFromConfig` or a test. */
export interface UiDeps {
  client: TemporalPort;
  evidence: Pick<EvidencePort, 'getBytes'>;
  identities: IdentityProvider;
  /** Set when people sign in at an OpenID provider (src/ui/oidc-routes.ts); `identities` is then `oidc.identities`. */
  oidc?: { client: OidcClient; identities: OidcIdentityProvider };
  /** Under OIDC: checks the ID tokens the CLI brings to the signing API (device authorization grant). */
  idTokens?: IdTokenVerifier;
  /** False when no users file is configured: the login page says so. */
  usersConfigured: boolean;
  sessions: SessionStore;
  throttle: LoginThrottle;
  audit: AuthAuditLog;
  /** The system key(s) that seal signature records; the timeline verifies envelopes against them. */
  verifiers: Verifier[];
  systemKeyPem: string | null;
  /** Behind TLS: Secure cookies with the __Host- prefix. */
  secureCookies: boolean;
  log: Logger;
  /** The client's address for rate limiting and the audit log (the Node adapter's socket address). */
  clientAddress?: (c: Context) => string;
  /** How long a repeated submission waits for a concurrent identical one to land (idempotency). */
  duplicateWaitMs?: number;
  /** Chromium for printing dossiers to PDF on the server; absent or null: no server-side PDF (the page says how). */
  chromiumPath?: string | null;
}

/** The hono environment of the UI: the session middleware sets `session` and `user` (null when signed out). */
export type UiEnv = { Variables: { session: Session | null; user: Identity | null } };
