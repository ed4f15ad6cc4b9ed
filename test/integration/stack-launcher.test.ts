/**
 * The stack command end to end, as a user runs it: `src/stack/main.ts --demo --no-ui` on free
 * ports and a temp state dir, until the demo release waits for approval; then Ctrl-C (SIGINT),
 * a clean exit and no server left behind; then a restart that resumes the same release.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { freePorts } from '../../src/stack';

const REPO = path.resolve(__dirname, '..', '..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-launcher-'));
const stateDir = path.join(tmp, 'state');
const spawned: ChildProcess[] = [];

interface Run {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function launch(env: Record<string, string>, args: string[]): Run {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, VIGIL_LOG_LEVEL: 'info', ...env };
  delete childEnv.VIGIL_API_TOKEN; // the stack must generate and persist its own
  delete childEnv.VIGIL_API_URL;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/stack/main.ts', ...args], {
    cwd: REPO,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  spawned.push(child);
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, output: () => out, exited };
}

async function waitForOutput(run: Run, pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void run.exited.then(() => (exited = true));
  while (Date.now() < deadline) {
    const m = run.output().match(pattern);
    if (m) return m;
    if (exited) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(
    `${exited ? 'stack exited' : `timed out after ${timeoutMs} ms`} waiting for ${pattern}; output:\n${run.output()}`,
  );
}

/** Every live descendant of `root`, from /proc (ppid links), with its command name. */
function descendants(root: number): Array<{ pid: number; comm: string }> {
  const parent = new Map<number, number>();
  const comm = new Map<number, string>();
  for (const entry of fs.readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      // pid (comm) state ppid ...: comm may contain spaces, so split after the last ')'.
      const close = stat.lastIndexOf(')');
      const [state, ppid] = stat.slice(close + 2).split(' ');
      if (state === 'Z') continue;
      parent.set(pid, Number(ppid));
      comm.set(pid, stat.slice(stat.indexOf('(') + 1, close));
    } catch {
      /* gone meanwhile */
    }
  }
  const found: Array<{ pid: number; comm: string }> = [];
  const frontier = [root];
  while (frontier.length > 0) {
    const p = frontier.pop()!;
    for (const [pid, pp] of parent) {
      if (pp === p) {
        found.push({ pid, comm: comm.get(pid) ?? '?' });
        frontier.push(pid);
      }
    }
  }
  return found;
}

function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

async function waitGone(pids: number[], timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  let left = pids.filter(alive);
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    left = left.filter(alive);
  }
  return left;
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>(
        (_, reject) => (timer = setTimeout(() => reject(new Error(`${what} took more than ${ms} ms`)), ms)),
      ),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

const APPROVE_QA = /bin\/vigil approve (\S+) --user dana\.qa --role qa .*--digest ([0-9a-f]{64})/;
const APPROVE_CLINICAL = /bin\/vigil approve (\S+) --user sam\.clin --role clinical .*--digest ([0-9a-f]{64})/;

