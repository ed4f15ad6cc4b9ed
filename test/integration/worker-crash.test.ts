/**
 * Durability: SIGKILL the worker process in the middle of stages, start a new one, and the release
 * finishes with the same decisions as an undisturbed run and without duplicate evidence.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { after, before, it } from 'node:test';
import { ListObjectVersionsCommand } from '@aws-sdk/client-s3';
import type { ReleaseStatus } from '../../src/domain';
import { approveReleaseUpdate, releaseStatusQuery } from '../../src/domain/messages';
import {
  demoRequest,
  fastPolicy,
  type Harness,
  reviewerApproval,
  startHarness,
  startRelease,
  waitFor,
} from '../support/harness';

const ROOT = path.resolve(__dirname, '../..');
let h: Harness;
const workers = new Set<ChildProcess>();

before(async () => {
  h = await startHarness({ worker: false });
});
after(async () => {
  for (const w of workers) w.kill('SIGKILL');
  await h?.stop();
});

/** A real worker process, as production runs it. Resolves once it polls. */
async function startWorker(): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/workers/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, ...h.env, VIGIL_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  workers.add(child);
  child.on('exit', () => workers.delete(child));
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker did not start:\n${out}`)), 60_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      if (out.includes('"worker started"')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => reject(new Error(`worker exited with ${code} during start:\n${out}`)));
  });
  return child;
}

async function kill(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

const signer = reviewerApproval;

type Handle = Awaited<ReturnType<typeof startRelease>>;
const status = (handle: Handle) => handle.query(releaseStatusQuery);
const inStage = (handle: Handle, stage: ReleaseStatus['stage']) =>
  waitFor(
    stage,
    async () => {
      const s = await status(handle);
      return s.stage === stage ? s : null;
    },
    90_000,
  );

async function approve(handle: Handle): Promise<void> {
  const s = await inStage(handle, 'AWAITING_APPROVAL');
  const digest = (await waitFor('dossier', async () => (await status(handle)).dossier ?? s.dossier))!.sha256;
  await handle.executeUpdate(approveReleaseUpdate, { args: [signer('qa', digest)] });
  await handle.executeUpdate(approveReleaseUpdate, { args: [signer('clinical', digest)] });
}

const decisions = (s: ReleaseStatus) => s.history.map((r) => ({ stage: r.stage, step: r.step, decision: r.decision }));

async function versionsUnder(prefix: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  let KeyMarker: string | undefined;
  let VersionIdMarker: string | undefined;
  do {
    const page = await h.s3.send(
      new ListObjectVersionsCommand({ Bucket: h.config.s3.bucket, Prefix: prefix, KeyMarker, VersionIdMarker }),
    );
    for (const v of page.Versions ?? []) counts.set(v.Key!, (counts.get(v.Key!) ?? 0) + 1);
    KeyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
    VersionIdMarker = page.IsTruncated ? page.NextVersionIdMarker : undefined;
  } while (KeyMarker);
  return counts;
}

it(
  'a release survives worker SIGKILLs mid-stage with identical decisions and no duplicate evidence',
  { timeout: 300_000 },
  async () => {
    const policy = await fastPolicy('demo.yaml', (p) => {
      p.shadow.durationSeconds = 4;
      for (const s of p.canary.steps) s.bakeSeconds = 4;
    });

    // Control: the same candidate, data and policy, undisturbed (attempt 1).
    let worker = await startWorker();
    const control = await startRelease(h, await demoRequest(h, policy, 1));
    await approve(control);
    assert.equal((await control.result()).outcome, 'RELEASED');
    const controlStatus = await status(control);

    // Disturbed run (attempt 2): kill during the shadow period and again during a canary bake.
    const disturbed = await startRelease(h, await demoRequest(h, policy, 2));
    await inStage(disturbed, 'SHADOW');
    await kill(worker);
    worker = await startWorker();
    await approve(disturbed);
    await inStage(disturbed, 'CANARY');
    await kill(worker);
    worker = await startWorker();
    const result = await disturbed.result();
    assert.equal(result.outcome, 'RELEASED', result.reason);

    const disturbedStatus = await status(disturbed);
    assert.deepEqual(
      decisions(disturbedStatus).map((d) => d.decision),
      decisions(controlStatus).map((d) => d.decision),
    );
    assert.deepEqual(
      disturbedStatus.history.map((r) => [r.stage, r.step]),
      controlStatus.history.map((r) => [r.stage, r.step]),
    );

    // Exactly one version of every chain entry and every content-addressed blob: no duplicates.
    const chain = await versionsUnder(`releases/${disturbed.workflowId}/chain/`);
    assert.equal(chain.size, result.chainHead!.seq + 1);
    const underRelease = await versionsUnder(`releases/${disturbed.workflowId}/`);
    assert.ok(
      [...underRelease.values()].every((n) => n === 1),
      `keys with several versions: ${JSON.stringify([...underRelease])}`,
    );
    const blobs = await versionsUnder('sha256/');
    const duplicated = [...blobs].filter(([, n]) => n > 1);
    assert.deepEqual(duplicated, []);
    await kill(worker);
  },
);
