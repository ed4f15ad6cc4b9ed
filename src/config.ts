import { z } from 'zod';

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
  /** A workflow bundle built ahead of time (production image); unset = bundle at worker start. */
  VIGIL_WORKFLOW_BUNDLE: z.string().min(1).optional(),
  /** Webhooks (src/api/webhooks): per-model mapping file (YAML), and one secret per source; an unset secret disables its route. */
  VIGIL_WEBHOOK_CONFIG: z.string().min(1).optional(),
  VIGIL_GITHUB_WEBHOOK_SECRET: z.string().min(16, 'VIGIL_GITHUB_WEBHOOK_SECRET must be at least 16 characters').optional(),
  VIGIL_GITLAB_WEBHOOK_TOKEN: z.string().min(16, 'VIGIL_GITLAB_WEBHOOK_TOKEN must be at least 16 characters').optional(),
  VIGIL_DATA_REFRESH_SECRET: z.string().min(16, 'VIGIL_DATA_REFRESH_SECRET must be at least 16 characters').optional(),
  VIGIL_RELEASE_WEBHOOK_SECRET: z.string().min(16, 'VIGIL_RELEASE_WEBHOOK_SECRET must be at least 16 characters').optional(),
  VIGIL_WEBHOOK_MAX_BODY_BYTES: z.coerce.number().int().min(1024).max(64 * 1024 * 1024).default(1024 * 1024),
  /** Signed (X-Vigil-Timestamp) deliveries must be within ± this many seconds of now. */
  VIGIL_WEBHOOK_TOLERANCE_SECONDS: z.coerce.number().int().min(1).max(86_400).default(300),
  /** GitHub pushes older than this (repository.pushed_at) are refused as stale. */
  VIGIL_WEBHOOK_GIT_MAX_AGE_SECONDS: z.coerce.number().int().min(1).max(30 * 86_400).default(3600),
  /** How long the in-memory delivery ledger remembers a delivery id. */
  VIGIL_WEBHOOK_LEDGER_TTL_SECONDS: z.coerce.number().int().min(1).max(30 * 86_400).default(86_400),
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
  workflowBundle: string | undefined;
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
    workflowBundle: c.VIGIL_WORKFLOW_BUNDLE,
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
  };
}
