import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { OidcSettings } from './auth/oidc/settings';
import { UserRoleSchema } from './auth/users';
import { TrafficScenarioSchema, type TrafficScenario } from './domain/simulation';

/** Env booleans are parsed explicitly: the string "false" must not be truthy. */
const envBool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const ConfigSchema = z.object({
  VIGIL_TEMPORAL_ADDRESS: z.string().min(1).default('127.0.0.1:7233'),
  VIGIL_TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  VIGIL_S3_ENDPOINT: z.url().default('http://127.0.0.1:8333'),
  VIGIL_S3_REGION: z.string().min(1).default('us-east-1'),
  VIGIL_S3_ACCESS_KEY_ID: z.string().min(1).default('vigil'),
  VIGIL_S3_SECRET_ACCESS_KEY: z.string().min(1).default('vigil-local-secret'),
  VIGIL_S3_BUCKET: z.string().min(3).default('vigil-evidence'),
  VIGIL_S3_FORCE_PATH_STYLE: envBool.default(true),
  VIGIL_RETENTION_MODE: z.enum(['COMPLIANCE', 'GOVERNANCE', 'NONE']).default('COMPLIANCE'),
  VIGIL_RETENTION_DAYS: z.coerce.number().int().positive().default(1),
  VIGIL_API_HOST: z.string().min(1).default('127.0.0.1'),
  VIGIL_API_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  VIGIL_API_URL: z.url().optional(),
  VIGIL_API_TOKEN: z.string().min(16, 'VIGIL_API_TOKEN must be at least 16 characters').optional(),
  VIGIL_LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  VIGIL_STATE_DIR: z.string().min(1).default('.vigil'),
  /** API replicas' shared state (sessions, login limits, delivery ledger, auth events); unset: in memory. A secret. */
  VIGIL_STATE_DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    .optional(),
  /** Reverse proxies whose X-Forwarded-For names the client (sign-in limits, audit): IPs or CIDRs, comma-separated. */
  VIGIL_TRUSTED_PROXIES: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((e) => e.trim())
        .filter(Boolean),
    )
    .refine((entries) => entries.every(isProxyEntry), 'each entry must be an IP address or a CIDR range (10.0.0.0/8)'),
  /** AES-256-GCM key (base64 of 32 bytes) for workflow payloads; unset = payloads are not encrypted. */
  VIGIL_PAYLOAD_KEY: z
    .string()
    .refine(
      (v) => Buffer.from(v, 'base64').length === 32 && Buffer.from(v, 'base64').toString('base64') === v,
      'must be base64 of exactly 32 bytes',
    )
    .optional(),
  /** Browser origins allowed to call the codec endpoint (the Temporal Web UI), comma-separated. */
  VIGIL_CODEC_CORS_ORIGINS: z.string().default('http://localhost:8233,http://127.0.0.1:8233'),
  /** Where the system's Ed25519 key (DSSE on signature records) lives; default <state dir>/keys (see signingKeyDirFor). */
  VIGIL_SIGNING_KEY_DIR: z.string().min(1).optional(),
  /** Users and roles for the web UI (YAML, scrypt hashes; see config/users.example.yaml). Unset: nobody can log in. */
  VIGIL_USERS_FILE: z.string().min(1).optional(),
  /** Sign-in through an OpenID provider instead of the users file (docs/sso.md); set with the client id and secret. */
  VIGIL_OIDC_ISSUER: z.url().optional(),
  VIGIL_OIDC_CLIENT_ID: z.string().min(1).optional(),
  VIGIL_OIDC_CLIENT_SECRET: z.string().min(1).optional(),
  VIGIL_OIDC_REDIRECT_URI: z.url().optional(),
  VIGIL_OIDC_POST_LOGOUT_REDIRECT_URI: z.url().optional(),
  VIGIL_OIDC_CLI_CLIENT_ID: z.string().min(1).optional(),
  VIGIL_OIDC_SCOPES: z.string().default('openid profile email'),
  VIGIL_OIDC_ROLES_CLAIM: z.string().min(1).default('groups'),
  /** Provider group → Vigil role(s): `vigil-qa=qa,vigil-clin=clinical,vigil-audit=auditor`. */
  VIGIL_OIDC_ROLE_MAP: z.string().default(''),
  VIGIL_OIDC_USERNAME_CLAIM: z.string().min(1).default('preferred_username'),
  VIGIL_OIDC_NAME_CLAIM: z.string().min(1).default('name'),
  VIGIL_OIDC_SIGNING_MAX_AGE_SECONDS: z.coerce.number().int().min(1).max(3600).default(300),
  VIGIL_OIDC_SIGNING_AMR: z.string().default(''),
  VIGIL_OIDC_SIGNING_ACR: z.string().default(''),
  VIGIL_OIDC_CLOCK_TOLERANCE_SECONDS: z.coerce.number().int().min(0).max(300).default(30),
  /** Seals the transient login cookie (base64 of 32 bytes); unset: derived from the client secret (HKDF). */
  VIGIL_OIDC_STATE_KEY: z
    .string()
    .refine((v) => Buffer.from(v, 'base64').length === 32, 'must be base64 of exactly 32 bytes')
    .optional(),
  /** Approval reminders/escalations (src/activities/notify.ts): signed webhook target and its HMAC secret; unset = evidence only. */
  VIGIL_NOTIFY_URL: z.url({ protocol: /^https?$/ }).optional(),
  VIGIL_NOTIFY_SECRET: z.string().min(16, 'VIGIL_NOTIFY_SECRET must be at least 16 characters').optional(),
  /** A workflow bundle built ahead of time (production image); unset = bundle at worker start. */
  VIGIL_WORKFLOW_BUNDLE: z.string().min(1).optional(),
  /** The worker's simulated traffic follows this scenario (JSON/YAML TrafficScenario: a fault at one site, delayed outcomes). */
  VIGIL_TRAFFIC_SCENARIO: z.string().min(1).optional(),
  /** Where SHADOW, canary and monitoring are measured: the gateway's telemetry segments in S3 (`telemetry` is the older name), or simulated traffic. */
  VIGIL_LIVE_SOURCE: z
    .enum(['gateway-telemetry', 'telemetry', 'simulated'])
    .default('simulated')
    .transform((v) => (v === 'telemetry' ? 'gateway-telemetry' : v)),
  /** Webhooks (src/api/webhooks): per-model mapping file (YAML), and one secret per source; an unset secret disables its route. */
  VIGIL_WEBHOOK_CONFIG: z.string().min(1).optional(),
  VIGIL_GITHUB_WEBHOOK_SECRET: z
    .string()
    .min(16, 'VIGIL_GITHUB_WEBHOOK_SECRET must be at least 16 characters')
    .optional(),
  VIGIL_GITLAB_WEBHOOK_TOKEN: z
    .string()
    .min(16, 'VIGIL_GITLAB_WEBHOOK_TOKEN must be at least 16 characters')
    .optional(),
  VIGIL_DATA_REFRESH_SECRET: z.string().min(16, 'VIGIL_DATA_REFRESH_SECRET must be at least 16 characters').optional(),
  VIGIL_RELEASE_WEBHOOK_SECRET: z
    .string()
    .min(16, 'VIGIL_RELEASE_WEBHOOK_SECRET must be at least 16 characters')
    .optional(),
  VIGIL_WEBHOOK_MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(64 * 1024 * 1024)
    .default(1024 * 1024),
  /** Signed (X-Vigil-Timestamp) deliveries must be within ± this many seconds of now. */
  VIGIL_WEBHOOK_TOLERANCE_SECONDS: z.coerce.number().int().min(1).max(86_400).default(300),
  /** GitHub pushes older than this (repository.pushed_at) are refused as stale. */
  VIGIL_WEBHOOK_GIT_MAX_AGE_SECONDS: z.coerce
    .number()
    .int()
    .min(1)
    .max(30 * 86_400)
    .default(3600),
  /** How long the in-memory delivery ledger remembers a delivery id. */
  VIGIL_WEBHOOK_LEDGER_TTL_SECONDS: z.coerce
    .number()
    .int()
    .min(1)
    .max(30 * 86_400)
    .default(86_400),
  /** Inference gateway (src/gateway): listen address, models file (YAML/JSON), control and ingest tokens, case-id HMAC key. */
  VIGIL_GATEWAY_HOST: z.string().min(1).default('127.0.0.1'),
  VIGIL_GATEWAY_PORT: z.coerce.number().int().min(0).max(65535).default(8090),
  VIGIL_GATEWAY_MODELS: z.string().min(1).optional(),
  VIGIL_GATEWAY_CONTROL_TOKEN: z
    .string()
    .min(16, 'VIGIL_GATEWAY_CONTROL_TOKEN must be at least 16 characters')
    .optional(),
  VIGIL_GATEWAY_INGEST_TOKEN: z
    .string()
    .min(16, 'VIGIL_GATEWAY_INGEST_TOKEN must be at least 16 characters')
    .optional(),
  VIGIL_GATEWAY_CASE_ID_KEY: z.string().min(16, 'VIGIL_GATEWAY_CASE_ID_KEY must be at least 16 characters').optional(),
  /** Telemetry write-ahead log; default <state dir>/telemetry-wal. */
  VIGIL_GATEWAY_WAL_DIR: z.string().min(1).optional(),
  VIGIL_GATEWAY_SHADOW_MAX_IN_FLIGHT: z.coerce.number().int().min(1).max(65_536).default(256),
  VIGIL_GATEWAY_SHADOW_TIMEOUT_MS: z.coerce.number().int().min(1).max(60_000).default(2000),
  /** Poll the S3 route store for newer tables this often; 0 = control API only. */
  VIGIL_GATEWAY_ROUTE_POLL_MS: z.coerce.number().int().min(0).max(3_600_000).default(5000),
  /** Upload S3 telemetry segments (false: WAL only, e.g. in benchmarks). */
  VIGIL_GATEWAY_UPLOAD: envBool.default(true),
  /** This gateway's name in its upload watermark (telemetry/watermarks/<id>.json); default <hostname>:<port>. Keep it stable across restarts. */
  VIGIL_GATEWAY_ID: z.string().min(1).max(200).optional(),
  /** Input sketches (for drift) per model per bucket of this many ms; 0 = none. */
  VIGIL_GATEWAY_SKETCH_BUCKET_MS: z.coerce.number().int().min(0).max(3_600_000).default(10_000),
  /** Relative accuracy of the input sketches (src/gateway/feature-sketches.ts GATEWAY_SKETCH_ALPHA). */
  VIGIL_GATEWAY_SKETCH_ALPHA: z.coerce.number().min(0.0001).max(0.1).default(0.01),
  /** A telemetry segment is sealed and uploaded at most this long after its first event. */
  VIGIL_GATEWAY_SEGMENT_MAX_AGE_MS: z.coerce.number().int().min(100).max(3_600_000).default(10_000),
  /** Workers measuring from telemetry wait at most this long for every gateway's upload watermark to pass the interval's end (0: look once). */
  VIGIL_TELEMETRY_WAIT_MS: z.coerce.number().int().min(0).max(3_600_000).default(60_000),
});

