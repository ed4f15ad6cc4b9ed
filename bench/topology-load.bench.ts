/**
 * Load on the production topology (src/topology): N concurrent demo releases started through nginx, each approved
 * by the service-account path once it waits for sign-off, measured from outside:
 *   - releases started per second (POST /api/releases through nginx, `--concurrency` in flight);
 *   - time from the first start until 50 / 90 / 100 % of them are AWAITING_APPROVAL, and from the first approval
 *     until 50 / 90 / 100 % are RELEASED (counted with Temporal visibility queries on Vigil's search attributes);
 *   - errors (any non-2xx answer, any release not RELEASED);
 *   - worker memory at rest and at peak (per in-flight release), Temporal server and PostgreSQL memory peak and CPU
 *     seconds (PostgreSQL: the postmaster and its backends). Memory is PSS (/proc/<pid>/smaps_rollup): shared pages
 *     are split among the processes sharing them, so a sum over PostgreSQL's processes counts its buffers once.
 *
 *   npm run bench:topology [-- --releases 200 --concurrency 20 --workers 2] [--full-cases] [--profile DIR] [--json]
 *
 * Figures go by hand into docs/benchmarks.md, with the load average printed here.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { DEMO_DIR, loadPolicyFile, seedDemo } from '../src/demo/seed';
import {
  DEFAULT_COHORT_GUARDRAILS,
  ReleaseRequestSchema,
  type ReleasePolicy,
  type ReleaseRequest,
  type ReleaseStatus,
} from '../src/domain';
import { createS3Client, EvidenceStore } from '../src/evidence';
import { createLogger } from '../src/logging/logger';
import { startTopology, type Topology } from '../src/topology';

interface ProcSample {
  pssBytes: number;
  cpuSeconds: number;
}

const CLK_TCK = 100;

/** RSS and CPU time (own + reaped children) of `pid`, plus of its live children when `tree`. */
function sample(pid: number, tree = false): ProcSample {
  const one = (p: number): ProcSample => {
    try {
      // PSS (shared pages split among the processes sharing them), so PostgreSQL's shared buffers count once.
      const rollup = fs.readFileSync(`/proc/${p}/smaps_rollup`, 'utf8');
      const pssKb = Number(/^Pss:\s+(\d+)/m.exec(rollup)?.[1] ?? 0);
      const stat = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // Fields after the command: state(0) ppid(1) … utime(11) stime(12) cutime(13) cstime(14).
      const ticks = Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
      return { pssBytes: pssKb * 1024, cpuSeconds: ticks / CLK_TCK };
    } catch {
      return { pssBytes: 0, cpuSeconds: 0 };
    }
  };
  const total = one(pid);
  if (!tree) return total;
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== pid) continue;
      const s = one(Number(entry));
      total.pssBytes += s.pssBytes;
      total.cpuSeconds += s.cpuSeconds;
    } catch {
      /* gone */
    }
  }
  return total;
}

/** Run `f` over `items` with at most `limit` in flight. */
async function pool<T, R>(items: T[], limit: number, f: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await f(items[i]!);
      }
    }),
  );
  return out;
}

