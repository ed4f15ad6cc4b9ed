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
  };
}