export type RawConfig = z.infer<typeof ConfigSchema>;

export interface VigilConfig {
  temporal: { address: string; namespace: string };
  s3: {
    endpoint: string;
    region: string;
    accessKeyId: string;
    secretAccessKey: string;
    bucket: string;
    forcePathStyle: boolean;
  };
  retention: { mode: 'COMPLIANCE' | 'GOVERNANCE'; days: number } | null;
  api: { host: string; port: number; url: string; token: string | undefined };
  logLevel: RawConfig['VIGIL_LOG_LEVEL'];
  stateDir: string;
  /** PostgreSQL URL of the API replicas' shared state (src/api/shared-state.ts); unset: in memory. Has a password. */
  stateDatabaseUrl?: string | undefined;
  /** Payload encryption (src/codec): the key is a secret, never log it. */
  payloadCodec: { key: Buffer; corsOrigins: string[] } | null;
  signingKeyDir: string;
  auth: {
    usersFile: string | undefined;
    /** JSON lines of authentication events. */
    auditLog: string;
    /** Secure cookies when the API is reached over TLS (VIGIL_API_URL https://…). */
    secureCookies: boolean;
    /** VIGIL_TRUSTED_PROXIES: whose X-Forwarded-For names the client (src/api/client-address.ts). */
    trustedProxies?: string[];
    /** Sign-in through the organisation's OpenID provider (VIGIL_OIDC_*); null: the users file. Secrets inside. */
    oidc?: OidcSettings | null;
  };
  workflowBundle: string | undefined;
  /** What the worker's simulated live traffic looks like (VIGIL_TRAFFIC_SCENARIO); null = the healthy world. */
  trafficScenario: TrafficScenario | null;
  /** VIGIL_LIVE_SOURCE: the live stages' source (src/contracts/live-source.ts), chosen once when the worker starts. */
  liveSource?: 'gateway-telemetry' | 'simulated';
  /** Outbound approval notifications (the worker's notify activity). The secret signs deliveries: never log it. */
  notify: { url: string; secret: string } | null;
  /** The inference gateway (src/gateway/main.ts). Secrets: never log the tokens or the key. */
  gateway?: {
    host: string;
    port: number;
    modelsFile: string | undefined;
    controlToken: string | undefined;
    ingestToken: string | undefined;
    caseIdKey: string | undefined;
    walDir: string;
    shadowMaxInFlight: number;
    shadowTimeoutMs: number;
    routePollMs: number;
    upload: boolean;
    id: string | undefined;
    segmentMaxAgeMs: number;
    sketchBucketMs: number;
    sketchAlpha: number;
  };
  /** How long a telemetry measurement waits for the gateways' upload watermarks (VIGIL_TELEMETRY_WAIT_MS). */
  telemetryWaitMs: number;
  webhooks: {
    configFile: string | undefined;
    /** Secrets: never log these. */
    secrets: { github?: string; gitlab?: string; dataRefresh?: string; release?: string };
    maxBodyBytes: number;
    toleranceSeconds: number;
    gitMaxAgeSeconds: number;
    ledgerTtlSeconds: number;
  };
}

