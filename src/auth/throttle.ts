/**
 * Login throttling, in memory (one API process):
 * - per account: `maxFailures` consecutive failed password checks (login or signing re-authentication) lock
 *   the account for `lockoutMs`; while locked the password is not even checked, so guessing stops;
 * - per client address: at most `maxAttemptsPerWindow` login attempts per `windowMs`, whatever the account; a
 *   signing re-authentication counts towards it only when its password check fails.
 */
export interface ThrottleOptions {
  maxFailures: number;
  lockoutMs: number;
  maxAttemptsPerWindow: number;
  windowMs: number;
}

export const DEFAULT_THROTTLE: ThrottleOptions = {
  maxFailures: 5,
  lockoutMs: 15 * 60_000,
  maxAttemptsPerWindow: 30,
  windowMs: 5 * 60_000,
};

export class LoginThrottle {
  private readonly failures = new Map<string, { count: number; lockedUntil: number }>();
  private readonly attempts = new Map<string, number[]>();

  constructor(
    private readonly opts: ThrottleOptions = DEFAULT_THROTTLE,
    private readonly now: () => number = Date.now,
  ) {}

  /** Milliseconds until the account may try again, or 0. */
  lockedFor(user: string): number {
    const f = this.failures.get(user);
    return f ? Math.max(0, f.lockedUntil - this.now()) : 0;
  }

  /** Counts one attempt from `ip`; false when over the limit (the attempt is refused without a check). */
  allowAttempt(ip: string): boolean {
    if (!this.underLimit(ip)) return false;
    this.countAttempt(ip);
    return true;
  }

  /** Whether `ip` may try now, counting nothing: a signature's password check counts only when it fails. */
  underLimit(ip: string): boolean {
    const t = this.now();
    const recent = (this.attempts.get(ip) ?? []).filter((x) => t - x < this.opts.windowMs);
    this.attempts.set(ip, recent);
    return recent.length < this.opts.maxAttemptsPerWindow;
  }

  /** Counts one attempt from `ip` towards its limit. */
  countAttempt(ip: string): void {
    const t = this.now();
    this.attempts.set(ip, [...(this.attempts.get(ip) ?? []).filter((x) => t - x < this.opts.windowMs), t]);
    if (this.attempts.size > 10_000) this.prune(t);
  }

  /** Returns true when this failure locked the account. */
  fail(user: string): boolean {
    const f = this.failures.get(user) ?? { count: 0, lockedUntil: 0 };
    f.count += 1;
    const locks = f.count >= this.opts.maxFailures;
    if (locks) {
      f.lockedUntil = this.now() + this.opts.lockoutMs;
      f.count = 0;
    }
    this.failures.set(user, f);
    return locks;
  }

  succeed(user: string): void {
    this.failures.delete(user);
  }

  private prune(t: number): void {
    for (const [ip, xs] of this.attempts) if (xs.every((x) => t - x >= this.opts.windowMs)) this.attempts.delete(ip);
  }
}
