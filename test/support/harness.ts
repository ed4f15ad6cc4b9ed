/**
 * Integration harness: a real Temporal dev server and real SeaweedFS (fresh, on free ports),
 * a Temporal client, the real evidence store, and optionally an in-process Vigil worker.
 */
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, type Worker } from '@temporalio/worker';
import type { ActivityDeps } from '../../src/activities';
import { loadConfig, type VigilConfig } from '../../src/config';
import {
  ReleaseRequestSchema,
  releaseIdFor,
  type ApprovalInput,
  type ReleasePolicy,
  type ReleaseRequest,
} from '../../src/domain';
import { ORCHESTRATION_TASK_QUEUE, SearchAttr } from '../../src/domain/messages';
import { canonicalBytes, createS3Client, EvidenceStore, sha256Hex } from '../../src/evidence';
import { DEMO_INCUMBENT, DEMO_MODEL_NAME } from '../../src/demo/artifacts';
import { loadPolicyFile, seedDemo, DEMO_DIR } from '../../src/demo/seed';
import { createLogger } from '../../src/logging/logger';
import { startTestStack, type TestStack } from '../../src/stack';
import { createVigilWorker, realActivityDeps } from '../../src/workers/create-worker';
import { installRuntimeLogger } from '../../src/workers/runtime';

export interface Harness {
  stack: TestStack;
  config: VigilConfig;
  env: Record<string, string>;
  client: Client;
  evidence: EvidenceStore;
  s3: ReturnType<typeof createS3Client>;
  deps: ActivityDeps;
  worker: Worker | null;
  searchAttr: typeof SearchAttr;
  stop(): Promise<void>;
}

let bundle: Promise<{ code: string }> | null = null;
/** Bundling takes seconds: once per process. */
export function workflowBundle(): Promise<{ code: string }> {
  bundle ??= bundleWorkflowCode({ workflowsPath: require.resolve('../../src/workflows'), logger: quietBundlerLogger });
  return bundle;
}
const noop = () => undefined;
const quietBundlerLogger = { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: noop };

export interface HarnessOptions {
  worker?: boolean;
  /** Replaces real activity dependencies (e.g. a traffic scenario, a notification receiver). */
  deps?: Partial<ActivityDeps>;
}

export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const log = createLogger('test', process.env.VIGIL_TEST_LOG_LEVEL ?? 'warn');
  installRuntimeLogger(log);
  const stack = await startTestStack();
  // Everything started after the stack is undone if a later step fails: a half-built harness would
  // leave servers running, and their child handles keep the test process (and CI) alive forever.
  const cleanups: Array<() => Promise<unknown> | unknown> = [() => stack.stop()];
  const undo = async (): Promise<void> => {
    for (const c of cleanups.splice(0).reverse())
      await Promise.resolve()
        .then(c)
        .catch(() => undefined);
  };
  try {
    return await buildHarness(stack, log, opts, cleanups, undo);
  } catch (err) {
    await undo();
    throw err;
  }
}

async function buildHarness(
  stack: TestStack,
  log: ReturnType<typeof createLogger>,
  opts: HarnessOptions,
  cleanups: Array<() => Promise<unknown> | unknown>,
  undo: () => Promise<void>,
): Promise<Harness> {
  const env: Record<string, string> = {
    VIGIL_TEMPORAL_ADDRESS: stack.temporalAddress!,
    VIGIL_S3_ENDPOINT: stack.s3Endpoint!,
    VIGIL_S3_ACCESS_KEY_ID: stack.credentials.accessKeyId,
    VIGIL_S3_SECRET_ACCESS_KEY: stack.credentials.secretAccessKey,
    VIGIL_S3_BUCKET: stack.bucket,
    VIGIL_RETENTION_MODE: 'COMPLIANCE',
    VIGIL_RETENTION_DAYS: '1',
    VIGIL_LOG_LEVEL: 'warn',
  };
  const config = loadConfig(env);
  // The frontend answered its health check, but on a loaded 2-core machine the first client
  // connect can still miss the default 10 s deadline: retry within a bounded window.
  const connection = await waitFor('a Temporal client connection', () =>
    Connection.connect({ address: config.temporal.address, connectTimeout: 15_000 }),
  );
  cleanups.push(() => connection.close());
  const client = new Client({ connection });
  const s3 = createS3Client(config.s3);
  cleanups.push(() => s3.destroy());
  const evidence = new EvidenceStore({ s3, bucket: config.s3.bucket, retention: config.retention });
  const real = await realActivityDeps(config, log);
  // A test's own traffic is observed only through the simulated live source built from it, not the one chosen at start.
  const { live: _chosen, ...withoutLive } = real;
  const deps: ActivityDeps = { ...(opts.deps?.traffic && !opts.deps.live ? withoutLive : real), ...opts.deps };
  let worker: Worker | null = null;
  if (opts.worker !== false) {
    const nativeConnection = await NativeConnection.connect({ address: config.temporal.address });
    cleanups.push(() => nativeConnection.close());
    const w = await createVigilWorker({
      connection: nativeConnection,
      namespace: 'default',
      deps,
      workflowBundle: await workflowBundle(),
    });
    const running = w.run();
    cleanups.push(async () => {
      if (w.getState() === 'RUNNING') w.shutdown();
      await running.catch(() => undefined);
    });
    worker = w;
  }
  return {
    stack,
    config,
    env,
    client,
    evidence,
    s3,
    deps,
    worker,
    searchAttr: SearchAttr,
    async stop() {
      await undo();
    },
  };
}

