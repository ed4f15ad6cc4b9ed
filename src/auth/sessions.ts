import crypto from 'node:crypto';
import type { Identity } from './users';

export interface Session {
  id: string;
  userId: string;
  /** Synchronizer token: every state-changing form carries it. */
  csrfToken: string;
  createdAt: number;
  lastSeenAt: number;
  /**
   * Who signed in, as the identity provider said then. Every replica can read it, where a provider's own cache may
   * be per process (OIDC). Absent on sessions stored before it was kept (shared-state migration 2).
   */
  identity?: Identity;
}

export interface SessionOptions {
  idleMs: number;
  absoluteMs: number;
}

export const DEFAULT_SESSION: SessionOptions = { idleMs: 30 * 60_000, absoluteMs: 8 * 3600_000 };

/**
 * Server-side sessions: the cookie holds only a random 256-bit id. A new id at every login (no fixation); idle
 * and absolute expiry. Async because API replicas keep them in a shared database (PgSessionStore); a single
 * process may keep them in memory (MemorySessionStore).
 */
export interface SessionStore {
  create(identity: Identity): Promise<Session>;
  /** The live session for this id (touching it), or null; `expired` tells a timed-out session from none. */
  get(id: string | undefined): Promise<{ session: Session | null; expired: boolean }>;
  destroy(id: string): Promise<void>;
  /**
   * Replaces the identity a live session carries (same user id only), e.g. with the roles the identity provider
   * asserted at a re-authentication. False when the session is gone or belongs to another user.
   */
  updateIdentity(id: string, identity: Identity): Promise<boolean>;
}

/** Sessions in this process's memory: the single-process default. An API restart logs everyone out. */
export class MemorySessionStore implements SessionStore {
  private readonly sessions = new Map<string, Session>();

  constructor(
    private readonly opts: SessionOptions = DEFAULT_SESSION,
    private readonly now: () => number = Date.now,
  ) {}

  create(identity: Identity): Promise<Session> {
    const s = newSession(identity, this.now());
    this.sessions.set(s.id, s);
    return Promise.resolve(copy(s));
  }

  get(id: string | undefined): Promise<{ session: Session | null; expired: boolean }> {
    if (!id) return Promise.resolve({ session: null, expired: false });
    const s = this.sessions.get(id);
    if (!s) return Promise.resolve({ session: null, expired: false });
    const t = this.now();
    if (isExpired(s, t, this.opts)) {
      this.sessions.delete(id);
      return Promise.resolve({ session: null, expired: true });
    }
    s.lastSeenAt = t;
    return Promise.resolve({ session: copy(s), expired: false });
  }

  destroy(id: string): Promise<void> {
    this.sessions.delete(id);
    return Promise.resolve();
  }

  updateIdentity(id: string, identity: Identity): Promise<boolean> {
    const s = this.sessions.get(id);
    if (!s || s.userId !== identity.id) return Promise.resolve(false);
    s.identity = snapshotOf(identity);
    return Promise.resolve(true);
  }
}

/** Callers get copies: changing one changes no stored session. */
const copy = (s: Session): Session => ({
  ...s,
  ...(s.identity
    ? {
        identity: {
          ...s.identity,
          roles: [...s.identity.roles],
          ...(s.identity.provider ? { provider: { ...s.identity.provider } } : {}),
        },
      }
    : {}),
});

/** A fresh session for `identity` at time `t`: new random id and CSRF token. */
export function newSession(identity: Identity, t: number): Session {
  return {
    id: randomToken(),
    userId: identity.id,
    csrfToken: randomToken(),
    createdAt: t,
    lastSeenAt: t,
    identity: snapshotOf(identity),
  };
}

/** A copy of `identity` with only the fields a session keeps. */
export function snapshotOf(identity: Identity): Identity {
  return {
    id: identity.id,
    name: identity.name,
    roles: [...identity.roles],
    ...(identity.timeZone !== undefined ? { timeZone: identity.timeZone } : {}),
    ...(identity.provider
      ? { provider: { issuer: identity.provider.issuer, subject: identity.provider.subject } }
      : {}),
  };
}

/** Idle or past the absolute limit at time `t`. */
export function isExpired(s: Pick<Session, 'createdAt' | 'lastSeenAt'>, t: number, opts: SessionOptions): boolean {
  return t - s.lastSeenAt > opts.idleMs || t - s.createdAt > opts.absoluteMs;
}

const randomToken = (): string => crypto.randomBytes(32).toString('base64url');

/** Constant-time string comparison for tokens. */
export function tokensEqual(a: string | undefined, b: string): boolean {
  if (typeof a !== 'string') return false;
  const x = crypto.createHash('sha256').update(a).digest();
  const y = crypto.createHash('sha256').update(b).digest();
  return crypto.timingSafeEqual(x, y);
}
