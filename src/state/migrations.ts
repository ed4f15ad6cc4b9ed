/**
 * The shared-state schema, as versioned SQL. Append only: an applied migration is never edited (its digest is
 * checked at every start), a change is a new version. Times are milliseconds since the epoch (bigint), as the
 * in-memory stores count them, so both implementations share one clock model.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'sessions, login throttle, webhook deliveries, auth events',
    sql: `
CREATE TABLE vigil_sessions (
  -- sha256 of the cookie's session id: the table cannot be replayed as cookies
  id_sha256 text PRIMARY KEY,
  user_id text NOT NULL,
  csrf_token text NOT NULL,
  created_at bigint NOT NULL,
  last_seen_at bigint NOT NULL
);
CREATE INDEX vigil_sessions_last_seen_at ON vigil_sessions (last_seen_at);

CREATE TABLE vigil_login_failures (
  account text PRIMARY KEY,
  failures integer NOT NULL,
  locked_until bigint NOT NULL DEFAULT 0
);

CREATE TABLE vigil_address_attempts (
  address text PRIMARY KEY,
  attempts bigint[] NOT NULL
);

CREATE TABLE vigil_webhook_deliveries (
  delivery_key text PRIMARY KEY,
  release_id text NOT NULL,
  outcome text NOT NULL CHECK (outcome IN ('started', 'joined', 'queued')),
  recorded_at bigint NOT NULL,
  expires_at bigint NOT NULL
);
CREATE INDEX vigil_webhook_deliveries_expires_at ON vigil_webhook_deliveries (expires_at);

CREATE TABLE vigil_auth_events (
  seq bigserial PRIMARY KEY,
  at timestamptz NOT NULL,
  type text NOT NULL,
  user_id text,
  ip text NOT NULL,
  event jsonb NOT NULL
);
CREATE INDEX vigil_auth_events_at ON vigil_auth_events (at);
`,
  },
  {
    version: 2,
    name: 'sessions keep the identity they were made for',
    sql: `
ALTER TABLE vigil_sessions ADD COLUMN identity jsonb;
`,
  },
  {
    version: 3,
    name: 'ID tokens used for a signing act',
    sql: `
CREATE TABLE vigil_used_id_tokens (
  -- sha256 of the ID token, never the token
  token_sha256 text PRIMARY KEY,
  expires_at bigint NOT NULL
);
CREATE INDEX vigil_used_id_tokens_expires_at ON vigil_used_id_tokens (expires_at);
`,
  },
];
