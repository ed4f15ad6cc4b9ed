/**
 * Inference gateway overhead and telemetry ingest, with autocannon against loopback.
 *
 *   npm run bench:gateway              # readable summary
 *   npm run bench:gateway -- --json    # one JSON object
 *   options: --duration S (per run, default 8) --connections N (default 10) --rounds N (default 5)
 *            --targets direct,gateway,… (a subset) --no-ingest (skip the ingest measurement)
 *   VIGIL_BENCH_SERVER_FLAGS="--max-semi-space-size=32": node flags for the servers only (not autocannon's process)
 *
 * Scenarios, each served by its own child process (autocannon runs in this process):
 *   direct   the production model behind a bare OIP v2 server (no routing, no telemetry): "calling the backend directly"
 *   gateway  the same model through the gateway: routing, prediction telemetry to the WAL, no shadow
 *   shadow   as gateway, with every request mirrored to the candidate (in-process ONNX) after the response
 * Models: demo/models/sepsis-alert-1.4.0.onnx (production) and -2.0.0.onnx (candidate), onnxruntime-node.
 * The scenarios run interleaved for --rounds rounds (order rotated each round); raw figures are medians over
 * rounds, and the added p99 and throughput ratio are paired within each round, then the median. Latency
 * percentiles come from every response's own duration (autocannon's histogram has 1 ms resolution).
 *   mlserver Seldon's MLServer (scikit-learn runtime, the same logistic weights), when bench/mlserver/setup.sh installed it
 * Each target is measured at 1, 32 and 1,000 rows per request (--batches 1,32,1000): rows/s, req/s, p50/p99.
 * The 1-row body is the historical one (a tensor per feature); batches are one [n, 8] tensor plus a BYTES
 * `case_id` tensor naming every row (each row a prediction in telemetry). --no-mlserver skips MLServer.
 * Ingest: POST /v2/telemetry/outcomes with 100 events per request, each acknowledged after fsync.
 * --baseline <dir>: also the gateway scenario served by the code of another checkout (e.g. `git worktree add
 * /tmp/before <commit>` with node_modules linked), as target `baseline` in the same rounds: before/after paired.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import {
  Gateway,
  RouteTables,
  ShadowMirror,
  inProcessBackend,
  startOipModelServer,
  type Backend,
} from '../src/gateway';
import { loadScorer } from '../src/models';
import { WriteAheadLog } from '../src/telemetry';
import { startMlserver } from './mlserver/start';

const TOKEN = 'bench-control-token-0123456789';
const KEY = 'bench-case-id-key-0123456789';
const MODEL = 'sepsis-alert';
const FEATURES = ['x0', 'x1', 'x2', 'x3', 'x4', 'x5', 'x6', 'x7'];
const MODELS_DIR = path.resolve(__dirname, '..', 'demo', 'models');
type Scenario = 'direct' | 'gateway' | 'shadow';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

async function backend(version: string): Promise<Backend> {
  const file = path.join(MODELS_DIR, `${MODEL}-${version}.onnx`);
  return inProcessBackend(version, await loadScorer(fs.readFileSync(file), file, { onnx: { intraOpNumThreads: 1 } }));
}

/** Child mode: serve one scenario on a free port, print it, run until killed. */
async function serve(scenario: Scenario): Promise<void> {
  const prod = await backend('1.4.0');
  if (scenario === 'direct') {
    const file = path.join(MODELS_DIR, `${MODEL}-1.4.0.onnx`);
    const scorer = await loadScorer(fs.readFileSync(file), file, { onnx: { intraOpNumThreads: 1 } });
    const s = await startOipModelServer({ model: MODEL, version: '1.4.0', scorer });
    process.stdout.write(JSON.stringify({ port: s.port, cpu: process.cpuUsage() }) + '\n');
    process.on('SIGTERM', () => {
      process.stdout.write(JSON.stringify({ stats: { cpu: process.cpuUsage() } }) + '\n');
      process.exit(0);
    });
    return;
  }
  const versions = scenario === 'shadow' ? [prod, await backend('2.0.0')] : [prod];
  const tables = new RouteTables(() => new Set(versions.map((v) => v.version)));
  tables.adopt(MODEL, {
    version: 1,
    production: '1.4.0',
    canary: null,
    shadow: scenario === 'shadow' ? { model: '2.0.0', percent: 100 } : null,
    threshold: 0.5,
  });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-gw-'));
  const wal = await WriteAheadLog.open({ dir });
  const gateway = new Gateway({
    models: [{ name: MODEL, features: FEATURES, versions: new Map(versions.map((v) => [v.version, v])) }],
    tables,
    caseIdKey: KEY,
    controlToken: TOKEN,
    wal,
    shadow: new ShadowMirror(256, 2000),
  });
  const port = await gateway.listen(0);
  process.stdout.write(JSON.stringify({ port, cpu: process.cpuUsage() }) + '\n');
  process.on('SIGTERM', () => {
    const stats = { ...gateway.stats(), cpu: process.cpuUsage() };
    process.stdout.write(JSON.stringify({ stats }) + '\n');
    // The WAL may still be starting a segment file (it does so off the event loop): retry, never fail the run.
    fs.rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
    process.exit(0);
  });
}

