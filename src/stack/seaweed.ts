import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  CreateBucketCommand,
  GetObjectCommand,
  GetObjectLockConfigurationCommand,
  ListBucketsCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { Logger } from '../logging/logger';
import { createS3Client } from '../evidence/s3-client';
import { freePorts } from './ports';
import { spawnManaged, waitUntilReady, type ManagedProcess } from './process';

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** Every listener weed mini opens besides S3's HTTP port; all are bound to loopback. */
export interface SeaweedInternalPorts {
  master: number;
  masterGrpc: number;
  volume: number;
  volumeGrpc: number;
  filer: number;
  filerGrpc: number;
  s3Grpc: number;
  admin: number;
  adminGrpc: number;
}

export interface StartSeaweedOptions {
  binDir: string;
  stateDir: string;
  s3Port: number;
  /** The application's non-admin identity (config.s3 credentials). */
  app: S3Credentials;
  log: Logger;
  readyTimeoutMs?: number;
}

export interface SeaweedServer {
  endpoint: string;
  /** Admin identity: for bucket bootstrap only, never handed to the application. */
  admin: S3Credentials;
  process: ManagedProcess;
  stop(): Promise<void>;
}

/**
 * The application may read, write, list, tag and set/read retention, but is not Admin and has
 * no BypassGovernanceRetention: it cannot shorten or remove a lock it (or anyone) placed.
 */
const APP_ACTIONS = [
  'Read',
  'Write',
  'List',
  'Tagging',
  'GetObjectRetention',
  'PutObjectRetention',
  'GetObjectLegalHold',
  'GetBucketObjectLockConfiguration',
];

export async function startSeaweed(opts: StartSeaweedOptions): Promise<SeaweedServer> {
  const dataDir = path.join(opts.stateDir, 'seaweed');
  fs.mkdirSync(dataDir, { recursive: true });
  const ports = await internalPorts(opts.stateDir);
  const admin = ensureAdminCredentials(opts.stateDir);

  const s3ConfigFile = path.join(opts.stateDir, 'seaweed-s3.json');
  const s3Config = {
    identities: [
      {
        name: 'admin',
        credentials: [{ accessKey: admin.accessKeyId, secretKey: admin.secretAccessKey }],
        actions: ['Admin', 'Read', 'Write', 'List', 'Tagging'],
      },
      {
        name: 'vigil',
        credentials: [{ accessKey: opts.app.accessKeyId, secretKey: opts.app.secretAccessKey }],
        actions: APP_ACTIONS,
      },
    ],
  };
  fs.writeFileSync(s3ConfigFile, JSON.stringify(s3Config, null, 2), { mode: 0o600 });

  const args = [
    'mini',
    `-dir=${dataDir}`,
    '-ip=127.0.0.1', // advertised address; the default is a non-loopback guess
    '-ip.bind=127.0.0.1',
    '-master.telemetry=false',
    `-master.port=${ports.master}`,
    `-master.port.grpc=${ports.masterGrpc}`,
    `-volume.port=${ports.volume}`,
    `-volume.port.grpc=${ports.volumeGrpc}`,
    `-filer.port=${ports.filer}`,
    `-filer.port.grpc=${ports.filerGrpc}`,
    `-s3.port=${opts.s3Port}`,
    `-s3.port.grpc=${ports.s3Grpc}`,
    `-s3.config=${s3ConfigFile}`,
    // Only the S3 API enforces Object Lock: switch off every other way in we do not need.
    '-s3.iam=false',
    '-s3.port.iceberg=0',
    '-s3.port.lance=0',
    '-webdav=false',
    '-admin.ui=false',
    '-volume.preStopSeconds=0', // the pause only helps a multi-node cluster drain; saves 1 s per stop
    `-admin.port=${ports.admin}`,
    `-admin.port.grpc=${ports.adminGrpc}`,
  ];
  // Default unix sockets live in /tmp keyed by port and would clash between stacks.
  const filerSock = path.join(opts.stateDir, 'filer.sock');
  const s3Sock = path.join(opts.stateDir, 's3.sock');
  if (s3Sock.length < 100) args.push(`-filer.localSocket=${filerSock}`, `-s3.localSocket=${s3Sock}`);

  const started = Date.now();
  const proc = spawnManaged({
    name: 'seaweedfs',
    command: path.join(opts.binDir, 'weed'),
    args,
    logFile: path.join(opts.stateDir, 'seaweed.log'),
    log: opts.log,
  });
  const endpoint = `http://127.0.0.1:${opts.s3Port}`;
  const adminClient = createS3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, ...admin });
  try {
    // An authenticated ListBuckets answering means the gateway, filer and identities are up; a probe
    // object written and read back means a volume serves data too (after a restart the volume server
    // registers with the master a moment after the gateway answers, and reads fail until it has).
    await waitUntilReady(
      proc,
      async () => {
        await adminClient.send(new ListBucketsCommand({}));
        await adminClient.send(new CreateBucketCommand({ Bucket: READINESS_BUCKET })).catch((e: Error) => {
          if (e.name !== 'BucketAlreadyOwnedByYou' && e.name !== 'BucketAlreadyExists') throw e;
        });
        const probe = `probe-${Date.now()}`;
        await adminClient.send(new PutObjectCommand({ Bucket: READINESS_BUCKET, Key: 'probe', Body: probe }));
        const got = await adminClient.send(new GetObjectCommand({ Bucket: READINESS_BUCKET, Key: 'probe' }));
        return (await got.Body!.transformToString()) === probe;
      },
      opts.readyTimeoutMs ?? 60_000,
      100,
    );
  } finally {
    adminClient.destroy();
  }
  opts.log.info({ endpoint, pid: proc.pid, startMs: Date.now() - started }, 'seaweedfs ready');
  return { endpoint, admin, process: proc, stop: () => proc.stop() };
}

