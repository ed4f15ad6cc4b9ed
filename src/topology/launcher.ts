/**
 * Starts the production topology (./spec.ts TOPOLOGY) on loopback: PostgreSQL, the Temporal server on it,
 * SeaweedFS, two workers, two API replicas behind nginx and two gateways, each as our supervised child with its
 * log and state under one state dir. Replicas can be killed and started again (the failover tests do).
 */
import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { loadOrCreateDevKey } from '../attestation';
import { createS3Client } from '../evidence';
import type { Logger } from '../logging/logger';
import { demoModelsYaml, ensureSecretFile } from '../stack/demo-gateway';
import { startPostgres, type PostgresServer } from '../stack/postgres';
import { freePorts } from '../stack/ports';
import type { ManagedProcess } from '../stack/process';
import { ensureEvidenceBucket, startSeaweed, type SeaweedServer } from '../stack/seaweed';
import { REPO_ROOT, startNodeService, type Readiness } from '../stack/supervisor';
import { defaultBinDir } from '../stack/tools';
import { startNginx, type RunningNginx } from './nginx';
import { DATABASES, EVIDENCE_BUCKET, resolveEnv, TOPOLOGY, type EnvContext, type ServiceName } from './spec';
import { startTemporalServer, type RunningTemporalServer, type TemporalServerPorts } from './temporal-server';

/** The replicated Vigil services. */
export type NodeServiceName = Extract<ServiceName, 'worker' | 'api' | 'gateway'>;

/** One replica of a Node service: its process (replaced on restart), env, and (API, gateway) URL. */
export interface Replica {
  readonly service: NodeServiceName;
  /** `<service>-<n>`, n from 1. */
  readonly id: string;
  readonly env: Readonly<Record<string, string>>;
  readonly url: string | undefined;
  process: ManagedProcess;
  /** Start it again (same ports, env and state) after it was killed or stopped. */
  restart(): Promise<void>;
}

export interface Topology {
  stateDir: string;
  temporal: RunningTemporalServer;
  seaweed: SeaweedServer;
  postgres: PostgresServer;
  nginx: RunningNginx;
  /** The public API URL (nginx). */
  apiUrl: string;
  apiToken: string;
  replicas: Record<NodeServiceName, Replica[]>;
  /** S3 as the worker writes it (and the bucket), for tests that seed and read evidence. */
  s3Config: {
    endpoint: string;
    region: string;
    forcePathStyle: boolean;
    bucket: string;
    accessKeyId: string;
    secretAccessKey: string;
  };
  /** Environment for `vigil` commands against this topology (API through nginx, Temporal, S3 reader). */
  cliEnv: Record<string, string>;
  /** Milliseconds each start phase took. */
  timings: Record<string, number>;
  stop(): Promise<void>;
}

export interface TopologyOptions {
  stateDir: string;
  log: Logger;
  /** Users file for the API replicas; default config/users.example.yaml (the demo's published accounts). */
  usersFile?: string;
  /** Replica counts instead of the spec's (e.g. a benchmark with more workers). */
  replicas?: Partial<Record<NodeServiceName, number>>;
  /**
   * Settings over the spec's for every replica of a service (e.g. workers on gateway telemetry for one test, or
   * NODE_OPTIONS=--cpu-prof for a profiled benchmark). Names the spec does not have are added.
   */
  env?: Partial<Record<NodeServiceName, Record<string, string>>>;
}