interface Served {
  proc: ChildProcess;
  port: number;
  /** CPU time the server had used when it started listening (µs). */
  cpuAtStart: number;
  cpuStart: NodeJS.CpuUsage;
  stop(): Promise<Record<string, unknown> | undefined>;
}

/** `file`: this bench, or a baseline checkout's (--baseline <dir>: the same scenario on that tree's code). */
function startServer(scenario: Scenario, file = __filename): Promise<Served> {
  // VIGIL_BENCH_SERVER_FLAGS: extra node flags for the servers only (e.g. GC settings), not for autocannon's process.
  const flags = (process.env.VIGIL_BENCH_SERVER_FLAGS ?? '').split(/\s+/).filter(Boolean);
  const proc = spawn(process.execPath, [...flags, '--import', 'tsx', file, '--serve', scenario], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  return new Promise((resolve, reject) => {
    proc.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const line = out.split('\n').find((l) => l.startsWith('{"port"'));
      if (line && !(proc as { resolved?: boolean }).resolved) {
        (proc as { resolved?: boolean }).resolved = true;
        resolve({
          proc,
          port: (JSON.parse(line) as { port: number }).port,
          cpuAtStart: ((c) => c.user + c.system)((JSON.parse(line) as { cpu: NodeJS.CpuUsage }).cpu),
          cpuStart: (JSON.parse(line) as { cpu: NodeJS.CpuUsage }).cpu,
          stop: () =>
            new Promise((r) => {
              proc.once('exit', () => {
                const statsLine = out.split('\n').find((l) => l.startsWith('{"stats"'));
                r(statsLine ? (JSON.parse(statsLine) as { stats: Record<string, unknown> }).stats : undefined);
              });
              proc.kill('SIGTERM');
            }),
        });
      }
    });
    proc.on('exit', (code) => reject(new Error(`${scenario} server exited with ${code}`)));
  });
}

interface Run {
  rps: number;
  /** Server CPU time per answered request (µs), warm-up included. */
  cpuUsPerRequest?: number;
  /** …of which user and kernel time (µs). */
  cpuUserUs?: number;
  cpuSysUs?: number;
  /** 1-minute load average when the run ended. */
  load1?: number;
  p50: number;
  p90: number;
  p99: number;
  non2xx: number;
  errors: number;
}

/** autocannon run; latencies recorded per response at µs resolution. */
async function load(
  port: number,
  opts: { path: string; body: string; duration: number; connections: number; headers?: Record<string, string> },
): Promise<Run> {
  const latencies: number[] = [];
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: `http://127.0.0.1:${port}${opts.path}`,
        method: 'POST',
        headers: { 'content-type': 'application/json', ...opts.headers },
        body: opts.body,
        // Every request a different case id (`[<id>]` in the body): hashing and canary/shadow bucketing see fresh ids.
        idReplacement: true,
        connections: opts.connections,
        duration: opts.duration,
      },
      (err, res) => (err ? reject(err) : resolve(res)),
    );
    instance.on('response', (_client, status, _bytes, ms) => {
      if (status >= 200 && status < 300) latencies.push(ms);
    });
  });
  latencies.sort((a, b) => a - b);
  const q = (p: number): number => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? NaN;
  return {
    rps: latencies.length / opts.duration,
    p50: q(0.5),
    p90: q(0.9),
    p99: q(0.99),
    non2xx: result.non2xx,
    errors: result.errors,
  };
}