/** A scratch bucket (no Object Lock) that only the readiness probe uses. */
const READINESS_BUCKET = 'vigil-readiness';

/**
 * Internal ports are chosen once per state dir and reused: the master's persisted raft state
 * records its own address, so a restart on different ports is asking for trouble.
 */
async function internalPorts(stateDir: string): Promise<SeaweedInternalPorts> {
  const file = path.join(stateDir, 'seaweed-ports.json');
  if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, 'utf8')) as SeaweedInternalPorts;
  const p = await freePorts(9);
  const ports: SeaweedInternalPorts = {
    master: p[0]!,
    masterGrpc: p[1]!,
    volume: p[2]!,
    volumeGrpc: p[3]!,
    filer: p[4]!,
    filerGrpc: p[5]!,
    s3Grpc: p[6]!,
    admin: p[7]!,
    adminGrpc: p[8]!,
  };
  fs.writeFileSync(file, JSON.stringify(ports, null, 2));
  return ports;
}

/** A random admin secret per state dir, stored beside the data (mode 0600), never in config. */
function ensureAdminCredentials(stateDir: string): S3Credentials {
  const file = path.join(stateDir, 'seaweed-admin.json');
  if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, 'utf8')) as S3Credentials;
  const creds = { accessKeyId: 'vigil-admin', secretAccessKey: crypto.randomBytes(24).toString('hex') };
  fs.writeFileSync(file, JSON.stringify(creds), { mode: 0o600 });
  return creds;
}

export class BucketSetupError extends Error {
  override name = 'BucketSetupError';
}

/**
 * Create the evidence bucket with Object Lock (which also turns on versioning). Object Lock can
 * only be enabled at creation, so an existing bucket without it is a hard error, not a warning.
 */
export async function ensureEvidenceBucket(adminS3: S3Client, bucket: string, log?: Logger): Promise<void> {
  try {
    await adminS3.send(new CreateBucketCommand({ Bucket: bucket, ObjectLockEnabledForBucket: true }));
    log?.info({ bucket }, 'evidence bucket created');
  } catch (err) {
    const name = (err as { name?: string }).name;
    if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw err;
  }
  let enabled: string | undefined;
  try {
    const res = await adminS3.send(new GetObjectLockConfigurationCommand({ Bucket: bucket }));
    enabled = res.ObjectLockConfiguration?.ObjectLockEnabled;
  } catch (err) {
    const name = (err as { name?: string }).name;
    if (name !== 'ObjectLockConfigurationNotFoundError') throw err;
  }
  if (enabled !== 'Enabled') {
    throw new BucketSetupError(
      `bucket ${bucket} exists without Object Lock; evidence cannot be made immutable there. ` +
        'Object Lock can only be enabled at creation: use a new bucket name or delete this bucket.',
    );
  }
}
