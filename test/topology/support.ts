/**
 * Driving releases on the production topology (src/topology) from outside, as users and operators do: the JSON API
 * through nginx (or one replica), `vigil audit`, and S3 for the evidence chain.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { Client, Connection } from '@temporalio/client';
import { run } from '../../src/cli/program';
import { chainKey } from '../../src/contracts/evidence-keys';
import { DEMO_INCUMBENT, DEMO_MODEL_NAME } from '../../src/demo/artifacts';
import { seedDemo } from '../../src/demo/seed';
import { ChainEntrySchema, ReleaseRequestSchema, type ReleasePolicy, type ReleaseStatus } from '../../src/domain';
import { createS3Client, EvidenceStore, sha256Hex } from '../../src/evidence';
import { S3RouteStore } from '../../src/gateway/route-store';
import { createLogger } from '../../src/logging/logger';
import { startTopology, type Topology, type TopologyOptions } from '../../src/topology';
import { waitFor } from '../support/harness';

/** The demo's published accounts (config/users.example.yaml): one per signing role, neither the submitter. */
export const SIGNERS = {
  qa: { username: 'dana.qa', password: 'dana-demo-password' },
  clinical: { username: 'sam.clin', password: 'sam-demo-password' },
} as const;

export interface TopologyRig {
  topology: Topology;
  s3: ReturnType<typeof createS3Client>;
  evidence: EvidenceStore;
  routes: S3RouteStore;
  /** A Temporal client, for what only Temporal knows (which worker ran a task). */
  temporal: Client;
  stop(): Promise<void>;
}

