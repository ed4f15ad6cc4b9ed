import crypto from 'node:crypto';
import type { Identity } from './users';

export interface Session {
  id: string;
  userId: string;
  /** Synchronizer token: every state-changing form carries it. */
  csrfToken: string;
  createdAt: number;
  lastSeenAt: number;
}

export interface SessionOptions {
  idleMs: number;
  absoluteMs: number;
}

export const DEFAULT_SESSION: SessionOptions = { idleMs: 30 * 60_000, absoluteMs: 8 * 3600_000 };

/**
 * Server-side sessions in memory: the cookie holds only a random 256-bit id. A new id at every login (no
 * fixation); idle and absolute expiry. An API restart logs everyone out, which is acceptable for sign-off.
 */
export class SessionStore {
  private readonly sessions = new Map<string, Session>();

  constructor(
    private readonly opts: SessionOptions = DEFAULT_SESSION,
    private readonly now: () => number = Date.now,
  ) {}

  create(identity: Identity): Session {
    const t = this.now();
    const s: Session = { id: token(), userId: identity.id, csrfToken: token(), createdAt: t, lastSeenAt: t };
    this.sessions.set(s.id, s);
    return s;
  }

  /** The live session for this id (touching it), or null; `expired` tells a timed-out session from none. */
  get(id: string | undefined): { session: Session | null; expired: boolean } {
    if (!id) return { session: null, expired: false };
    const s = this.sessions.get(id);
    if (!s) return { session: null, expired: false };
    const t = this.now();
    if (t - s.lastSeenAt > this.opts.idleMs || t - s.createdAt > this.opts.absoluteMs) {
      this.sessions.delete(id);
      return { session: null, expired: true };
    }
    s.lastSeenAt = t;
    return { session: s, expired: false };
  }

  destroy(id: string): void {
    this.sessions.delete(id);
  }
}

const token = (): string => crypto.randomBytes(32).toString('base64url');

/** Constant-time string comparison for tokens. */
export function tokensEqual(a: string | undefined, b: string): boolean {
  if (typeof a !== 'string') return false;
  const x = crypto.createHash('sha256').update(a).digest();
  const y = crypto.createHash('sha256').update(b).digest();
  return crypto.timingSafeEqual(x, y);
}
