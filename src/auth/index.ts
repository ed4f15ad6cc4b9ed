// Accounts and sessions for the web UI: scrypt passwords, users file (IdentityProvider, OIDC-ready),
// server-side sessions with CSRF tokens, login throttling/lockout, and a JSON-lines audit log.
export { hashPassword, verifyPassword, SCRYPT_DEFAULTS } from './passwords';
export {
  FileIdentityProvider,
  NO_USERS,
  UsersFileError,
  UsersFileSchema,
  UserRoleSchema,
  type Identity,
  type IdentityProvider,
  type UserRole,
} from './users';
export { DEFAULT_SIGNATURE_MEANINGS, meaningRefusal, meaningsFor } from './meanings';
export {
  MemorySessionStore,
  DEFAULT_SESSION,
  tokensEqual,
  type Session,
  type SessionOptions,
  type SessionStore,
} from './sessions';
export { MemoryLoginThrottle, DEFAULT_THROTTLE, type LoginThrottle, type ThrottleOptions } from './throttle';
export { JsonLinesAuditLog, MemoryAuditLog, type AuthAuditLog, type AuthEvent, type AuthEventType } from './audit';
// Shared by API replicas through the state database (src/state); see src/api/shared-state.ts.
export { PgSessionStore } from './pg-sessions';
export { PgLoginThrottle } from './pg-throttle';
export { PgAuditLog } from './pg-audit';
export { PgUsedTokenStore } from './pg-used-tokens';
export { MemoryUsedTokenStore, type UsedTokenStore } from './used-tokens';
