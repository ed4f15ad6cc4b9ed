/**
 * The stack command: Temporal dev server (+ Web UI) and SeaweedFS S3, then the Vigil worker and
 * API as supervised children; with --demo, also seeds and narrates the demo release.
 *
 *   node --import tsx src/stack/main.ts [--demo] [--policy <file>] [--no-ui] [--ui-port <n>]
 *     [--models <models.yaml> --traffic <csv> --traffic-model <name> …]   (a user's own model: ./flags.ts)
 *
 * Two processes: this one (the "front") stays in the terminal's process group and forwards
 * Ctrl-C / SIGTERM to a supervisor that runs in its own process group. That way a Ctrl-C reaches
 * the supervisor only, and it can stop its children in reverse order (API, worker, then the
 * servers) instead of the terminal killing them all at once.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { DEMO_MODEL_NAME } from '../demo/artifacts';
import { loadConfig, type VigilConfig } from '../config';
import { Printer, repoRelative, runDemo } from '../demo/run-demo';
import { loadPolicyFile } from '../demo/seed';
import { createS3Client, EvidenceStore } from '../evidence';
import { S3RouteStore } from '../gateway/route-store';
import { csvReplay, featureColumns, readTrafficCsv, servedFeatures, type TrafficCsv } from './csv-traffic';
import { prepareStackGateway } from './demo-gateway';
import { startDemoTraffic } from './demo-traffic';
import { parseFlags, USAGE, type Flags } from './flags';
import { startLocalStack } from './local-stack';
import { createShutdown, installSignalHandlers, stackErrorMessage, type Running, type Shutdown } from './shutdown';
import {
  acquireStateLock,
  assertPortsFree,
  dialHost,
  displayPath,
  ensureApiToken,
  fileLogger,
  REPO_ROOT,
  StackStartError,
  startNodeService,
  type NodeServiceOptions,
  type PortClaim,
} from './supervisor';

const ROLE_ENV = 'VIGIL_STACK_SUPERVISOR';
const T0_ENV = 'VIGIL_STACK_T0';
const SETPRIV = '/usr/bin/setpriv';

// ---------------------------------------------------------------------------------------------
// Front: forward signals, mirror the supervisor's exit code.

function runFront(): void {
  const t0 = Date.now();
  const script = process.argv[1]!;
  const nodeArgs = [...process.execArgv, script, ...process.argv.slice(2)];
  // The supervisor must die with us even if we are SIGKILLed: setpriv sets PR_SET_PDEATHSIG and
  // execs node in place (same pid). It also polls our pid as a fallback.
  const [cmd, args] = fs.existsSync(SETPRIV)
    ? [SETPRIV, ['--pdeathsig', 'SIGTERM', '--', process.execPath, ...nodeArgs]]
    : [process.execPath, nodeArgs];
  const child = spawn(cmd, args, {
    stdio: ['ignore', 'inherit', 'inherit'],
    detached: true, // own process group: the terminal's Ctrl-C goes to us only
    env: { ...process.env, [ROLE_ENV]: String(process.pid), [T0_ENV]: String(t0) },
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      if (child.exitCode === null && child.signalCode === null) child.kill(sig === 'SIGHUP' ? 'SIGTERM' : sig);
    });
  }
  child.on('error', (err) => {
    process.stderr.write(`vigil stack: cannot start the supervisor: ${err.message}\n`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 + (signalNumber(signal) ?? 1) : 1)));
}

function signalNumber(sig: NodeJS.Signals): number | undefined {
  return ({ SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 } as Record<string, number>)[sig];
}

// ---------------------------------------------------------------------------------------------
// Supervisor: start everything in order, narrate, stop in reverse order.

async function runSupervisor(): Promise<void> {
  const t0 = Number(process.env[T0_ENV]) || Date.now();
  const out = new Printer(process.stdout, t0);
  const frontPid = Number(process.env[ROLE_ENV]);
  delete process.env[ROLE_ENV];
  delete process.env[T0_ENV];
  // The AWS SDK warns on Node 20 about a future release; it is noise in a terminal (and in the
  // worker's log, which inherits this).
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

  let flags: Flags;
  let config: VigilConfig;
  try {
    flags = parseFlags(process.argv.slice(2));
    config = loadConfig();
  } catch (err) {
    fail(err);
  }

  const stateDir = path.resolve(config.stateDir);
  const log = fileLogger(
    path.join(stateDir, 'logs', 'stack.log'),
    'vigil-stack',
    config.logLevel === 'silent' ? 'silent' : 'info',
  );
  const sd = createShutdown(out);
  installSignalHandlers(sd, out, frontPid);

  try {
    sd.holdLock(acquireStateLock(stateDir));
    const prepared = await prepare(config, flags, stateDir);
    const apiProbeUrl = await startServices(sd, out, config, flags, log, stateDir);
    if (apiProbeUrl === null) return;
    await startTraffic(sd, out, config, flags, log, prepared);
    printSummary(out, config, flags, sd.running, stateDir, prepared.token);
    if (flags.demo && prepared.policy) {
      await runDemoRelease(sd, out, config, flags, { ...prepared, policy: prepared.policy, apiProbeUrl });
      if (!sd.stopping()) out.event('the demo release is finished; the stack keeps running (Ctrl-C to stop).');
    } else {
      out.event('stack running (Ctrl-C to stop).');
    }
  } catch (err) {
    if (sd.stopping()) return; // a start-up step failing because we are shutting down is expected
    await sd.fatal(err);
  }
}

type ApiToken = ReturnType<typeof ensureApiToken>;
type Policy = Awaited<ReturnType<typeof loadPolicyFile>>;

/**
 * Before anything starts: the API token, the children's environment, free ports, and (with --demo) the
 * policy, so a bad policy fails before anything starts.
 */
