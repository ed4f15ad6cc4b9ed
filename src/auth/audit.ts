import fs from 'node:fs';
import path from 'node:path';

/** Authentication and signing events, one JSON object per line (who, what, when, from where, outcome). */
export type AuthEventType =
  | 'login.success'
  | 'login.failure'
  | 'login.locked'
  | 'login.rate_limited'
  | 'logout'
  | 'session.expired'
  | 'csrf.rejected'
  | 'reauth.success'
  | 'reauth.failure'
  | 'signature.accepted'
  | 'signature.duplicate'
  | 'signature.refused'
  | 'withdrawal.accepted'
  | 'withdrawal.refused'
  | 'canary-decision.accepted'
  | 'canary-decision.refused';

export interface AuthEvent {
  type: AuthEventType;
  /** User id as typed at login (may be unknown) or the session's user. */
  user: string | null;
  ip: string;
  at: string;
  [detail: string]: unknown;
}

/** What callers pass: `at` defaults to now. */
export type AuthEventInput = { type: AuthEventType; user: string | null; ip: string; at?: string } & Record<
  string,
  unknown
>;

export interface AuthAuditLog {
  record(event: AuthEventInput): Promise<void>;
}

/**
 * Appends to a JSON-lines file (created 0600, directory 0700). Writes are serialised in process so lines
 * never interleave; each line is one `appendFile` (O_APPEND). Passwords are never passed here.
 */
export class JsonLinesAuditLog implements AuthAuditLog {
  private tail: Promise<void> = Promise.resolve();

  constructor(readonly file: string) {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  }

  record(event: AuthEventInput): Promise<void> {
    const line = `${JSON.stringify({ ...event, at: event.at ?? new Date().toISOString() })}\n`;
    this.tail = this.tail.then(() => fs.promises.appendFile(this.file, line, { mode: 0o600 }));
    return this.tail;
  }
}

/** For tests: keeps events in memory. */
export class MemoryAuditLog implements AuthAuditLog {
  readonly events: AuthEvent[] = [];
  record(event: AuthEventInput): Promise<void> {
    this.events.push({ ...event, at: event.at ?? new Date().toISOString() } as AuthEvent);
    return Promise.resolve();
  }
}
