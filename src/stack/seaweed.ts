import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import {
  CreateBucketCommand,
  GetObjectCommand,
  GetObjectLockConfigurationCommand,
  ListBucketsCommand,
  PutBucketPolicyCommand,
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

/**
 * The flags that put SeaweedFS's internal listeners (master, volume, filer, the S3 gateway's gRPC) on `ports`: the
 * local stack's `weed mini`, and the compose service's `weed server` when a test runs it on free ports. The admin
 * server is `weed mini`'s alone, so its ports are not here.
 */
export function internalPortFlags(ports: Omit<SeaweedInternalPorts, 'admin' | 'adminGrpc'>): string[] {
  return [
    `-master.port=${ports.master}`,
    `-master.port.grpc=${ports.masterGrpc}`,
    `-volume.port=${ports.volume}`,
    `-volume.port.grpc=${ports.volumeGrpc}`,
    `-filer.port=${ports.filer}`,
    `-filer.port.grpc=${ports.filerGrpc}`,
    `-s3.port.grpc=${ports.s3Grpc}`,
  ];
}

export interface StartSeaweedOptions {
  binDir: string;
  stateDir: string;
  s3Port: number;
  /** The application's writing identity (config.s3 credentials of the worker). */
  app: S3Credentials;
  /** The read-only identity (API, auditors); a random one per state dir when not given. */
  reader?: S3Credentials;
  log: Logger;
  readyTimeoutMs?: number;
}

export interface SeaweedServer {
  endpoint: string;
  /** Admin identity: for bucket bootstrap only, never handed to the application. */
  admin: S3Credentials;
  /** Read-only identity: lists and reads objects and their versions, nothing else. */
  reader: S3Credentials;
  /** The internal listeners (all locked: see startSeaweed), for tests that prove they refuse. */
  internal: SeaweedInternalPorts;
  /** The CA the internal gRPC listeners require client certificates from (the application never has one). */
  grpcCaFile: string;
  process: ManagedProcess;
  stop(): Promise<void>;
}

/**
 * The worker creates and reads objects. SeaweedFS's identity actions are coarse: `Write` also
 * covers overwrites and delete markers, and a PUT carrying Object Lock headers needs
 * `PutObjectRetention`. The bucket policy (EVIDENCE_BUCKET_POLICY) takes deletes away from every
 * identity; a COMPLIANCE lock cannot be shortened or removed by anyone; overwrites (a new latest
 * version over a locked one) cannot be refused by SeaweedFS, so readers read by recorded version and
 * the audit reports such a key as hidden. No Tagging, no legal hold changes, not Admin.
 */
export const WORKER_ACTIONS = [
  'Read',
  'Write',
  'List',
  'GetObjectRetention',
  'PutObjectRetention',
  'GetObjectLegalHold',
  'GetBucketObjectLockConfiguration',
];
/** The API and auditors: read and list (versions included), nothing else. */
export const READER_ACTIONS = [
  'Read',
  'List',
  'GetObjectRetention',
  'GetObjectLegalHold',
  'GetBucketObjectLockConfiguration',
];

export async function startSeaweed(opts: StartSeaweedOptions): Promise<SeaweedServer> {
  const dataDir = path.join(opts.stateDir, 'seaweed');
  fs.mkdirSync(dataDir, { recursive: true });
  const ports = await internalPorts(opts.stateDir);
  const admin = ensureCredentials(opts.stateDir, 'seaweed-admin.json', 'vigil-admin');
  const reader = opts.reader ?? ensureCredentials(opts.stateDir, 'seaweed-reader.json', 'vigil-reader');
  const security = ensureSecurity(opts.stateDir);

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
        actions: WORKER_ACTIONS,
      },
      {
        name: 'vigil-reader',
        credentials: [{ accessKey: reader.accessKeyId, secretKey: reader.secretAccessKey }],
        actions: READER_ACTIONS,
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
    ...internalPortFlags(ports),
    `-s3.port=${opts.s3Port}`,
    `-s3.config=${s3ConfigFile}`,
    // Only the S3 API enforces Object Lock: switch off every other way in we do not need.
    '-s3.iam=false',
    '-s3.port.iceberg=0',
    '-s3.port.lance=0',
    '-webdav=false',
    '-admin.ui=false',
    '-filer.exposeDirectoryData=false',
    '-filer.disableDirListing',
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
    env: security.env,
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
  return {
    endpoint,
    admin,
    reader,
    internal: ports,
    grpcCaFile: security.caFile,
    process: proc,
    stop: () => proc.stop(),
  };
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

/** A random secret per state dir, stored beside the data (mode 0600), never in config. */
function ensureCredentials(stateDir: string, name: string, accessKeyId: string): S3Credentials {
  const file = path.join(stateDir, name);
  if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, 'utf8')) as S3Credentials;
  const creds = { accessKeyId, secretAccessKey: crypto.randomBytes(24).toString('hex') };
  fs.writeFileSync(file, JSON.stringify(creds), { mode: 0o600 });
  return creds;
}