/** `10.0.0.5`, `::1`, `172.16.0.0/12`, `fd00::/8`. */
function isProxyEntry(entry: string): boolean {
  const [ip, prefix, ...rest] = entry.split('/');
  const family = net.isIP(ip ?? '');
  if (family === 0 || rest.length > 0) return false;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128));
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parse configuration once from an environment; callers inject the result. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): VigilConfig {
  const parsed = ConfigSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const c = parsed.data;
  if (c.VIGIL_NOTIFY_URL && !c.VIGIL_NOTIFY_SECRET) {
    throw new ConfigError(
      'invalid configuration:\n  VIGIL_NOTIFY_SECRET: required when VIGIL_NOTIFY_URL is set (deliveries are signed)',
    );
  }
  return {
    temporal: { address: c.VIGIL_TEMPORAL_ADDRESS, namespace: c.VIGIL_TEMPORAL_NAMESPACE },
    s3: {
      endpoint: c.VIGIL_S3_ENDPOINT,
      region: c.VIGIL_S3_REGION,
      accessKeyId: c.VIGIL_S3_ACCESS_KEY_ID,
      secretAccessKey: c.VIGIL_S3_SECRET_ACCESS_KEY,
      bucket: c.VIGIL_S3_BUCKET,
      forcePathStyle: c.VIGIL_S3_FORCE_PATH_STYLE,
    },
    retention:
      c.VIGIL_RETENTION_MODE === 'NONE' ? null : { mode: c.VIGIL_RETENTION_MODE, days: c.VIGIL_RETENTION_DAYS },
    api: {
      host: c.VIGIL_API_HOST,
      port: c.VIGIL_API_PORT,
      url: c.VIGIL_API_URL ?? `http://${c.VIGIL_API_HOST}:${c.VIGIL_API_PORT}`,
      token: c.VIGIL_API_TOKEN,
    },
    logLevel: c.VIGIL_LOG_LEVEL,
    stateDir: c.VIGIL_STATE_DIR,
    stateDatabaseUrl: c.VIGIL_STATE_DATABASE_URL,
    payloadCodec: c.VIGIL_PAYLOAD_KEY
      ? {
          key: Buffer.from(c.VIGIL_PAYLOAD_KEY, 'base64'),
          corsOrigins: c.VIGIL_CODEC_CORS_ORIGINS.split(',')
            .map((o) => o.trim())
            .filter(Boolean),
        }
      : null,
    signingKeyDir: c.VIGIL_SIGNING_KEY_DIR ?? signingKeyDirFor(c.VIGIL_STATE_DIR),
    auth: {
      usersFile: c.VIGIL_USERS_FILE,
      auditLog: path.join(c.VIGIL_STATE_DIR, 'audit', 'auth.jsonl'),
      secureCookies: (c.VIGIL_API_URL ?? '').startsWith('https://'),
      trustedProxies: c.VIGIL_TRUSTED_PROXIES,
      oidc: oidcSettings(c),
    },
    workflowBundle: c.VIGIL_WORKFLOW_BUNDLE,
    trafficScenario: c.VIGIL_TRAFFIC_SCENARIO ? loadScenario(c.VIGIL_TRAFFIC_SCENARIO) : null,
    liveSource: c.VIGIL_LIVE_SOURCE,
    notify:
      c.VIGIL_NOTIFY_URL && c.VIGIL_NOTIFY_SECRET ? { url: c.VIGIL_NOTIFY_URL, secret: c.VIGIL_NOTIFY_SECRET } : null,
    webhooks: {
      configFile: c.VIGIL_WEBHOOK_CONFIG,
      secrets: {
        github: c.VIGIL_GITHUB_WEBHOOK_SECRET,
        gitlab: c.VIGIL_GITLAB_WEBHOOK_TOKEN,
        dataRefresh: c.VIGIL_DATA_REFRESH_SECRET,
        release: c.VIGIL_RELEASE_WEBHOOK_SECRET,
      },
      maxBodyBytes: c.VIGIL_WEBHOOK_MAX_BODY_BYTES,
      toleranceSeconds: c.VIGIL_WEBHOOK_TOLERANCE_SECONDS,
      gitMaxAgeSeconds: c.VIGIL_WEBHOOK_GIT_MAX_AGE_SECONDS,
      ledgerTtlSeconds: c.VIGIL_WEBHOOK_LEDGER_TTL_SECONDS,
    },
    gateway: {
      host: c.VIGIL_GATEWAY_HOST,
      port: c.VIGIL_GATEWAY_PORT,
      modelsFile: c.VIGIL_GATEWAY_MODELS,
      controlToken: c.VIGIL_GATEWAY_CONTROL_TOKEN,
      ingestToken: c.VIGIL_GATEWAY_INGEST_TOKEN,
      caseIdKey: c.VIGIL_GATEWAY_CASE_ID_KEY,
      walDir: c.VIGIL_GATEWAY_WAL_DIR ?? path.join(c.VIGIL_STATE_DIR, 'telemetry-wal'),
      shadowMaxInFlight: c.VIGIL_GATEWAY_SHADOW_MAX_IN_FLIGHT,
      shadowTimeoutMs: c.VIGIL_GATEWAY_SHADOW_TIMEOUT_MS,
      routePollMs: c.VIGIL_GATEWAY_ROUTE_POLL_MS,
      upload: c.VIGIL_GATEWAY_UPLOAD,
      id: c.VIGIL_GATEWAY_ID,
      segmentMaxAgeMs: c.VIGIL_GATEWAY_SEGMENT_MAX_AGE_MS,
      sketchBucketMs: c.VIGIL_GATEWAY_SKETCH_BUCKET_MS,
      sketchAlpha: c.VIGIL_GATEWAY_SKETCH_ALPHA,
    },
    telemetryWaitMs: c.VIGIL_TELEMETRY_WAIT_MS,
  };
}

