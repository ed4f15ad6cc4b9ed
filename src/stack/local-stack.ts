import path from 'node:path';
import type { VigilConfig } from '../config';
import { createS3Client } from '../evidence/s3-client';
import type { Logger } from '../logging/logger';
import { ensureEvidenceBucket, startSeaweed, type SeaweedServer } from './seaweed';
import { startTemporal, type TemporalServer } from './temporal';
import { defaultBinDir } from './tools';

export interface LocalStack {
  temporal: TemporalServer;
  seaweed: SeaweedServer;
  stop(): Promise<void>;
}

/**
 * The developer stack behind `vigil stack`: both servers on the ports the configuration points
 * at, state under config.stateDir (kept across restarts), evidence bucket ready.
 */
export async function startLocalStack(
  config: VigilConfig,
  log: Logger,
  opts: { headless?: boolean; uiPort?: number; binDir?: string } = {},
): Promise<LocalStack> {
  const binDir = opts.binDir ?? defaultBinDir();
  const stateDir = path.resolve(config.stateDir);
  const temporalPort = portOf(`tcp://${config.temporal.address}`, 'VIGIL_TEMPORAL_ADDRESS');
  const s3Port = portOf(config.s3.endpoint, 'VIGIL_S3_ENDPOINT');

  const temporal = await startTemporal({
    binDir,
    stateDir: path.join(stateDir, 'temporal'),
    port: temporalPort,
    uiPort: opts.uiPort,
    headless: opts.headless,
    log,
  });
  let seaweed: SeaweedServer;
  try {
    seaweed = await startSeaweed({ binDir, stateDir: path.join(stateDir, 's3'), s3Port, app: config.s3, log });
  } catch (err) {
    await temporal.stop();
    throw err;
  }
  const admin = createS3Client({ ...config.s3, ...seaweed.admin });
  try {
    await ensureEvidenceBucket(admin, config.s3.bucket, log);
  } catch (err) {
    await Promise.all([temporal.stop(), seaweed.stop()]);
    throw err;
  } finally {
    admin.destroy();
  }
  return { temporal, seaweed, stop: async () => void (await Promise.all([temporal.stop(), seaweed.stop()])) };
}

function portOf(url: string, setting: string): number {
  const port = Number(new URL(url).port);
  if (!Number.isInteger(port) || port <= 0) throw new Error(`${setting} must name an explicit port: ${url}`);
  return port;
}