/**
 * SeaweedFS's own security settings, given to the server process only (as WEED_* environment,
 * which its security.toml keys map to). Object Lock is enforced by the S3 gateway alone, so every
 * other way in is closed:
 * - filer HTTP: reads and writes need a JWT signed with keys only the server has ([jwt.filer_signing],
 *   [jwt.filer_signing.read]); without them the filer rewrites locked versions in place (seen);
 * - volume HTTP: reads and writes need a master-issued JWT ([jwt.signing], [jwt.signing.read]);
 * - master and volume HTTP: HTTPS that requires a client certificate from the private CA below
 *   ([https.master], [https.volume]; the server's own components use it through [https.client]): without
 *   it master /col/delete dropped a locked bucket's data (seen), and /dir/assign, /vol/grow answered anyone;
 * - gRPC of master, volume, filer, S3 and admin (an unauthenticated `weed shell` could delete any
 *   entry): mutual TLS with a CA whose key and client certificate stay in the state dir.
 * Made once per state dir and reused (restarts keep working); openssl makes the certificates.
 */
function ensureSecurity(stateDir: string): { env: Record<string, string>; caFile: string } {
  const dir = path.join(stateDir, 'security');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const keysFile = path.join(dir, 'jwt-keys.json');
  if (!fs.existsSync(keysFile)) {
    const k = (): string => crypto.randomBytes(32).toString('hex');
    fs.writeFileSync(keysFile, JSON.stringify({ volumeWrite: k(), volumeRead: k(), filerWrite: k(), filerRead: k() }), {
      mode: 0o600,
    });
  }
  const keys = JSON.parse(fs.readFileSync(keysFile, 'utf8')) as Record<
    'volumeWrite' | 'volumeRead' | 'filerWrite' | 'filerRead',
    string
  >;
  const ca = path.join(dir, 'ca.crt');
  const cert = path.join(dir, 'node.crt');
  const key = path.join(dir, 'node.key');
  if (!fs.existsSync(cert)) makeGrpcPki(dir);
  const env: Record<string, string> = {
    WEED_JWT_SIGNING_KEY: keys.volumeWrite,
    WEED_JWT_SIGNING_READ_KEY: keys.volumeRead,
    WEED_JWT_FILER_SIGNING_KEY: keys.filerWrite,
    WEED_JWT_FILER_SIGNING_READ_KEY: keys.filerRead,
    WEED_ACCESS_UI: 'false',
    WEED_GRPC_CA: ca,
  };
  for (const c of ['MASTER', 'VOLUME', 'FILER', 'S3', 'ADMIN', 'CLIENT']) {
    env[`WEED_GRPC_${c}_CERT`] = cert;
    env[`WEED_GRPC_${c}_KEY`] = key;
  }
  // HTTPS with client certificates on master and volume HTTP; [https.client] makes the server's own components
  // (filer, S3 gateway) talk to them with the certificate.
  for (const c of ['MASTER', 'VOLUME', 'CLIENT']) {
    env[`WEED_HTTPS_${c}_CERT`] = cert;
    env[`WEED_HTTPS_${c}_KEY`] = key;
    env[`WEED_HTTPS_${c}_CA`] = ca;
  }
  env.WEED_HTTPS_CLIENT_ENABLED = 'true';
  return { env, caFile: ca };
}

/** A private CA and one certificate (server and client use) for SeaweedFS's internal gRPC. */
function makeGrpcPki(dir: string): void {
  const run = (args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  try {
    run([
      'req',
      '-x509',
      ...ec,
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-days',
      '3650',
      '-subj',
      '/CN=vigil-seaweedfs-ca',
    ]);
    run(['req', ...ec, '-keyout', 'node.key', '-out', 'node.csr', '-subj', '/CN=seaweedfs']);
    fs.writeFileSync(
      path.join(dir, 'ext.cnf'),
      'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n',
    );
    run([
      'x509',
      '-req',
      '-in',
      'node.csr',
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      'node.crt.tmp',
      '-days',
      '3650',
      '-extfile',
      'ext.cnf',
    ]);
  } catch (err) {
    throw new Error(
      `cannot make SeaweedFS's gRPC certificates with openssl (is it installed?): ${(err as Error).message}`,
      { cause: err },
    );
  }
  for (const f of ['ca.key', 'node.key']) fs.chmodSync(path.join(dir, f), 0o600);
  fs.renameSync(path.join(dir, 'node.crt.tmp'), path.join(dir, 'node.crt')); // last: its presence means "done"
}

/**
 * Deletes are refused to every identity, admin included (S3 has no create-only permission; this
 * is the nearest): no delete markers, no version deletes, no switching versioning or the bucket's
 * lock configuration. SeaweedFS 4.48 evaluates it for DeleteObject; its multi-object delete still
 * lets an Admin identity through (seen), which is one reason the admin secret never leaves the
 * state dir. The same document is applied by infra/compose-setup.cjs.
 */
export function evidenceBucketPolicy(bucket: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'EvidenceIsNeverDeleted',
        Effect: 'Deny',
        Principal: '*',
        Action: [
          's3:DeleteObject',
          's3:DeleteObjectVersion',
          's3:BypassGovernanceRetention',
          's3:PutBucketVersioning',
          's3:PutBucketObjectLockConfiguration',
        ],
        Resource: [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`],
      },
    ],
  });
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
  await adminS3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: evidenceBucketPolicy(bucket) }));
}