async function prepare(
  config: VigilConfig,
  flags: Flags,
  stateDir: string,
): Promise<{
  token: ApiToken;
  demoUsers: boolean;
  policy: Policy | undefined;
  gatewayToken: string;
  trafficCsv: TrafficCsv | undefined;
}> {
  const token = ensureApiToken(stateDir, config.api.token);
  // A user's own model: their models file for the gateway, their CSV (read now: a bad one fails before anything starts).
  if (flags.models) process.env.VIGIL_GATEWAY_MODELS = flags.models;
  const t = flags.traffic;
  const trafficCsv = t
    ? readTrafficCsv(t.csv, {
        caseId: t.caseIdColumn,
        label: t.labelColumn,
        ...(t.siteColumn ? { site: t.siteColumn } : {}),
      })
    : undefined;
  // The inference gateway's models file and secrets; the worker measures from its telemetry by default.
  const gateway = prepareStackGateway(stateDir, process.env);
  Object.assign(process.env, gateway.env);
  // Children inherit our environment: an absolute state dir (they may resolve it elsewhere)
  // and the API token.
  process.env.VIGIL_STATE_DIR = stateDir;
  process.env.VIGIL_API_TOKEN = token.token;
  // Sign-off (web UI and `vigil approve`) needs accounts: the demo's published ones unless VIGIL_USERS_FILE is set.
  const demoUsers = flags.demo && !process.env.VIGIL_USERS_FILE;
  if (demoUsers) process.env.VIGIL_USERS_FILE = path.join(REPO_ROOT, 'config', 'users.example.yaml');

  const temporalPort = Number(new URL(`tcp://${config.temporal.address}`).port);
  const s3Port = Number(new URL(config.s3.endpoint).port);
  const claims: PortClaim[] = [
    {
      port: temporalPort,
      host: '127.0.0.1',
      what: `Temporal gRPC (VIGIL_TEMPORAL_ADDRESS=${config.temporal.address})`,
    },
    { port: s3Port, host: '127.0.0.1', what: `SeaweedFS S3 (VIGIL_S3_ENDPOINT=${config.s3.endpoint})` },
    { port: config.api.port, host: config.api.host, what: `Vigil API (VIGIL_API_PORT=${config.api.port})` },
    {
      port: config.gateway!.port,
      host: config.gateway!.host,
      what: `inference gateway (VIGIL_GATEWAY_PORT=${config.gateway!.port})`,
    },
  ];
  if (flags.ui)
    claims.push({ port: flags.uiPort, host: '127.0.0.1', what: `Temporal Web UI (--ui-port ${flags.uiPort})` });
  claims.push(...seaweedInternalClaims(stateDir));
  await assertPortsFree(claims);

  const policy = flags.demo ? await loadPolicyFile(flags.policy) : undefined;
  return { token, demoUsers, policy, gatewayToken: gateway.controlToken, trafficCsv };
}