/** The demo policy with durations shortened for tests. */
export async function fastPolicy(
  file = 'demo.yaml',
  patch: (p: ReleasePolicy) => void = () => undefined,
): Promise<ReleasePolicy> {
  const p = await loadPolicyFile(path.join(DEMO_DIR, 'policies', file));
  p.shadow.durationSeconds = 1;
  for (const s of p.canary.steps) s.bakeSeconds = 1;
  p.monitoring.intervalSeconds = 1;
  patch(p);
  return p;
}

export async function demoRequest(
  h: Harness,
  policy: ReleasePolicy,
  attempt = 1,
  candidateVersion?: string,
): Promise<ReleaseRequest> {
  // Each test starts from the demo's world, production serving the demo incumbent: an earlier test in this stack
  // may have promoted a candidate, and SNAPSHOT refuses an incumbent that production does not serve.
  const serving = (await h.deps.routes.current(DEMO_MODEL_NAME))?.production;
  if (serving !== undefined && serving !== DEMO_INCUMBENT.version) {
    await h.deps.routes.apply(
      DEMO_MODEL_NAME,
      { version: 1, production: DEMO_INCUMBENT.version, canary: null, shadow: null },
      `test-setup:${DEMO_INCUMBENT.version}@${Date.now()}`,
    );
  }
  return ReleaseRequestSchema.parse(
    await seedDemo(h.evidence, policy, { attempt, ...(candidateVersion ? { candidateVersion } : {}) }),
  );
}

export async function startRelease(h: Harness, request: ReleaseRequest) {
  const releaseId = releaseIdFor(request, sha256Hex(canonicalBytes(request.policy)));
  return h.client.workflow.start('releaseLifecycle', {
    taskQueue: ORCHESTRATION_TASK_QUEUE,
    workflowId: releaseId,
    args: [request],
    typedSearchAttributes: [{ key: SearchAttr.model, value: request.modelName }],
  });
}

/** Poll a condition with a deadline; the last error or value is in the failure message. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false>,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v) return v;
      last = v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(
    `timed out waiting for ${what}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`,
  );
}

/** A reviewer's approval of the dossier with `digest` (signer `<role>.reviewer`, never the demo's submitter). */
export function reviewerApproval(role: 'qa' | 'clinical', digest: string): ApprovalInput {
  return {
    signer: `${role}.reviewer`,
    printedName: `${role} reviewer`,
    role,
    decision: 'approve',
    meaning: `approved as ${role} reviewer`,
    reason: 'evidence reviewed',
    dossierSha256: digest,
  };
}

/** The `vigil` CLI in-process against the harness's stack: exit code and captured output. */
export async function runCli(
  h: Pick<Harness, 'env'>,
  ...argv: string[]
): Promise<{ code: number; out: string; err: string }> {
  const { run } = await import('../../src/cli/program');
  let out = '';
  let err = '';
  const code = await run(argv, {
    env: h.env,
    stdout: (t) => (out += t),
    stderr: (t) => (err += t),
    readStdin: async () => '',
  });
  return { code, out, err };
}