/** A bad option: its message alone, exit 2. */
class UsageError extends Error {}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** The historical one-row body (one tensor per feature), kept so 1-row figures compare with earlier passes. */
const oneRowBody = JSON.stringify({
  parameters: { case_id: 'bench-case-[<id>]', site: 'site-a' },
  inputs: FEATURES.map((f, k) => ({ name: f, shape: [1], datatype: 'FP32', data: [(k - 3.5) / 4] })),
});

/** Row r of every batch: values spread like standardised features. */
function benchRow(r: number): number[] {
  return FEATURES.map((_, k) => Number((((r * 7 + k * 13) % 41) / 10 - 2).toFixed(2)));
}

/**
 * An n-row gateway request: one [n, 8] tensor and each row's case id in a BYTES `case_id` tensor
 * (fresh per request: autocannon replaces `[<id>]`).
 */
function batchBody(n: number): string {
  if (n === 1) return oneRowBody;
  return JSON.stringify({
    parameters: { case_id: 'bench-request-[<id>]', site: 'site-a' },
    inputs: [
      {
        name: 'features',
        shape: [n, 8],
        datatype: 'FP32',
        data: Array.from({ length: n }, (_, r) => benchRow(r)).flat(),
      },
      {
        name: 'case_id',
        shape: [n],
        datatype: 'BYTES',
        data: Array.from({ length: n }, (_, r) => `bench-[<id>]-${r}`),
      },
    ],
  });
}

/** The same rows as MLServer's scikit-learn runtime takes them (one [n, 8] tensor, probabilities asked for). */
function mlserverBody(n: number): string {
  return JSON.stringify({
    inputs: [
      {
        name: 'predict',
        shape: [n, 8],
        datatype: 'FP32',
        data: n === 1 ? FEATURES.map((_, k) => (k - 3.5) / 4) : Array.from({ length: n }, (_, r) => benchRow(r)).flat(),
      },
    ],
    outputs: [{ name: 'predict_proba' }],
  });
}

/** `baseline`: the gateway scenario served by another checkout's code (--baseline <dir>), in the same rounds. */
type Target = Scenario | 'mlserver' | 'baseline';

const baselineAt = process.argv.indexOf('--baseline');
const BASELINE_FILE =
  baselineAt >= 0 ? path.resolve(process.argv[baselineAt + 1]!, 'bench', 'gateway.bench.ts') : undefined;

interface Summary extends Run {
  rowsPerSecond: number;
}

function summarise(rs: Run[], rows: number): Summary {
  return {
    rps: median(rs.map((x) => x.rps)),
    rowsPerSecond: median(rs.map((x) => x.rps * rows)),
    p50: median(rs.map((x) => x.p50)),
    p90: median(rs.map((x) => x.p90)),
    p99: median(rs.map((x) => x.p99)),
    cpuUsPerRequest: median(rs.map((x) => x.cpuUsPerRequest ?? NaN)),
    cpuUserUs: median(rs.map((x) => x.cpuUserUs ?? NaN)),
    cpuSysUs: median(rs.map((x) => x.cpuSysUs ?? NaN)),
    non2xx: rs.reduce((a, x) => a + x.non2xx, 0),
    errors: rs.reduce((a, x) => a + x.errors, 0),
  };
}

