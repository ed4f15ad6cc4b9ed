import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createS3Client } from '../evidence/s3-client';
import { createLogger, type Logger } from '../logging/logger';
import { freePorts } from './ports';
import { ensureEvidenceBucket, startSeaweed, type S3Credentials, type SeaweedServer } from './seaweed';
import { startTemporal, type TemporalServer } from './temporal';
import { defaultBinDir } from './tools';

export interface TestStack {
  stateDir: string;
  /** Undefined when started with `temporal: false`. */
  temporalAddress: string | undefined;
  s3Endpoint: string | undefined;
  bucket: string;
  /** The application's writing (worker) identity. */
  credentials: S3Credentials;
  /** The read-only identity (API, auditors). */
  readerCredentials: S3Credentials;
  /** Admin identity, for tests that must prove what only an admin can do. */
  adminCredentials: S3Credentials | undefined;
  /** The running SeaweedFS (its locked internal ports, state dir), for tests that try to get around S3. */
  seaweed: SeaweedServer | undefined;
  /** Ready to pass to createS3Client / EvidenceStore. */
  s3Config: { endpoint: string; region: string; forcePathStyle: boolean; bucket: string } & S3Credentials;
  stop(): Promise<void>;
}

export interface TestStackOptions {
  temporal?: boolean;
  seaweed?: boolean;
  bucket?: string;
  keepState?: boolean;
  log?: Logger;
}

/**
 * Free ports are only free until someone binds them: the Temporal dev server, starting beside SeaweedFS, binds
 * ports of its own choosing and can take one picked for SeaweedFS. A start that dies on "address already in
 * use" is tried again on new ports in a fresh state dir (a fresh state dir: the master's raft state records its ports).
 */
async function startSeaweedRetrying(opts: Parameters<typeof startSeaweed>[0], attempts = 3): Promise<SeaweedServer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startSeaweed(opts);
    } catch (e) {
      if (attempt >= attempts || !/address already in use/.test(String((e as Error).message))) throw e;
      opts.log?.warn({ attempt, err: e }, 'seaweedfs lost a port race; retrying on new ports');
      const [s3Port] = (await freePorts(1)) as [number];
      opts = { ...opts, s3Port, stateDir: `${opts.stateDir}-retry${attempt}` };
    }
  }
}

/** Fresh servers on free ports in a temp dir, for one test file. Both start in parallel. */
export async function startTestStack(opts: TestStackOptions = {}): Promise<TestStack> {
  const log = opts.log ?? createLogger('test-stack', 'warn');
  const binDir = defaultBinDir();
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-stack-'));
  const bucket = opts.bucket ?? 'vigil-evidence-test';
  const credentials = { accessKeyId: 'vigil', secretAccessKey: 'vigil-test-secret' };
  const readerCredentials = { accessKeyId: 'vigil-reader', secretAccessKey: 'vigil-reader-test-secret' };
  const [temporalPort, s3Port] = (await freePorts(2)) as [number, number];

  const started: Array<TemporalServer | SeaweedServer> = [];
  const stop = async (): Promise<void> => {
    await Promise.all(started.map((s) => s.stop()));
    if (!opts.keepState) fs.rmSync(stateDir, { recursive: true, force: true });
  };

  try {
    const track = <T extends TemporalServer | SeaweedServer>(server: T): T => {
      started.push(server);
      return server;
    };
    // allSettled, not all: if one server fails, the other must have finished starting (and be
    // tracked) before stop() runs, or it would be left behind.
    const results = await Promise.allSettled([
      opts.temporal === false
        ? undefined
        : startTemporal({
            binDir,
            stateDir: path.join(stateDir, 'temporal'),
            port: temporalPort,
            headless: true,
            log,
          }).then(track),
      opts.seaweed === false
        ? undefined
        : startSeaweedRetrying({
            binDir,
            stateDir: path.join(stateDir, 's3'),
            s3Port,
            app: credentials,
            reader: readerCredentials,
            log,
          }).then(track),
    ] as const);
    for (const r of results) if (r.status === 'rejected') throw r.reason;
    const temporal = results[0].status === 'fulfilled' ? results[0].value : undefined;
    const seaweed = results[1].status === 'fulfilled' ? results[1].value : undefined;
    if (seaweed) {
      const admin = createS3Client({
        endpoint: seaweed.endpoint,
        region: 'us-east-1',
        forcePathStyle: true,
        ...seaweed.admin,
      });
      try {
        await ensureEvidenceBucket(admin, bucket, log);
      } finally {
        admin.destroy();
      }
    }
    const endpoint = seaweed?.endpoint ?? `http://127.0.0.1:${s3Port}`; // without SeaweedFS: the port it would have had
    return {
      stateDir,
      temporalAddress: temporal?.address,
      s3Endpoint: seaweed?.endpoint,
      bucket,
      credentials,
      readerCredentials,
      adminCredentials: seaweed?.admin,
      seaweed,
      s3Config: { endpoint, region: 'us-east-1', forcePathStyle: true, bucket, ...credentials },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