/** Start everything in dependency order; on any failure, stop what was started and rethrow. */
export async function startTopology(opts: TopologyOptions): Promise<Topology> {
  const stopStack: Array<() => Promise<unknown>> = [];
  const stopAll = async (): Promise<void> => {
    for (const s of stopStack.splice(0).reverse()) await s().catch(() => undefined);
  };
  try {
    return await start(opts, stopStack, stopAll);
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** What every start step shares: where state goes, what to stop on failure, how long each phase took. */
interface StartContext {
  log: Logger;
  stateDir: string;
  /** A directory under the state dir (created). */
  dir(...p: string[]): string;
  /** Record the time since `since` as phase `name`. */
  lap(name: string, since: number): void;
  stopStack: Array<() => Promise<unknown>>;
}

async function start(
  opts: TopologyOptions,
  stopStack: Array<() => Promise<unknown>>,
  stopAll: () => Promise<void>,
): Promise<Topology> {
  const stateDir = path.resolve(opts.stateDir);
  fs.mkdirSync(stateDir, { recursive: true });
  const timings: Record<string, number> = {};
  const t0 = Date.now();
  const ctx: StartContext = {
    log: opts.log,
    stateDir,
    dir: (...p) => {
      const d = path.join(stateDir, ...p);
      fs.mkdirSync(d, { recursive: true });
      return d;
    },
    lap: (name, since) => (timings[name] = Date.now() - since),
    stopStack,
  };
  const secret = (name: string) => ensureSecretFile(path.join(ctx.dir('secrets'), name), undefined);
  const secrets: Record<string, string> = {
    'api-token': secret('api-token'),
    's3-writer-id': 'vigil',
    's3-writer-secret': secret('s3-writer-secret'),
    'gateway-control-token': secret('gateway-control-token'),
    'gateway-case-id-key': secret('gateway-case-id-key'),
  };
  const writer = { accessKeyId: 'vigil', secretAccessKey: secrets['s3-writer-secret']! };
  const { pg, seaweed, bundleFile, temporal } = await startServers(ctx, writer);
  secrets['s3-reader-id'] = seaweed.reader.accessKeyId;
  secrets['s3-reader-secret'] = seaweed.reader.secretAccessKey;

  // The system signing key: made once here, so replicas starting together do not race to create it.
  const keysDir = ctx.dir('keys');
  loadOrCreateDevKey(keysDir);
  const files: Record<string, string> = {
    users: opts.usersFile ?? path.join(REPO_ROOT, 'config', 'users.example.yaml'),
    'gateway-models': path.join(ctx.dir('gateway'), 'models.yaml'),
    'workflow-bundle': bundleFile,
  };
  fs.writeFileSync(files['gateway-models']!, demoModelsYaml());

  const counts: Record<NodeServiceName, number> = {
    worker: opts.replicas?.worker ?? TOPOLOGY.worker.replicas,
    api: opts.replicas?.api ?? TOPOLOGY.api.replicas,
    gateway: opts.replicas?.gateway ?? TOPOLOGY.gateway.replicas,
  };
  const replicaPorts: Record<NodeServiceName, Array<Record<string, number>>> = { worker: [], api: [], gateway: [] };
  for (const s of ['worker', 'api', 'gateway'] as const)
    for (let i = 0; i < counts[s]; i++) replicaPorts[s].push(await portsFor(s));
  const [nginxPort] = (await freePorts(1)) as [number];

  const lookup = (what: string, table: Record<string, string>, name: string): string => {
    const v = table[name];
    if (v === undefined) throw new Error(`topology: no ${what} ${name}`);
    return v;
  };
  const envContext = (service: NodeServiceName, i: number): EnvContext => ({
    address: (svc, port) => {
      if (svc === 'temporal') return temporal.address;
      if (svc === 'seaweedfs') return new URL(seaweed.endpoint).host;
      if (svc === 'nginx') return `127.0.0.1:${nginxPort}`;
      if (svc === 'postgres') return `${pg.host}:${pg.port}`;
      return `127.0.0.1:${lookup('port', replicaPorts[svc][0] as unknown as Record<string, string>, port)}`;
    },
    selfPort: (port) => replicaPorts[service][i]![port]!,
    selfId: `${service}-${i + 1}`,
    bind: '127.0.0.1',
    db: (name) => pg.url(name),
    secret: (name) => lookup('secret', secrets, name),
    file: (name) => lookup('file', files, name),
    dir: (name) => ctx.dir(`${service}-${i + 1}`, name),
    sharedDir: (name) => (name === 'keys' ? keysDir : ctx.dir('shared', name)),
  });

  const replicas: Record<NodeServiceName, Replica[]> = { worker: [], api: [], gateway: [] };
  for (const service of ['worker', 'api', 'gateway'] as const) {
    const t = Date.now();
    replicas[service] = await Promise.all(
      Array.from({ length: counts[service] }, (_, i) =>
        startReplica(
          ctx,
          service,
          i,
          { ...resolveEnv(service, envContext(service, i)), ...opts.env?.[service] },
          replicaPorts[service][i]!.http,
        ),
      ),
    );
    ctx.lap(service, t);
  }

  const t = Date.now();
  const nginx = await startNginx({
    stateDir: ctx.dir('nginx'),
    listenPort: nginxPort,
    upstreams: replicas.api.map((r) => new URL(r.url!).host),
    log: ctx.log,
  });
  stopStack.push(() => nginx.stop());
  ctx.lap('nginx', t);
  ctx.lap('total', t0);
  ctx.log.info({ timings }, 'topology ready');

  return {
    stateDir,
    temporal,
    seaweed,
    postgres: pg,
    nginx,
    apiUrl: nginx.url,
    apiToken: secrets['api-token']!,
    replicas,
    s3Config: {
      endpoint: seaweed.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      bucket: EVIDENCE_BUCKET,
      ...writer,
    },
    cliEnv: cliEnvFor(nginx.url, secrets['api-token']!, temporal.address, seaweed, keysDir),
    timings,
    stop: stopAll,
  };
}

/** `vigil` against the topology: the API through nginx, Temporal, S3 as the read-only identity. */
function cliEnvFor(
  apiUrl: string,
  token: string,
  temporalAddress: string,
  seaweed: SeaweedServer,
  keysDir: string,
): Record<string, string> {
  return {
    VIGIL_API_URL: apiUrl,
    VIGIL_API_TOKEN: token,
    VIGIL_TEMPORAL_ADDRESS: temporalAddress,
    VIGIL_S3_ENDPOINT: seaweed.endpoint,
    VIGIL_S3_ACCESS_KEY_ID: seaweed.reader.accessKeyId,
    VIGIL_S3_SECRET_ACCESS_KEY: seaweed.reader.secretAccessKey,
    VIGIL_S3_BUCKET: EVIDENCE_BUCKET,
    VIGIL_SIGNING_KEY_DIR: keysDir,
    VIGIL_LOG_LEVEL: 'warn',
  };
}

/**
 * PostgreSQL, SeaweedFS (with the evidence bucket) and the workflow bundle in parallel (none needs another), then
 * the Temporal server on PostgreSQL.
 */
async function startServers(
  ctx: StartContext,
  writer: { accessKeyId: string; secretAccessKey: string },
): Promise<{ pg: PostgresServer; seaweed: SeaweedServer; bundleFile: string; temporal: RunningTemporalServer }> {
  const { log, stopStack } = ctx;
  const t = Date.now();
  const [pg, seaweed, bundleFile] = await Promise.all([
    startPostgres({ stateDir: ctx.dir('postgres'), log, databases: [DATABASES.state] }).then((p) => {
      stopStack.push(() => p.stop());
      ctx.lap('postgres', t);
      return p;
    }),
    startSeaweedOnFreePort(ctx.dir('seaweedfs'), writer, log).then(async (s) => {
      stopStack.push(() => s.stop());
      const admin = createS3Client({ endpoint: s.endpoint, region: 'us-east-1', forcePathStyle: true, ...s.admin });
      try {
        await ensureEvidenceBucket(admin, EVIDENCE_BUCKET, log);
      } finally {
        admin.destroy();
      }
      ctx.lap('seaweedfs', t);
      return s;
    }),
    workflowBundleFile(ctx.dir('bundle')).then((f) => {
      ctx.lap('workflowBundle', t);
      return f;
    }),
  ]);
  const t2 = Date.now();
  const temporal = await startTemporalRetrying(ctx, pg);
  stopStack.push(() => temporal.stop());
  ctx.lap('temporal', t2);
  return { pg, seaweed, bundleFile, temporal };
}

/** One replica of a Node service, started and ready; it can be started again after a kill. */
async function startReplica(
  ctx: StartContext,
  service: NodeServiceName,
  i: number,
  env: Record<string, string>,
  port: number | undefined,
): Promise<Replica> {
  const id = `${service}-${i + 1}`;
  const url = port === undefined ? undefined : `http://127.0.0.1:${port}`;
  const spec = TOPOLOGY[service];
  const { run } = spec;
  if (run.kind !== 'node') throw new Error(`topology: ${service} is not a Node service`);
  const ready: Readiness = spec.ready.kind === 'http' ? { kind: 'http', url: `${url}${spec.ready.path}` } : spec.ready;
  const launch = () =>
    startNodeService({
      name: id,
      script: run.script,
      logFile: path.join(ctx.dir('logs'), `${id}.log`),
      ready,
      readyTimeoutMs: 180_000,
      log: ctx.log,
      env,
    });
  const replica: Replica = {
    service,
    id,
    env,
    url,
    process: await launch(),
    async restart() {
      await replica.process.stop();
      // Same port (clients and nginx know it): if another test's server took it while this one was down, wait for
      // it to be free again rather than fail; ports are below the ephemeral range, so only a random pick races.
      for (let attempt = 1; ; attempt++) {
        try {
          replica.process = await launch();
          return;
        } catch (err) {
          if (attempt >= 5 || !/EADDRINUSE|address already in use/i.test(String(err))) throw err;
          await new Promise((r) => setTimeout(r, 2000));
        }
      }
    },
  };
  ctx.stopStack.push(() => replica.process.stop());
  return replica;
}

/** The Temporal server on fresh ports, tried again (on new ones) when a port was taken between pick and bind. */
async function startTemporalRetrying(ctx: StartContext, pg: PostgresServer): Promise<RunningTemporalServer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startTemporalServer({
        stateDir: ctx.dir('temporal'),
        pg: { host: pg.host, port: pg.port, user: pg.user, password: pg.password },
        ports: (await portsFor('temporal')) as unknown as TemporalServerPorts,
        cliBin: path.join(defaultBinDir(), 'temporal'),
        log: ctx.log,
      });
    } catch (err) {
      if (attempt >= 3 || !/address already in use/.test(String((err as Error).message))) throw err;
      ctx.log.warn({ attempt }, 'temporal server lost a port race; starting it on new ports');
    }
  }
}