/** The topology in a temp dir, with a writer's S3 client (to seed the demo) and a Temporal client. */
export async function startRig(opts: Pick<TopologyOptions, 'env'> = {}): Promise<TopologyRig> {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-topology-'));
  const log = createLogger('topology-test', process.env.VIGIL_TEST_LOG_LEVEL ?? 'warn');
  let topology: Topology;
  try {
    topology = await startTopology({ stateDir, log, ...opts });
  } catch (err) {
    fs.rmSync(stateDir, { recursive: true, force: true });
    throw err;
  }
  process.stdout.write(`# topology started in ${topology.timings.total} ms: ${JSON.stringify(topology.timings)}\n`);
  const s3 = createS3Client(topology.s3Config);
  const evidence = new EvidenceStore({
    s3,
    bucket: topology.s3Config.bucket,
    retention: { mode: 'COMPLIANCE', days: 1 },
  });
  const connection = await Connection.connect({ address: topology.temporal.address, connectTimeout: 15_000 });
  const temporal = new Client({ connection });
  return {
    topology,
    s3,
    evidence,
    routes: new S3RouteStore(s3, topology.s3Config.bucket),
    temporal,
    async stop() {
      await connection.close().catch(() => undefined);
      s3.destroy();
      await topology.stop();
      if (!process.env.VIGIL_TOPOLOGY_KEEP) fs.rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

/** JSON API call with the service token; `base` is nginx unless a replica is named. */
export async function api(
  rig: TopologyRig,
  method: 'GET' | 'POST',
  route: string,
  body?: unknown,
  base = rig.topology.apiUrl,
): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${base}/api${route}`, {
    method,
    headers: {
      authorization: `Bearer ${rig.topology.apiToken}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(120_000),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* an nginx error page */
  }
  return { status: res.status, body: parsed };
}

/** Seed the demo's artifacts (production back on the incumbent first) and start the release through nginx. */
export async function startDemoRelease(rig: TopologyRig, policy: ReleasePolicy, attempt: number): Promise<string> {
  const serving = (await rig.routes.current(DEMO_MODEL_NAME))?.production;
  if (serving !== undefined && serving !== DEMO_INCUMBENT.version) {
    await rig.routes.apply(
      DEMO_MODEL_NAME,
      { version: 1, production: DEMO_INCUMBENT.version, canary: null, shadow: null },
      `test-setup:${DEMO_INCUMBENT.version}@${Date.now()}`,
    );
  }
  const request = ReleaseRequestSchema.parse(await seedDemo(rig.evidence, policy, { attempt }));
  const res = await api(rig, 'POST', '/releases', request);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return (res.body as { releaseId: string }).releaseId;
}

/** The release's status as the API reports it (GET /api/releases/:id through nginx). */
export async function status(rig: TopologyRig, releaseId: string, base?: string): Promise<ReleaseStatus> {
  const res = await api(rig, 'GET', `/releases/${encodeURIComponent(releaseId)}`, undefined, base);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body as ReleaseStatus;
}

/** Wait until the release is in `stage` (failing at once if it ended instead). */
export function inStage(
  rig: TopologyRig,
  releaseId: string,
  stage: ReleaseStatus['stage'],
  timeoutMs = 240_000,
): Promise<ReleaseStatus> {
  return waitFor(
    `${releaseId} in ${stage}`,
    async () => {
      const s = await status(rig, releaseId);
      if (s.outcome !== null && s.stage !== stage) assert.fail(`release ended ${s.outcome} (${s.reason})`);
      return s.stage === stage && (stage !== 'AWAITING_APPROVAL' || s.dossier) ? s : null;
    },
    timeoutMs,
  );
}

/** Wait for the release's outcome. */
export function finished(rig: TopologyRig, releaseId: string, timeoutMs = 240_000): Promise<ReleaseStatus> {
  return waitFor(
    `${releaseId} finished`,
    async () => {
      const s = await status(rig, releaseId);
      return s.outcome !== null ? s : null;
    },
    timeoutMs,
  );
}

/** The headless e-signature (POST /api/releases/:id/signatures), as `vigil approve` sends it. */
export function signature(role: keyof typeof SIGNERS, dossierSha256: string) {
  return {
    ...SIGNERS[role],
    role,
    decision: 'approve' as const,
    meaning: 'approved',
    reason: 'evidence reviewed',
    dossierSha256,
  };
}

/**
 * Sign, retrying what a client retries: nginx's 502/504 (the replica died under the request) and a refused
 * connection. Signing is idempotent (src/api/sign-off.ts), so a repeat after a lost answer is safe.
 */
export async function signWithRetry(
  rig: TopologyRig,
  releaseId: string,
  role: keyof typeof SIGNERS,
  digest: string,
  base?: string,
): Promise<{ attempts: Array<number | string>; final: { status: number; body: unknown } }> {
  const attempts: Array<number | string> = [];
  for (let i = 0; i < 5; i++) {
    try {
      const res = await api(rig, 'POST', `/releases/${releaseId}/signatures`, signature(role, digest), base);
      attempts.push(res.status);
      if (![502, 503, 504].includes(res.status)) return { attempts, final: res };
    } catch (err) {
      attempts.push(String((err as Error).message));
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  assert.fail(`signing as ${role} kept failing: ${JSON.stringify(attempts)}`);
}

/** Read every chain entry back and check each links to its predecessor; returns the stages in order. */
export async function chainStages(rig: TopologyRig, releaseId: string): Promise<string[]> {
  const listed = await rig.s3.send(
    new ListObjectsV2Command({ Bucket: rig.topology.s3Config.bucket, Prefix: `releases/${releaseId}/chain/` }),
  );
  const keys = (listed.Contents ?? []).map((o) => o.Key!).sort();
  const stages: string[] = [];
  let prev: string | null = null;
  for (const [seq, key] of keys.entries()) {
    assert.equal(key, chainKey(releaseId, seq), 'chain keys are contiguous from 0');
    const bytes = await rig.evidence.getBytes(key);
    const entry = ChainEntrySchema.parse(JSON.parse(bytes.toString('utf8')));
    assert.equal(entry.seq, seq);
    assert.equal(entry.prevEntryDigest, prev, `chain entry ${seq} must link to its predecessor`);
    prev = sha256Hex(bytes);
    stages.push(entry.stage);
  }
  return stages;
}

/** `vigil audit <id> --json` against the topology (Temporal, the read-only S3 identity); its failed checks. */
export async function audit(rig: TopologyRig, releaseId: string): Promise<{ code: number; failed: string[] }> {
  let out = '';
  let err = '';
  const code = await run(['audit', releaseId, '--json'], {
    env: rig.topology.cliEnv,
    stdout: (t) => (out += t),
    stderr: (t) => (err += t),
    readStdin: async () => '',
  });
  let report: { checks: Array<{ id: string; passed: boolean; findings: unknown }> };
  try {
    report = JSON.parse(out) as typeof report;
  } catch {
    assert.fail(`vigil audit printed no report (exit ${code}): ${err}`);
  }
  return {
    code,
    failed: report.checks.filter((c) => !c.passed).map((c) => `${c.id}: ${JSON.stringify(c.findings)}`),
  };
}

/**
 * The decisions a release made, stage by stage (what an undisturbed and a disturbed run must share): every measured
 * decision whole; sign-off by its verdict only, since its reasons list the signers in the order they signed.
 */
export function decisions(s: ReleaseStatus): Array<[string, number | null, unknown]> {
  return s.history.map((r) => [r.stage, r.step, r.stage === 'AWAITING_APPROVAL' ? r.decision?.verdict : r.decision]);
}

/** A web session: the cookie a replica set at sign-in (a session id; the session itself is in shared state). */
export interface WebSession {
  cookie: string;
}

/** Sign in through the web UI at `base`; the session cookie, or the status of a refusal. */
export async function webLogin(
  base: string,
  username: string,
  password: string,
): Promise<{ session: WebSession | null; status: number }> {
  const res = await fetch(`${base}/ui/login`, {
    method: 'POST',
    body: new URLSearchParams({ username, password, next: '/ui/inbox' }),
    redirect: 'manual',
    signal: AbortSignal.timeout(60_000),
  });
  await res.body?.cancel();
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith('vigil_session='));
  return { session: res.status === 303 && cookie ? { cookie: cookie.split(';')[0]! } : null, status: res.status };
}

/**
 * Sign from the web UI at `base` as the session's user: the release page (its sign form's CSRF token), then the
 * form with the password again (21 CFR 11.200(a)(1)). Returns the answer's status and page.
 */
export async function webSign(
  base: string,
  session: WebSession,
  releaseId: string,
  form: { role: string; meaning: string; reason: string; password: string; dossierSha256: string },
): Promise<{ status: number; page: string }> {
  const pagePath = `/ui/releases/${encodeURIComponent(releaseId)}`;
  const page = await fetch(`${base}${pagePath}`, {
    headers: { cookie: session.cookie },
    signal: AbortSignal.timeout(60_000),
  });
  const html = await page.text();
  assert.equal(page.status, 200, `the release page through ${base} refused the session: ${html.slice(0, 300)}`);
  const csrf = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
  assert.ok(csrf, `no sign form with a CSRF token on ${base}${pagePath}`);
  const res = await fetch(`${base}${pagePath}/sign`, {
    method: 'POST',
    headers: { cookie: session.cookie },
    body: new URLSearchParams({ _csrf: csrf, decision: 'approve', ...form }),
    redirect: 'manual',
    signal: AbortSignal.timeout(120_000),
  });
  return { status: res.status, page: await res.text() };
}
