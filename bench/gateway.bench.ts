/**
 * Inference gateway overhead and telemetry ingest, with autocannon against loopback.
 *
 *   npm run bench:gateway              # readable summary
 *   npm run bench:gateway -- --json    # one JSON object
 *   options: --duration S (per run, default 8) --connections N (default 10) --rounds N (default 5)
 *
 * Scenarios, each served by its own child process (autocannon runs in this process):
 *   direct   the production model behind a bare OIP v2 server (no routing, no telemetry): "calling the backend directly"
 *   gateway  the same model through the gateway: routing, prediction telemetry to the WAL, no shadow
 *   shadow   as gateway, with every request mirrored to the candidate (in-process ONNX) after the response
 * Models: demo/models/sepsis-alert-1.4.0.onnx (production) and -2.0.0.onnx (candidate), onnxruntime-node.
 * The scenarios run interleaved for --rounds rounds (order rotated each round); raw figures are medians over
 * rounds, and the added p99 and throughput ratio are paired within each round, then the median. Latency
 * percentiles come from every response's own duration (autocannon's histogram has 1 ms resolution).
 * Ingest: POST /v2/telemetry/outcomes with 100 events per request, each acknowledged after fsync.
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
    fs.rmSync(dir, { recursive: true, force: true });
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

function startServer(scenario: Scenario): Promise<Served> {
  const proc = spawn(process.execPath, ['--import', 'tsx', __filename, '--serve', scenario], {
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

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

const inferBody = JSON.stringify({
  parameters: { case_id: 'bench-case-[<id>]', site: 'site-a' },
  inputs: FEATURES.map((f, k) => ({ name: f, shape: [1], datatype: 'FP32', data: [(k - 3.5) / 4] })),
});

async function main(): Promise<void> {
  const json = process.argv.includes('--json');
  const duration = arg('duration', 8);
  const connections = arg('connections', 10);
  const rounds = arg('rounds', 5);
  const scenarios: Scenario[] = ['direct', 'gateway', 'shadow'];
  const runs: Record<Scenario, Run[]> = { direct: [], gateway: [], shadow: [] };
  let shadowStats: Record<string, unknown> | undefined;
  /** Mirror counters summed over every shadow round (each round is a fresh server). */
  const mirrors = { started: 0, completed: 0, failed: 0, dropped: 0, batches: 0 };

  for (let r = 0; r < rounds; r++) {
    // Rotate the order each round so no scenario always runs first (machine load drifts).
    for (const s of scenarios.map((_, k) => scenarios[(k + r) % scenarios.length]!)) {
      const server = await startServer(s);
      const warm = await load(server.port, {
        path: `/v2/models/${MODEL}/infer`,
        body: inferBody,
        duration: 2,
        connections,
      });
      const run = await load(server.port, {
        path: `/v2/models/${MODEL}/infer`,
        body: inferBody,
        duration,
        connections,
      });
      const stats = (await server.stop()) as { cpu?: NodeJS.CpuUsage } | undefined;
      const answered = warm.rps * 2 + run.rps * duration;
      if (stats?.cpu) {
        run.cpuUsPerRequest = (stats.cpu.user + stats.cpu.system - server.cpuAtStart) / answered;
        run.cpuUserUs = (stats.cpu.user - server.cpuStart.user) / answered;
        run.cpuSysUs = (stats.cpu.system - server.cpuStart.system) / answered;
      }
      run.load1 = Number(os.loadavg()[0]!.toFixed(2));
      runs[s].push(run);
      if (s === 'shadow') {
        shadowStats = stats as Record<string, unknown>;
        const m = (stats as { shadow?: Partial<typeof mirrors> } | undefined)?.shadow;
        for (const k of Object.keys(mirrors) as Array<keyof typeof mirrors>) mirrors[k] += m?.[k] ?? 0;
      }
      if (!json)
        process.stderr.write(
          `round ${r + 1} ${s}: ${runs[s].at(-1)!.rps.toFixed(0)} req/s, p99 ${runs[s].at(-1)!.p99.toFixed(2)} ms\n`,
        );
    }
  }
  const summary = Object.fromEntries(
    scenarios.map((s) => [
      s,
      {
        rps: median(runs[s].map((x) => x.rps)),
        p50: median(runs[s].map((x) => x.p50)),
        p90: median(runs[s].map((x) => x.p90)),
        p99: median(runs[s].map((x) => x.p99)),
        cpuUsPerRequest: median(runs[s].map((x) => x.cpuUsPerRequest ?? NaN)),
        cpuUserUs: median(runs[s].map((x) => x.cpuUserUs ?? NaN)),
        cpuSysUs: median(runs[s].map((x) => x.cpuSysUs ?? NaN)),
        non2xx: runs[s].reduce((a, x) => a + x.non2xx, 0),
        errors: runs[s].reduce((a, x) => a + x.errors, 0),
      },
    ]),
  ) as Record<Scenario, Run>;

  // Telemetry ingest: 100 outcomes per request, each request acknowledged after its group commit is fsynced.
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
  const ingestServer = await startServer('gateway');
  await load(ingestServer.port, {
    path: '/v2/telemetry/outcomes',
    body: outcomes,
    duration: 2,
    connections: 20,
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  const ingestRuns: Run[] = [];
  for (let r = 0; r < rounds; r++)
    ingestRuns.push(
      await load(ingestServer.port, {
        path: '/v2/telemetry/outcomes',
        body: outcomes,
        duration,
        connections: 20,
        headers: { authorization: `Bearer ${TOKEN}` },
      }),
    );
  await ingestServer.stop();
  const ingest = {
    eventsPerSecond: median(ingestRuns.map((x) => x.rps * BATCH)),
    requestsPerSecond: median(ingestRuns.map((x) => x.rps)),
    p50: median(ingestRuns.map((x) => x.p50)),
    p99: median(ingestRuns.map((x) => x.p99)),
    batch: BATCH,
    connections: 20,
    non2xx: ingestRuns.reduce((a, x) => a + x.non2xx, 0),
  };

  const result = {
    machine: `${os.cpus().length} vCPU ${os.cpus()[0]?.model ?? ''}`.trim(),
    node: process.version,
    loadavg: os.loadavg().map((x) => Number(x.toFixed(2))),
    duration,
    connections,
    rounds,
    inference: summary,
    // Paired per round (same machine load), then the median over rounds.
    addedP99Ms: median(runs.shadow.map((x, r) => x.p99 - runs.direct[r]!.p99)),
    addedP99MsNoShadow: median(runs.gateway.map((x, r) => x.p99 - runs.direct[r]!.p99)),
    throughputRatio: median(runs.shadow.map((x, r) => x.rps / runs.direct[r]!.rps)),
    throughputRatioNoShadow: median(runs.gateway.map((x, r) => x.rps / runs.direct[r]!.rps)),
    perRound: runs,
    shadowStats,
    // Over all shadow rounds: requests whose mirror was dropped under backpressure, and mirrors scored.
    mirrors: {
      ...mirrors,
      offered: mirrors.started + mirrors.dropped,
      dropRate: mirrors.dropped / Math.max(1, mirrors.started + mirrors.dropped),
    },
    ingest,
    targets: { addedP99Ms: 1, throughputRatio: 0.8, ingestEventsPerSecond: 20_000 },
  };
  if (json) {
    console.log(JSON.stringify(result));
    return;
  }
  const row = (s: Scenario): string =>
    `${s.padEnd(8)} ${summary[s].rps.toFixed(0).padStart(7)} req/s   p50 ${summary[s].p50.toFixed(2)} ms   p90 ${summary[s].p90.toFixed(2)} ms   p99 ${summary[s].p99.toFixed(2)} ms   server CPU ${summary[s].cpuUsPerRequest?.toFixed(1)} µs/req (user ${summary[s].cpuUserUs?.toFixed(1)}, sys ${summary[s].cpuSysUs?.toFixed(1)})   non-2xx ${summary[s].non2xx}`;
  console.log(
    `machine ${result.machine}, node ${result.node}, load ${result.loadavg.join(' ')} (1-min load during runs ${Math.min(...scenarios.flatMap((s) => runs[s].map((x) => x.load1 ?? NaN)))}–${Math.max(...scenarios.flatMap((s) => runs[s].map((x) => x.load1 ?? NaN)))}); ${connections} connections, ${duration} s × ${rounds} rounds (medians)`,
  );
  for (const s of scenarios) console.log(row(s));
  console.log(
    `added p99 with shadow (paired per round, median): ${result.addedP99Ms.toFixed(2)} ms (target ≤ 1), without: ${result.addedP99MsNoShadow.toFixed(2)} ms`,
  );
  console.log(
    `throughput with shadow (paired per round, median): ${(result.throughputRatio * 100).toFixed(1)}% of direct (target ≥ 80%), without: ${(result.throughputRatioNoShadow * 100).toFixed(1)}%`,
  );
  const mr = result.mirrors;
  console.log(
    `shadow mirrors (all rounds, warm-up included): ${mr.offered} offered, ${mr.completed} scored and recorded, ${mr.failed} failed, ${mr.dropped} dropped under backpressure (drop rate ${(mr.dropRate * 100).toFixed(3)}%), ${mr.batches} batches (${(mr.completed / Math.max(1, mr.batches)).toFixed(1)} per backend call)`,
  );
  console.log(
    `telemetry ingest: ${ingest.eventsPerSecond.toFixed(0)} events/s acknowledged after fsync (${ingest.requestsPerSecond.toFixed(0)} req/s × ${BATCH}, p50 ${ingest.p50.toFixed(2)} ms, p99 ${ingest.p99.toFixed(2)} ms) (target ≥ 20,000)`,
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
    console.error(err);
    process.exit(1);
  });
}
