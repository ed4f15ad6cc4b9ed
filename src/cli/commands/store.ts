/** The evidence store as the CLI reaches it: the worker's configuration (VIGIL_S3_*, VIGIL_RETENTION_*). */
import type { S3Client } from '@aws-sdk/client-s3';
import { createS3Client, EvidenceStore } from '../../evidence';
import { cliConfig } from '../context';

export interface CliStore {
  s3: S3Client;
  evidence: EvidenceStore;
  endpoint: string;
  bucket: string;
}

/** The store from the environment; a configuration problem is a usage error (exit 2). */
export function storeFrom(env: NodeJS.ProcessEnv): CliStore {
  const config = cliConfig(env);
  const s3 = createS3Client(config.s3);
  return {
    s3,
    evidence: new EvidenceStore({ s3, bucket: config.s3.bucket, retention: config.retention }),
    endpoint: config.s3.endpoint,
    bucket: config.s3.bucket,
  };
}

/** Bytes as a short human size. */
export function humanBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