/** A free loopback port for each of the service's named ports. */
async function portsFor(service: ServiceName): Promise<Record<string, number>> {
  const names = Object.keys(TOPOLOGY[service].ports);
  const ports = await freePorts(names.length);
  return Object.fromEntries(names.map((n, i) => [n, ports[i]!]));
}

/** SeaweedFS on a free S3 port; a start that lost a port race is tried again in a fresh dir (its raft state records ports). */
async function startSeaweedOnFreePort(
  stateDir: string,
  app: { accessKeyId: string; secretAccessKey: string },
  log: Logger,
): Promise<SeaweedServer> {
  for (let attempt = 1; ; attempt++) {
    const [s3Port] = (await freePorts(1)) as [number];
    const dir = attempt === 1 ? stateDir : `${stateDir}-retry${attempt}`;
    try {
      return await startSeaweed({ binDir: defaultBinDir(), stateDir: dir, s3Port, app, log, readyTimeoutMs: 120_000 });
    } catch (err) {
      if (attempt >= 3 || !/address already in use/.test(String((err as Error).message))) throw err;
      log.warn({ attempt }, 'seaweedfs lost a port race; retrying on new ports');
    }
  }
}

/** The workflow code bundled once for every worker (the same build id on both, and one webpack run instead of two). */
async function workflowBundleFile(dir: string): Promise<string> {
  const file = path.join(dir, 'workflow-bundle.js');
  const noop = () => undefined;
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('../workflows'),
    logger: { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: noop },
  });
  fs.writeFileSync(file, code);
  return file;
}