async function api(t: Topology, method: 'GET' | 'POST', route: string, body?: unknown) {
  const res = await fetch(`${t.apiUrl}/api${route}`, {
    method,
    headers: {
      authorization: `Bearer ${t.apiToken}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(120_000),
  });
  return { status: res.status, body: (await res.json().catch(() => null)) as unknown };
}

/** Seconds from `t0` until each fraction of `n` was reached, from a series of (time, count) samples. */
function fractions(series: Array<[number, number]>, n: number, t0: number): Record<string, number | null> {
  const at = (f: number) => {
    const hit = series.find(([, c]) => c >= Math.ceil(n * f));
    return hit ? Math.round((hit[0] - t0) / 100) / 10 : null;
  };
  return { p50: at(0.5), p90: at(0.9), p100: at(1) };
}

/**
 * The benchmark policy: the demo policy's stages and criteria with 1 s windows (shadow, canary bakes, monitoring
 * intervals), so the lifecycle takes its orchestration time, not its clinical durations. Unless `fullCases`, the
 * simulated cases per look are cut about 4× (shadow 250, canary 1,000 + 500, monitoring 3 × 250): what is measured is
 * the topology carrying many releases, not the scoring of thousands of cases each (bench:eval and bench:drift measure
 * that). Smaller looks hold fewer positives, so the canary's minimum per arm and its alert-rate bound are those of the
 * tests' small windows, and the per-cohort guardrails (which need hundreds of cases per cohort) are off.
 */
async function benchPolicy(fullCases: boolean | undefined): Promise<ReleasePolicy> {
  const policy = await loadPolicyFile(path.join(DEMO_DIR, 'policies', 'demo.yaml'));
  policy.shadow.durationSeconds = 1;
  for (const s of policy.canary.steps) s.bakeSeconds = 1;
  policy.monitoring.intervalSeconds = 1;
  if (fullCases) return policy;
  policy.shadow.cases = 250;
  delete policy.shadow.adjudication;
  policy.canary.steps = policy.canary.steps.map((s, i) => ({ ...s, cases: i === 0 ? 1000 : 500 }));
  const seq = policy.canary.sequential;
  if (seq) {
    seq.minPositives = 10;
    seq.maxExtensions = 4;
    seq.maxAlertRateRatio = 3;
    seq.cohorts = { ...DEFAULT_COHORT_GUARDRAILS, attributes: [] };
  }
  policy.monitoring.cases = 250;
  return policy;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      releases: { type: 'string', default: '200' },
      concurrency: { type: 'string', default: '20' },
      workers: { type: 'string', default: '2' },
      json: { type: 'boolean', default: false },
      'timeout-minutes': { type: 'string', default: '30' },
      // The demo policy's case counts per look (1,000 shadow, 4,000 + 2,000 canary, 3 × 1,000 monitoring).
      'full-cases': { type: 'boolean', default: false },
      // Each worker writes a V8 CPU profile (<pid>.cpuprofile) into this directory when it stops.
      profile: { type: 'string' },
    },
  });
  const n = Number(values.releases);
  const deadline = Date.now() + Number(values['timeout-minutes']) * 60_000;
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-topology-bench-'));
  const log = createLogger('bench-topology', 'warn');
  const load0 = os.loadavg();
  // Ctrl-C (or a CI timeout's SIGTERM) stops the topology and removes its state, as the normal end does. Installed
  // before anything starts, so the child-process hooks of src/stack/process.ts leave these signals to us.
  const running: { topology?: Topology } = {};
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      void (running.topology?.stop() ?? Promise.resolve()).finally(() => {
        fs.rmSync(stateDir, { recursive: true, force: true });
        process.exit(130);
      });
    });
  }
  const profileDir = values.profile ? path.resolve(values.profile) : undefined;
  if (profileDir) fs.mkdirSync(profileDir, { recursive: true });
  const topology = await startTopology({
    stateDir,
    log,
    replicas: { worker: Number(values.workers) },
    // Node 20 refuses --cpu-prof in NODE_OPTIONS: a preload profiles through the inspector instead.
    ...(profileDir
      ? {
          env: {
            worker: {
              NODE_OPTIONS: `--import ${path.join(__dirname, 'support', 'cpu-profile.mjs')}`,
              VIGIL_CPU_PROFILE_DIR: profileDir,
            },
          },
        }
      : {}),
  });
  running.topology = topology;
  const connection = await Connection.connect({ address: topology.temporal.address });
  const temporal = new Client({ connection });
  const s3 = createS3Client(topology.s3Config);
  try {
    const policy = await benchPolicy(values['full-cases']);
    const evidence = new EvidenceStore({
      s3,
      bucket: topology.s3Config.bucket,
      retention: { mode: 'COMPLIANCE', days: 1 },
    });
    // One seeding (content-addressed artifacts); each release differs by its attempt number, hence its id.
    const base = ReleaseRequestSchema.parse(await seedDemo(evidence, policy, { attempt: 1 }));
    const requests: ReleaseRequest[] = Array.from({ length: n }, (_, i) => ({ ...base, attempt: i + 1 }));

    const workers = topology.replicas.worker.map((w) => w.process.pid);
    const rest = workers.map((p) => sample(p).pssBytes);
    const peaks = { worker: [...rest], temporal: 0, postgres: 0 };
    const cpu0 = {
      workers: workers.map((p) => sample(p).cpuSeconds),
      temporal: sample(topology.temporal.process.pid).cpuSeconds,
      postgres: sample(topology.postgres.process.pid, true).cpuSeconds,
    };
    const sampler = setInterval(() => {
      workers.forEach((p, i) => (peaks.worker[i] = Math.max(peaks.worker[i]!, sample(p).pssBytes)));
      peaks.temporal = Math.max(peaks.temporal, sample(topology.temporal.process.pid).pssBytes);
      peaks.postgres = Math.max(peaks.postgres, sample(topology.postgres.process.pid, true).pssBytes);
    }, 1000);

    let errors = 0;
    const t0 = Date.now();
    const ids = await pool(requests, Number(values.concurrency), async (r) => {
      const res = await api(topology, 'POST', '/releases', r);
      return res.status === 201 ? ((res.body as { releaseId: string }).releaseId ?? '') : '';
    });
    const startSeconds = (Date.now() - t0) / 1000;
    // Every release started (201) with its own id (the attempt number is part of it); anything else is an error.
    errors += n - new Set(ids.filter(Boolean)).size;

    const count = (query: string) => temporal.workflow.count(query).then((c) => c.count);
    const waitingQuery = "WorkflowType = 'releaseLifecycle' AND VigilStage = 'AWAITING_APPROVAL'";
    const waiting: Array<[number, number]> = [];
    const approved = new Set<string>();
    let tApprove = 0;
    // Approve each release as soon as it waits (service-account path: no password hashing in the measurement).
    const approve = async (id: string): Promise<void> => {
      const s = await api(topology, 'GET', `/releases/${id}`);
      const digest = (s.body as ReleaseStatus | null)?.dossier?.sha256;
      if (s.status !== 200 || !digest) return;
      approved.add(id);
      tApprove ||= Date.now();
      for (const role of ['qa', 'clinical'] as const) {
        const res = await api(topology, 'POST', `/releases/${id}/approvals`, {
          signer: `${role}.bench`,
          printedName: `${role} bench`,
          role,
          decision: 'approve',
          meaning: 'approved',
          reason: 'load benchmark',
          dossierSha256: digest,
        });
        if (res.status !== 200) errors++;
      }
    };
    const released: Array<[number, number]> = [];
    // When each release was first seen waiting for sign-off: every release passes there (it cannot go on unsigned),
    // so this counts releases that reached AWAITING_APPROVAL, wherever they are now, to within one poll.
    const firstWaiting = new Map<string, number>();
    // Approvals run beside the polling (at most 10 at once), so a slow Update never delays the counts.
    const queued = new Set<string>();
    const approvals: Array<Promise<void>> = [];
    let approving = 0;
    const approveLimited = async (id: string): Promise<void> => {
      while (approving >= 10) await new Promise((r) => setTimeout(r, 50));
      approving++;
      try {
        await approve(id);
      } finally {
        approving--;
        if (!approved.has(id)) queued.delete(id); // not approvable yet: tried again on a later poll
      }
    };
    let reachedAll = false;
    while (Date.now() < deadline) {
      const now = Date.now();
      const done = await count("WorkflowType = 'releaseLifecycle' AND ExecutionStatus = 'Completed'");
      released.push([now, done]);
      for await (const wf of temporal.workflow.list({ query: waitingQuery })) {
        if (!firstWaiting.has(wf.workflowId)) firstWaiting.set(wf.workflowId, now);
        if (approved.has(wf.workflowId) || queued.has(wf.workflowId)) continue;
        queued.add(wf.workflowId);
        approvals.push(approveLimited(wf.workflowId));
      }
      waiting.push([now, firstWaiting.size]);
      if (done >= n) {
        reachedAll = true;
        break;
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
    await Promise.all(approvals);
    clearInterval(sampler);
    const outcomes = await count("WorkflowType = 'releaseLifecycle' AND VigilOutcome = 'RELEASED'");
    const cpu = {
      workers: workers.map((p, i) => sample(p).cpuSeconds - cpu0.workers[i]!),
      temporal: sample(topology.temporal.process.pid).cpuSeconds - cpu0.temporal,
      postgres: sample(topology.postgres.process.pid, true).cpuSeconds - cpu0.postgres,
    };
    const mib = (b: number) => Math.round(b / 1048576);
    const summary = {
      releases: n,
      cases: values['full-cases'] ? 'demo policy' : 'bench policy (light)',
      workers: workers.length,
      errors,
      notReleased: n - outcomes,
      reachedAll,
      startedPerSecond: Math.round((n / startSeconds) * 10) / 10,
      awaitingApprovalSeconds: fractions(waiting, n, t0),
      releasedSecondsAfterFirstApproval: fractions(released, n, tApprove),
      workerPssMiB: { atRest: rest.map(mib), peak: peaks.worker.map(mib) },
      // CPU the workers used from the first start to the end (main thread, workflow threads and ONNX's together).
      workerCpuSeconds: cpu.workers.map((c) => Math.round(c)),
      workerMiBPerInFlightRelease:
        Math.round(((peaks.worker.reduce((a, b) => a + b, 0) - rest.reduce((a, b) => a + b, 0)) / 1048576 / n) * 100) /
        100,
      temporalServer: { pssPeakMiB: mib(peaks.temporal), cpuSeconds: Math.round(cpu.temporal) },
      postgres: { pssPeakMiB: mib(peaks.postgres), cpuSeconds: Math.round(cpu.postgres) },
      topologyStartSeconds: Math.round(topology.timings.total! / 100) / 10,
      loadAverage: { before: load0.map((x) => x.toFixed(2)), after: os.loadavg().map((x) => x.toFixed(2)) },
      cpus: os.cpus().length,
    };
    process.stdout.write(values.json ? `${JSON.stringify(summary)}\n` : `${JSON.stringify(summary, null, 2)}\n`);
    if (errors > 0 || outcomes < n) process.exitCode = 1;
  } finally {
    await connection.close().catch(() => undefined);
    s3.destroy();
    await topology.stop();
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
