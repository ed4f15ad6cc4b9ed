/**
 * Login throttling:
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

/**
 * The counters behind the limits above. Async because API replicas share them in a database (PgLoginThrottle):
 * otherwise an attacker gets five guesses per replica. Each method is one atomic step.
 */
export interface LoginThrottle {
  /** Milliseconds until the account may try again, or 0. */
  lockedFor(user: string): Promise<number>;
  /** Counts one attempt from `ip`; false when over the limit (the attempt is refused without a check). */
  allowAttempt(ip: string): Promise<boolean>;
  /** Whether `ip` may try now, counting nothing: a signature's password check counts only when it fails. */
  underLimit(ip: string): Promise<boolean>;
  /** Counts one attempt from `ip` towards its limit. */
  countAttempt(ip: string): Promise<void>;
  /** Counts one failed password check; true when this failure locked the account. */
  fail(user: string): Promise<boolean>;
  /** A correct password: the account's failure count starts again. */
  succeed(user: string): Promise<void>;
}

/** The counters in this process's memory: the single-process default. */
export class MemoryLoginThrottle implements LoginThrottle {
  private readonly failures = new Map<string, { count: number; lockedUntil: number }>();
  private readonly attempts = new Map<string, number[]>();
  /** The map size that triggers the next prune: doubled after one, so pruning stays amortised O(1). */
  private pruneAt = 10_000;

  constructor(
    private readonly opts: ThrottleOptions = DEFAULT_THROTTLE,
    private readonly now: () => number = Date.now,
  ) {}

  lockedFor(user: string): Promise<number> {
    const f = this.failures.get(user);
    return Promise.resolve(f ? Math.max(0, f.lockedUntil - this.now()) : 0);
  }

  allowAttempt(ip: string): Promise<boolean> {
    if (!this.isUnderLimit(ip)) return Promise.resolve(false);
    this.count(ip);
    return Promise.resolve(true);
  }

  underLimit(ip: string): Promise<boolean> {
    return Promise.resolve(this.isUnderLimit(ip));
  }

  countAttempt(ip: string): Promise<void> {
    this.count(ip);
    return Promise.resolve();
  }

  fail(user: string): Promise<boolean> {
    const f = this.failures.get(user) ?? { count: 0, lockedUntil: 0 };
    f.count += 1;
    const locks = f.count >= this.opts.maxFailures;
    if (locks) {
      f.lockedUntil = this.now() + this.opts.lockoutMs;
      f.count = 0;
    }
    this.failures.set(user, f);
    return Promise.resolve(locks);
  }

  succeed(user: string): Promise<void> {
    // A lock set meanwhile (by failures racing this correct password) stays.
    if ((this.failures.get(user)?.lockedUntil ?? 0) <= this.now()) this.failures.delete(user);
    return Promise.resolve();
  }

  private isUnderLimit(ip: string): boolean {
    const t = this.now();
    const recent = (this.attempts.get(ip) ?? []).filter((x) => t - x < this.opts.windowMs);
    this.attempts.set(ip, recent);
    return recent.length < this.opts.maxAttemptsPerWindow;
  }

  private count(ip: string): void {
    const t = this.now();
    this.attempts.set(ip, [...(this.attempts.get(ip) ?? []).filter((x) => t - x < this.opts.windowMs), t]);
    if (this.attempts.size > this.pruneAt) {
      this.prune(t);
      // Many addresses inside the window (IPv6 makes that cheap) must not make every attempt a full scan.
      this.pruneAt = Math.max(10_000, 2 * this.attempts.size);
    }
  }

  private prune(t: number): void {
    for (const [ip, xs] of this.attempts) if (xs.every((x) => t - x >= this.opts.windowMs)) this.attempts.delete(ip);
  }
}