/** The stack's Node services: what each is called in messages, its entry point, how long it may take to be ready. */
const NODE_SERVICES = {
  gateway: { label: 'inference gateway', script: 'src/gateway/main.ts', readyTimeoutMs: 60_000 },
  worker: { label: 'worker', script: 'src/workers/main.ts', readyTimeoutMs: 120_000 },
  api: { label: 'API', script: 'src/api/main.ts', readyTimeoutMs: 60_000 },
} as const;

/** Temporal + SeaweedFS, then the worker, then the API, each watched; null when a shutdown began meanwhile. */
async function startServices(
  sd: Shutdown,
  out: Printer,
  config: VigilConfig,
  flags: Flags,
  log: ReturnType<typeof fileLogger>,
  stateDir: string,
): Promise<string | null> {
  const logDir = path.join(stateDir, 'logs');
  const { running } = sd;
  out.event(
    `starting Temporal dev server${flags.ui ? ' + Web UI' : ''} and SeaweedFS (state in ${displayPath(stateDir)}) …`,
  );
  running.stack = await startLocalStack(config, log, {
    headless: !flags.ui,
    uiPort: flags.ui ? flags.uiPort : undefined,
  });
  if (sd.stopping()) return null;
  out.event(
    `  ✔ Temporal at ${running.stack.temporal.address}, S3 at ${running.stack.seaweed.endpoint} (bucket ${config.s3.bucket}, Object Lock on)`,
  );
  sd.watchForDeath(running.stack.temporal.process, 'Temporal dev server');
  sd.watchForDeath(running.stack.seaweed.process, 'SeaweedFS');

  /** One Node service: announced, started (kept in `running` so a shutdown stops it), reported, watched. */
  const child = async (
    key: keyof typeof NODE_SERVICES,
    ready: NodeServiceOptions['ready'],
    started: (pid: number | undefined) => string,
    env?: Record<string, string>,
  ): Promise<boolean> => {
    const { label, script, readyTimeoutMs } = NODE_SERVICES[key];
    out.event(`starting the ${label} …`);
    const logFile = path.join(logDir, `${key}.log`);
    const service = await startNodeService({ name: key, script, logFile, ready, readyTimeoutMs, log, env });
    running[key] = service;
    if (sd.stopping()) return false;
    out.event(`  ✔ ${started(service.pid)}`);
    sd.watchForDeath(service, label);
    return true;
  };
  const logLine = (msg: string) => ({ kind: 'log-line', text: `"msg":"${msg}"` }) as const;

  if (!(await child('gateway', logLine('gateway listening'), (pid) => `gateway at ${gatewayUrl(config)} (pid ${pid})`)))
    return null;
  if (!(await child('worker', logLine('worker started'), (pid) => `worker polling (pid ${pid})`))) return null;
  const apiProbeUrl = `http://${dialHost(config.api.host)}:${config.api.port}`;
  // The API only reads evidence: it runs as the read-only identity (<state>/s3/seaweed-reader.json).
  const { reader } = running.stack.seaweed;
  const apiUp = (pid: number | undefined) => `API at ${config.api.url} (pid ${pid})`;
  const readOnly = { VIGIL_S3_ACCESS_KEY_ID: reader.accessKeyId, VIGIL_S3_SECRET_ACCESS_KEY: reader.secretAccessKey };
  if (!(await child('api', { kind: 'http', url: `${apiProbeUrl}/healthz` }, apiUp, readOnly))) return null;
  return apiProbeUrl;
}