/**
 * Default signing-key directory: <state dir>/keys, unless the state dir lies inside a git work tree (the
 * default `.vigil` of a clone): keys are never kept where they could be committed, so then ~/.config/vigil/keys.
 */
export function signingKeyDirFor(stateDir: string): string {
  const abs = path.resolve(stateDir);
  for (let d = abs; ; d = path.dirname(d)) {
    if (fs.existsSync(path.join(d, '.git'))) return path.join(os.homedir(), '.config', 'vigil', 'keys');
    if (path.dirname(d) === d) return path.join(abs, 'keys');
  }
}

function loadScenario(file: string): TrafficScenario {
  let raw: unknown;
  try {
    const text = fs.readFileSync(file, 'utf8');
    raw = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ConfigError(
      `invalid configuration:\n  VIGIL_TRAFFIC_SCENARIO: cannot read ${file}: ${(err as Error).message}`,
    );
  }
  const parsed = TrafficScenarioSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(
      `invalid configuration:\n  VIGIL_TRAFFIC_SCENARIO (${file}): ${parsed.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`).join('; ')}`,
    );
  }
  return parsed.data;
}

/** VIGIL_OIDC_*: null unless the issuer is set; then the client id, secret and a role map are required. */
function oidcSettings(c: RawConfig): OidcSettings | null {
  if (!c.VIGIL_OIDC_ISSUER) return null;
  const bad = (field: string, why: string): never => {
    throw new ConfigError(`invalid configuration:\n  ${field}: ${why}`);
  };
  if (!c.VIGIL_OIDC_CLIENT_ID) bad('VIGIL_OIDC_CLIENT_ID', 'required when VIGIL_OIDC_ISSUER is set');
  if (!c.VIGIL_OIDC_CLIENT_SECRET) bad('VIGIL_OIDC_CLIENT_SECRET', 'required when VIGIL_OIDC_ISSUER is set');
  const issuer = new URL(c.VIGIL_OIDC_ISSUER);
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(issuer.hostname);
  if (issuer.protocol !== 'https:' && !loopback)
    bad('VIGIL_OIDC_ISSUER', 'must be https (plain http only on loopback)');
  const roleMap: OidcSettings['roleMap'] = {};
  for (const pair of list(c.VIGIL_OIDC_ROLE_MAP)) {
    const at = pair.lastIndexOf('=');
    const role = UserRoleSchema.safeParse(pair.slice(at + 1).trim());
    if (at <= 0 || !role.success)
      bad('VIGIL_OIDC_ROLE_MAP', `"${pair}" is not <provider group>=<qa|clinical|regulatory|auditor>`);
    else (roleMap[pair.slice(0, at).trim()] ??= []).push(role.data);
  }
  if (Object.keys(roleMap).length === 0) bad('VIGIL_OIDC_ROLE_MAP', 'map at least one provider group to a Vigil role');
  const secret = c.VIGIL_OIDC_CLIENT_SECRET!;
  const apiUrl = c.VIGIL_API_URL ?? `http://${c.VIGIL_API_HOST}:${c.VIGIL_API_PORT}`;
  return {
    issuer: c.VIGIL_OIDC_ISSUER,
    clientId: c.VIGIL_OIDC_CLIENT_ID!,
    clientSecret: secret,
    redirectUri: c.VIGIL_OIDC_REDIRECT_URI ?? `${apiUrl.replace(/\/$/, '')}/ui/oidc/callback`,
    cliClientId: c.VIGIL_OIDC_CLI_CLIENT_ID,
    ...(c.VIGIL_OIDC_POST_LOGOUT_REDIRECT_URI ? { postLogoutRedirectUri: c.VIGIL_OIDC_POST_LOGOUT_REDIRECT_URI } : {}),
    scopes: c.VIGIL_OIDC_SCOPES.split(/\s+/).filter(Boolean),
    rolesClaim: c.VIGIL_OIDC_ROLES_CLAIM,
    roleMap,
    usernameClaim: c.VIGIL_OIDC_USERNAME_CLAIM,
    nameClaim: c.VIGIL_OIDC_NAME_CLAIM,
    signingMaxAgeSeconds: c.VIGIL_OIDC_SIGNING_MAX_AGE_SECONDS,
    signingAmr: list(c.VIGIL_OIDC_SIGNING_AMR),
    signingAcr: list(c.VIGIL_OIDC_SIGNING_ACR),
    clockToleranceSeconds: c.VIGIL_OIDC_CLOCK_TOLERANCE_SECONDS,
    // Every replica derives the same key from the shared client secret unless one is given.
    stateKey: c.VIGIL_OIDC_STATE_KEY
      ? new Uint8Array(Buffer.from(c.VIGIL_OIDC_STATE_KEY, 'base64'))
      : new Uint8Array(crypto.hkdfSync('sha256', secret, 'vigil', 'oidc-login-state', 32)),
  };
}

const list = (v: string): string[] =>
  v
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