describe('stack launcher (src/stack/main.ts)', () => {
  let env: Record<string, string>;
  let apiPort: number;
  let policyFile: string;
  let releaseId = '';
  let digest = '';

  after(async () => {
    for (const c of spawned) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('runs the demo to AWAITING_APPROVAL, prints matching approve commands, and stops cleanly on SIGINT', async (t) => {
    const [temporalPort, s3Port, port, gatewayPort] = (await freePorts(4)) as [number, number, number, number];
    apiPort = port;
    env = {
      VIGIL_STATE_DIR: stateDir,
      VIGIL_TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}`,
      VIGIL_S3_ENDPOINT: `http://127.0.0.1:${s3Port}`,
      VIGIL_API_PORT: String(apiPort),
      VIGIL_GATEWAY_PORT: String(gatewayPort),
    };
    const policy = parseYaml(fs.readFileSync(path.join(REPO, 'demo', 'policies', 'demo.yaml'), 'utf8')) as {
      shadow: { durationSeconds: number; cases: number; maxPsi?: number; minKappa?: number };
      canary: { steps: Array<{ bakeSeconds: number }> };
      monitoring: { intervalSeconds: number };
    };
    // SHADOW measures the stack's gateway traffic (100 requests/s): 2 s mirror a few hundred cases.
    policy.shadow.durationSeconds = 2;
    policy.shadow.cases = 50;
    // This file tests the launcher (start, approve commands, Ctrl-C, resume), not drift. SHADOW's drift gate alarms
    // on 1 % of no-shift windows by design (Holm at 0.01; test/unit/typed-drift.test.ts, bench:drift), which here
    // would fail an unrelated test about one run in a hundred: CI failed on exactly that (x2, adjusted p 0.0087).
    delete policy.shadow.maxPsi;
    // Likewise κ ≥ 0.6 (the demo's κ is 0.77): simulated on the demo cohort, chance fails 2 of 2,000 windows of 200
    // cases and 20 of 2,000 of 100, the size a slowed gateway can leave. Agreement (0.895 vs 0.80) stays: ≤ 0.1 %.
    delete policy.shadow.minKappa;
    for (const s of policy.canary.steps) s.bakeSeconds = 1;
    policy.monitoring.intervalSeconds = 1;
    policyFile = path.join(tmp, 'fast-policy.yaml');
    fs.writeFileSync(policyFile, stringifyYaml(policy));

    const started = Date.now();
    const run = launch(env, ['--demo', '--no-ui', '--policy', policyFile]);
    // Generous: a cold start (Temporal, SeaweedFS, bundling, SNAPSHOT to SHADOW) took 68 s at load 20; this fails a
    // wedged launcher, it does not time it (the diagnostics below do).
    const qa = await waitForOutput(run, APPROVE_QA, 300_000);
    const clinical = await waitForOutput(run, APPROVE_CLINICAL, 5_000);
    t.diagnostic(`cold start to AWAITING_APPROVAL: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    releaseId = qa[1]!;
    digest = qa[2]!;
    assert.equal(clinical[1], releaseId);
    assert.equal(clinical[2], digest);
    const out = run.output();
    assert.match(out, /bin\/vigil release watch \S+/);
    assert.match(
      out,
      new RegExp(`temporal workflow list --address ${env.VIGIL_TEMPORAL_ADDRESS} --query "VigilModel='sepsis-alert'"`),
    );
    for (const stage of ['SNAPSHOT', 'OFFLINE_EVAL', 'SHADOW', 'AWAITING_APPROVAL'])
      assert.match(out, new RegExp(`▶ ${stage}`));

    // The token was generated once and persisted privately.
    const tokenFile = path.join(stateDir, 'api-token');
    assert.equal(fs.statSync(tokenFile).mode & 0o777, 0o600);
    const token = fs.readFileSync(tokenFile, 'utf8').trim();
    assert.ok(token.length >= 32);

    // What was printed is what the API says.
    const res = await fetch(`http://127.0.0.1:${apiPort}/api/releases/${encodeURIComponent(releaseId)}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(res.status, 200);
    const status = (await res.json()) as { stage: string; dossier: { sha256: string } | null; pendingRoles: string[] };
    assert.equal(status.stage, 'AWAITING_APPROVAL');
    assert.equal(status.dossier?.sha256, digest);
    assert.deepEqual([...status.pendingRoles].sort(), ['clinical', 'qa']);
    assert.match(out, /Demo accounts \(config\/users\.example\.yaml.*dana\.qa \/ dana-demo-password/);

    // The demo API knows the demo accounts: the CLI's sign-off route checks the password (401), it is not unconfigured (503).
    const wrong = await fetch(`http://127.0.0.1:${apiPort}/api/releases/${encodeURIComponent(releaseId)}/signatures`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        username: 'dana.qa',
        password: 'not-her-password',
        role: 'qa',
        decision: 'approve',
        meaning: 'approved',
        reason: 'r',
        dossierSha256: digest,
      }),
    });
    assert.equal(wrong.status, 401);

    // The servers and the Node children run under the launcher.
    const tree = descendants(run.child.pid!);
    const names = tree.map((p) => p.comm);
    assert.ok(names.includes('weed'), `weed among ${names.join(', ')}`);
    assert.ok(names.includes('temporal'), `temporal among ${names.join(', ')}`);

    const stopAt = Date.now();
    run.child.kill('SIGINT');
    const { code, signal } = await withTimeout(run.exited, 60_000, 'shutdown after SIGINT');
    t.diagnostic(`shutdown: ${((Date.now() - stopAt) / 1000).toFixed(1)} s`);
    assert.equal(signal, null, run.output());
    assert.equal(code, 0, run.output());
    assert.match(run.output(), /\bstopped\s*$/);
    const left = await waitGone(
      tree.map((p) => p.pid),
      2_000,
    );
    assert.deepEqual(
      left,
      [],
      `left running: ${tree
        .filter((p) => left.includes(p.pid))
        .map((p) => `${p.comm}(${p.pid})`)
        .join(', ')}`,
    );
  });

  it('resumes the same release on restart with the persisted state and token', async (t) => {
    assert.ok(releaseId, 'needs the first test');
    const token = fs.readFileSync(path.join(stateDir, 'api-token'), 'utf8').trim();
    const started = Date.now();
    const run = launch(env, ['--demo', '--no-ui', '--policy', policyFile]);
    await waitForOutput(run, /already running: resuming/, 240_000);
    const qa = await waitForOutput(run, APPROVE_QA, 120_000);
    t.diagnostic(`warm start to AWAITING_APPROVAL: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    assert.equal(qa[1], releaseId);
    assert.equal(qa[2], digest);
    assert.equal(fs.readFileSync(path.join(stateDir, 'api-token'), 'utf8').trim(), token, 'token reused');

    const tree = descendants(run.child.pid!);
    run.child.kill('SIGTERM');
    const { code } = await withTimeout(run.exited, 60_000, 'shutdown after SIGTERM');
    assert.equal(code, 0, run.output());
    assert.deepEqual(
      await waitGone(
        tree.map((p) => p.pid),
        2_000,
      ),
      [],
    );
  });

  it('fails fast, naming the port, when a port is already in use', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve()));
    const busy = (blocker.address() as net.AddressInfo).port;
    const [temporalPort, s3Port] = (await freePorts(2)) as [number, number];
    try {
      const run = launch(
        {
          VIGIL_STATE_DIR: path.join(tmp, 'busy'),
          VIGIL_TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}`,
          VIGIL_S3_ENDPOINT: `http://127.0.0.1:${s3Port}`,
          VIGIL_API_PORT: String(busy),
        },
        ['--no-ui'],
      );
      // What is tested is that it exits naming the port before starting anything (below), not how soon: loading the
      // launcher (tsx) alone took 16-20 s at load 20-27.
      const { code } = await withTimeout(run.exited, 120_000, 'failing start-up');
      assert.notEqual(code, 0);
      assert.match(
        run.output(),
        new RegExp(`port ${busy} on 127\\.0\\.0\\.1 is already in use \\(needed for Vigil API`),
      );
      assert.doesNotMatch(run.output(), /starting Temporal/);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });
});