const gatewayUrl = (config: VigilConfig): string => `http://${dialHost(config.gateway!.host)}:${config.gateway!.port}`;

/**
 * The traffic driver: the demo cohort (or --traffic's CSV rows, checked first against the features the gateway serves
 * the model with) through the gateway at --traffic-rate while any release runs (asked of the API), outcomes at
 * --outcome-delay; stopped first on shutdown.
 */
async function startTraffic(
  sd: Shutdown,
  out: Printer,
  config: VigilConfig,
  flags: Flags,
  log: ReturnType<typeof fileLogger>,
  prepared: { token: ApiToken; gatewayToken: string; trafficCsv: TrafficCsv | undefined },
): Promise<void> {
  if (flags.trafficRate <= 0) return;
  const api = `http://${dialHost(config.api.host)}:${config.api.port}`;
  const model = flags.traffic?.model ?? DEMO_MODEL_NAME;
  const csv = prepared.trafficCsv;
  if (csv) {
    try {
      featureColumns(csv, await servedFeatures(gatewayUrl(config), model));
    } catch (err) {
      throw new StackStartError((err as Error).message);
    }
  }
  sd.running.traffic = startDemoTraffic({
    gatewayUrl: gatewayUrl(config),
    model,
    rate: flags.trafficRate,
    outcomeDelayMs: flags.outcomeDelay * 1000,
    ingestToken: process.env.VIGIL_GATEWAY_INGEST_TOKEN ?? prepared.gatewayToken,
    live: async () => {
      const res = await fetch(`${api}/api/releases`, {
        headers: { authorization: `Bearer ${prepared.token.token}` },
        signal: AbortSignal.timeout(5000),
      });
      if (res.status !== 200) return false;
      const { releases } = (await res.json()) as { releases: Array<{ status: string }> };
      return releases.some((r) => r.status === 'RUNNING');
    },
    log,
    ...(csv ? { input: csvReplay(csv, { gatewayUrl: gatewayUrl(config), model, run: Date.now().toString(36) }) } : {}),
  });
  const what = csv ? `the ${csv.rows.length} rows of ${displayPath(csv.file)} (replayed)` : 'the demo cohort';
  out.event(
    `  ✔ traffic: ${flags.trafficRate} requests/s of ${what} to ${model} through the gateway while a release runs, outcomes ~${flags.outcomeDelay} s later`,
  );
}

/** --demo: seed the demo and run its release through the started stack, narrating each stage. */
async function runDemoRelease(
  sd: Shutdown,
  out: Printer,
  config: VigilConfig,
  flags: Flags,
  d: { token: ApiToken; demoUsers: boolean; policy: Policy; apiProbeUrl: string },
): Promise<void> {
  const s3 = createS3Client(config.s3);
  const evidence = new EvidenceStore({ s3, bucket: config.s3.bucket, retention: config.retention });
  try {
    await runDemo({
      evidence,
      policy: d.policy,
      ...(flags.candidate ? { candidateVersion: flags.candidate } : {}),
      production: async () =>
        (await new S3RouteStore(s3, config.s3.bucket).current(DEMO_MODEL_NAME))?.production ?? null,
      apiUrl: d.apiProbeUrl,
      token: d.token.token,
      cliEnv: cliEnv(config, d.token),
      vigilBin: repoRelative(REPO_ROOT, 'bin/vigil'),
      temporalBin: repoRelative(REPO_ROOT, '.tools/bin/temporal'),
      temporalAddress: sd.running.stack!.temporal.address,
      temporalNamespace: config.temporal.namespace,
      demoUsers: d.demoUsers,
      out,
      signal: sd.signal,
    });
  } finally {
    s3.destroy();
  }
}