/** One server of one target, warmed up for 2 s, measured for `duration` s. */
async function measure(
  target: Target,
  rows: number,
  duration: number,
  connections: number,
): Promise<{ run: Run; stats?: Record<string, unknown> } | { skipped: string }> {
  if (target === 'mlserver') {
    const ml = await startMlserver(path.join(MODELS_DIR, `${MODEL}-1.4.0.json`));
    if ('skipped' in ml) return ml;
    const opts = { path: `/v2/models/${MODEL}/infer`, body: mlserverBody(rows), connections };
    await load(ml.port, { ...opts, duration: 2 });
    const run = await load(ml.port, { ...opts, duration });
    run.load1 = Number(os.loadavg()[0]!.toFixed(2));
    await ml.stop();
    return { run };
  }
  const server = target === 'baseline' ? await startServer('gateway', BASELINE_FILE) : await startServer(target);
  const opts = { path: `/v2/models/${MODEL}/infer`, body: batchBody(rows), connections };
  const warm = await load(server.port, { ...opts, duration: 2 });
  const run = await load(server.port, { ...opts, duration });
  const stats = (await server.stop()) as ({ cpu?: NodeJS.CpuUsage } & Record<string, unknown>) | undefined;
  const answered = warm.rps * 2 + run.rps * duration;
  if (stats?.cpu) {
    run.cpuUsPerRequest = (stats.cpu.user + stats.cpu.system - server.cpuAtStart) / answered;
    run.cpuUserUs = (stats.cpu.user - server.cpuStart.user) / answered;
    run.cpuSysUs = (stats.cpu.system - server.cpuStart.system) / answered;
  }
  run.load1 = Number(os.loadavg()[0]!.toFixed(2));
  return { run, ...(stats ? { stats } : {}) };
}

/** Telemetry ingest: 100 outcomes per request, each request acknowledged after its group commit is fsynced. */
async function measureIngest(rounds: number, duration: number) {
  const BATCH = 100;
  const outcomes = JSON.stringify({
    events: Array.from({ length: BATCH }, (_, i) => ({
      model: MODEL,
      case_id: `case-${i}`,
      label: i % 2,
      source: 'clinician_review',
      observed_at: '2026-03-01T10:00:00Z',
    })),
  });
  const server = await startServer('gateway');
  const opts = {
    path: '/v2/telemetry/outcomes',
    body: outcomes,
    connections: 20,
    headers: { authorization: `Bearer ${TOKEN}` },
  };
  await load(server.port, { ...opts, duration: 2 });
  const runs: Run[] = [];
  for (let r = 0; r < rounds; r++) runs.push(await load(server.port, { ...opts, duration }));
  await server.stop();
  return {
    eventsPerSecond: median(runs.map((x) => x.rps * BATCH)),
    requestsPerSecond: median(runs.map((x) => x.rps)),
    p50: median(runs.map((x) => x.p50)),
    p99: median(runs.map((x) => x.p99)),
    batch: BATCH,
    connections: 20,
    non2xx: runs.reduce((a, x) => a + x.non2xx, 0),
  };
}

