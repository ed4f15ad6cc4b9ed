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
export { SessionStore, DEFAULT_SESSION, tokensEqual, type Session, type SessionOptions } from './sessions';
export { LoginThrottle, DEFAULT_THROTTLE, type ThrottleOptions } from './throttle';
export { JsonLinesAuditLog, MemoryAuditLog, type AuthAuditLog, type AuthEvent, type AuthEventType } from './audit';