/** SeaweedFS's internal ports are fixed per state dir after the first start: check them too. */
function seaweedInternalClaims(stateDir: string): PortClaim[] {
  const file = path.join(stateDir, 's3', 'seaweed-ports.json');
  try {
    const ports = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, number>;
    return Object.entries(ports).map(([name, port]) => ({
      port,
      host: '127.0.0.1',
      what: `SeaweedFS ${name} (from ${displayPath(file)})`,
    }));
  } catch {
    return [];
  }
}

function cliEnv(config: VigilConfig, token: ApiToken): string[] {
  const lines: string[] = [];
  if (token.file) lines.push(`export VIGIL_API_TOKEN="$(cat ${displayPath(token.file)})"`);
  else lines.push('export VIGIL_API_TOKEN=...   # the token this stack was started with');
  if (config.api.url !== 'http://127.0.0.1:8080') lines.push(`export VIGIL_API_URL=${config.api.url}`);
  return lines;
}

function printSummary(
  out: Printer,
  config: VigilConfig,
  flags: Flags,
  running: Running,
  stateDir: string,
  token: ApiToken,
): void {
  const stack = running.stack!;
  const rows: Array<[string, string]> = [
    ['Temporal UI', stack.temporal.uiUrl ?? '(disabled: --no-ui)'],
    ['Temporal', `${stack.temporal.address} (namespace ${config.temporal.namespace})`],
    ['API', config.api.url],
    ['Gateway', `${gatewayUrl(config)} (live source: ${process.env.VIGIL_LIVE_SOURCE})`],
    ['S3', `${stack.seaweed.endpoint} bucket ${config.s3.bucket}`],
    [
      'API token',
      token.source === 'env' ? 'from VIGIL_API_TOKEN' : `${displayPath(token.file!)}${token.created ? ' (new)' : ''}`,
    ],
    ['State', `${displayPath(stateDir)} (kept across restarts)`],
    ['Logs', displayPath(running.api!.logFile)],
    ['', displayPath(running.worker!.logFile)],
    ['', displayPath(running.gateway!.logFile)],
    ['', displayPath(stack.temporal.process.logFile)],
    ['', displayPath(stack.seaweed.process.logFile)],
    ['', displayPath(path.join(stateDir, 'logs', 'stack.log'))],
  ];
  const lines = ['', 'Vigil stack is up:'];
  for (const [k, v] of rows) lines.push(`  ${k.padEnd(12)} ${v}`);
  lines.push('');
  if (flags.demo) {
    lines.push('Next: the demo release runs below; when it waits for sign-off, the approve commands are printed.');
  } else {
    lines.push('Next, in another terminal:');
    for (const e of cliEnv(config, token)) lines.push(`  ${e}`);
    lines.push(`  ${repoRelative(REPO_ROOT, 'bin/vigil')} release list`);
  }
  lines.push('Ctrl-C stops everything; starting again resumes in-flight releases.');
  lines.push('');
  out.plain(lines.join('\n'));
}

function fail(err: unknown): never {
  process.stderr.write(`✘ ${stackErrorMessage(err)}\n`);
  process.exit(err instanceof StackStartError && err.message.startsWith('usage') ? 2 : 1);
}

if (process.env[ROLE_ENV]) {
  void runSupervisor();
} else {
  try {
    parseFlags(process.argv.slice(2)); // usage errors and --help before anything is spawned
  } catch (err) {
    process.stderr.write(`✘ ${(err as Error).message}\n\n${USAGE}\n`);
    process.exit(2);
  }
  runFront();
}