async function main(): Promise<void> {
  const json = process.argv.includes('--json');
  const duration = arg('duration', 8);
  const connections = arg('connections', 10);
  const rounds = arg('rounds', 5);
  const batchesAt = process.argv.indexOf('--batches');
  const batches = (batchesAt >= 0 ? process.argv[batchesAt + 1]! : '1,32,1000').split(',').map(Number);
  const noMlserver = process.argv.includes('--no-mlserver');
  const targetsAt = process.argv.indexOf('--targets');
  const only = targetsAt >= 0 ? new Set((process.argv[targetsAt + 1] ?? '').split(',')) : undefined;
  const known = ['direct', 'gateway', 'shadow', 'mlserver', 'baseline'];
  const unknown = [...(only ?? [])].filter((t) => !known.includes(t));
  if (only && (unknown.length > 0 || only.size === 0))
    throw new UsageError(
      `--targets: unknown target ${unknown.join(', ') || '(none)'}; give a subset of ${known.join(',')}`,
    );
  const targets = (
    [
      'direct',
      'gateway',
      'shadow',
      ...(noMlserver ? [] : (['mlserver'] as const)),
      ...(BASELINE_FILE ? (['baseline'] as const) : []),
    ] as Target[]
  ).filter((t) => !only || only.has(t));
  const runs = new Map<number, Record<Target, Run[]>>();
  let mlserverSkipped: string | undefined;
  /** Mirror counters summed over every shadow round (each round is a fresh server). */
  const mirrors = { started: 0, completed: 0, failed: 0, dropped: 0, batches: 0 };
  const predictions = { recorded: 0, written: 0, failed: 0 };

  for (const rows of batches) {
    const byTarget: Record<Target, Run[]> = { direct: [], gateway: [], shadow: [], mlserver: [], baseline: [] };
    runs.set(rows, byTarget);
    for (let r = 0; r < rounds; r++) {
      // Rotate the order each round so no target always runs first (machine load drifts).
      for (const t of targets.map((_, k) => targets[(k + r) % targets.length]!)) {
        if (t === 'mlserver' && mlserverSkipped) continue;
        const m = await measure(t, rows, duration, connections);
        if ('skipped' in m) {
          mlserverSkipped = m.skipped;
          if (!json) process.stderr.write(`MLServer comparison skipped: ${m.skipped}\n`);
          continue;
        }
        byTarget[t].push(m.run);
        const st = m.stats as
          { shadow?: Partial<typeof mirrors>; telemetry?: { predictions?: Partial<typeof predictions> } } | undefined;
        if (t === 'shadow')
          for (const k of Object.keys(mirrors) as Array<keyof typeof mirrors>) mirrors[k] += st?.shadow?.[k] ?? 0;
        for (const k of Object.keys(predictions) as Array<keyof typeof predictions>)
          predictions[k] += st?.telemetry?.predictions?.[k] ?? 0;
        if (!json)
          process.stderr.write(
            `${rows} rows, round ${r + 1} ${t}: ${(m.run.rps * rows).toFixed(0)} rows/s, p50 ${m.run.p50.toFixed(2)} ms, p99 ${m.run.p99.toFixed(2)} ms\n`,
          );
      }
    }
  }
  const ingest = process.argv.includes('--no-ingest') ? undefined : await measureIngest(rounds, duration);

  const paired = (rows: number, a: Target, b: Target, f: (x: Run, y: Run) => number): number | null => {
    const r = runs.get(rows)!;
    const n = Math.min(r[a].length, r[b].length);
    return n ? median(Array.from({ length: n }, (_, i) => f(r[a][i]!, r[b][i]!))) : null;
  };
  const byBatch = batches.map((rows) => {
    const r = runs.get(rows)!;
    const present = targets.filter((t) => r[t].length > 0);
    return {
      rows,
      summary: Object.fromEntries(present.map((t) => [t, summarise(r[t], rows)])) as Partial<Record<Target, Summary>>,
      // Paired per round (same machine load), then the median over rounds.
      addedP99Ms: paired(rows, 'shadow', 'direct', (x, y) => x.p99 - y.p99),
      addedP99MsNoShadow: paired(rows, 'gateway', 'direct', (x, y) => x.p99 - y.p99),
      throughputRatio: paired(rows, 'shadow', 'direct', (x, y) => x.rps / y.rps),
      throughputRatioNoShadow: paired(rows, 'gateway', 'direct', (x, y) => x.rps / y.rps),
      vsMlserver: paired(rows, 'gateway', 'mlserver', (x, y) => x.rps / y.rps),
      vsMlserverShadow: paired(rows, 'shadow', 'mlserver', (x, y) => x.rps / y.rps),
      vsBaseline: paired(rows, 'gateway', 'baseline', (x, y) => x.rps / y.rps),
      baselineVsMlserver: paired(rows, 'baseline', 'mlserver', (x, y) => x.rps / y.rps),
      perRound: r,
    };
  });
  const loads = [...runs.values()].flatMap((r) => targets.flatMap((t) => r[t].map((x) => x.load1 ?? NaN)));
  const result = {
    machine: `${os.cpus().length} vCPU ${os.cpus()[0]?.model ?? ''}`.trim(),
    node: process.version,
    loadavg: os.loadavg().map((x) => Number(x.toFixed(2))),
    load1During: [Math.min(...loads), Math.max(...loads)],
    duration,
    connections,
    rounds,
    batches: byBatch,
    mlserverSkipped,
    // Over all shadow rounds: requests whose mirror was dropped under backpressure, and mirrors scored.
    mirrors: {
      ...mirrors,
      offered: mirrors.started + mirrors.dropped,
      dropRate: mirrors.dropped / Math.max(1, mirrors.started + mirrors.dropped),
    },
    predictions,
    ingest,
    targets: {
      addedP99Ms: 1,
      throughputRatio: 0.8,
      ingestEventsPerSecond: 20_000,
      rowsVsMlserverAt1000: 1,
      p99OverP50At1000: 3,
    },
  };
  if (json) {
    console.log(JSON.stringify(result));
    return;
  }
  console.log(
    `machine ${result.machine}, node ${result.node}, load ${result.loadavg.join(' ')} (1-min load during runs ${result.load1During.join('–')}); ${connections} connections, ${duration} s × ${rounds} rounds (medians)`,
  );
  const pct = (x: number | null): string => (x === null ? '—' : `${(x * 100).toFixed(1)}%`);
  for (const b of byBatch) {
    console.log(`— ${b.rows} row${b.rows === 1 ? '' : 's'} per request`);
    for (const [t, s] of Object.entries(b.summary) as Array<[Target, Summary]>)
      console.log(
        `${t.padEnd(8)} ${s.rowsPerSecond.toFixed(0).padStart(8)} rows/s ${s.rps.toFixed(0).padStart(7)} req/s   p50 ${s.p50.toFixed(2)} ms   p99 ${s.p99.toFixed(2)} ms (${(s.p99 / s.p50).toFixed(1)}× p50)` +
          (Number.isFinite(s.cpuUsPerRequest)
            ? `   server CPU ${s.cpuUsPerRequest!.toFixed(1)} µs/req (${(s.cpuUsPerRequest! / b.rows).toFixed(2)} µs/row)`
            : '') +
          `   non-2xx ${s.non2xx}`,
      );
    console.log(
      `  paired medians: shadow ${pct(b.throughputRatio)} / gateway ${pct(b.throughputRatioNoShadow)} of direct; added p99 shadow ${b.addedP99Ms?.toFixed(2) ?? '—'} ms, gateway ${b.addedP99MsNoShadow?.toFixed(2) ?? '—'} ms; rows/s vs MLServer: gateway ${pct(b.vsMlserver)}, shadow ${pct(b.vsMlserverShadow)}` +
        (BASELINE_FILE
          ? `; gateway vs baseline ${pct(b.vsBaseline)} (baseline vs MLServer ${pct(b.baselineVsMlserver)})`
          : ''),
    );
  }
  if (mlserverSkipped) console.log(`MLServer comparison skipped: ${mlserverSkipped}`);
  const mr = result.mirrors;
  console.log(
    `shadow mirrors (all rounds, warm-up included): ${mr.offered} offered, ${mr.completed} scored and recorded, ${mr.failed} failed, ${mr.dropped} dropped under backpressure (drop rate ${(mr.dropRate * 100).toFixed(3)}%), ${mr.batches} batches`,
  );
  console.log(
    `prediction events (all gateway/shadow rounds): ${predictions.recorded} recorded, ${predictions.written} written, ${predictions.failed} lost`,
  );
  if (ingest)
    console.log(
      `telemetry ingest: ${ingest.eventsPerSecond.toFixed(0)} events/s acknowledged after fsync (${ingest.requestsPerSecond.toFixed(0)} req/s × ${ingest.batch}, p50 ${ingest.p50.toFixed(2)} ms, p99 ${ingest.p99.toFixed(2)} ms) (target ≥ 20,000)`,
    );
}

const serveAt = process.argv.indexOf('--serve');
if (serveAt >= 0) {
  serve(process.argv[serveAt + 1] as Scenario).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
} else {
  main().catch((err: unknown) => {
    console.error(err instanceof UsageError ? `bench:gateway: ${err.message}` : err);
    process.exit(err instanceof UsageError ? 2 : 1);
  });
}
