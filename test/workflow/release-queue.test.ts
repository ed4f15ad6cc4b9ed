/**
 * The per-model release queue workflow on the time-skipping test server, with hand-written queue
 * activities: releases "run" until a test closes them, and every start is recorded.
 */
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { QueueActivities } from '../../src/activities';
import {
  ErrorType,
  releaseQueueWorkflowId,
  type QueuedRelease,
  type ReleaseQueueInput,
  type ReleaseQueueStatus,
} from '../../src/domain';
import { enqueueReleaseSignal, releaseQueueStatusQuery } from '../../src/domain/messages';
import { validRequest } from '../support/fixtures';
import { waitFor as waitUpTo } from '../support/harness';
import { startTimeSkippingEnv, withWorker as withEnvWorker } from '../support/time-skipping';

let env: TestWorkflowEnvironment;

before(async () => {
  env = await startTimeSkippingEnv({ searchAttributes: false, logLevel: 'error' });
});
after(async () => {
  await env?.teardown();
});

/**
 * Typed fakes. `running` holds the releases that have not closed; a started release joins it unless
 * `closeOnStart`. The wait returns as soon as its releases closed, or after a short real-time slice.
 */
function fakeQueueActivities(opts: { running?: string[]; closeOnStart?: boolean; failStarts?: number } = {}) {
  const running = new Set(opts.running ?? []);
  const starts: string[] = [];
  const waits: string[][] = [];
  let failStarts = opts.failStarts ?? 0;
  const acts: QueueActivities = {
    async awaitReleasesClosed(input) {
      waits.push([...input.releaseIds]);
      const until = Date.now() + 500;
      while (Date.now() < until && input.releaseIds.some((id) => running.has(id))) await delay(10);
      return { open: input.releaseIds.filter((id) => running.has(id)) };
    },
    async startQueuedRelease(input) {
      if (failStarts > 0) {
        failStarts--;
        throw ApplicationFailure.nonRetryable(
          'this worker has no Temporal client: queued releases cannot be started here',
          ErrorType.NotConfigured,
        );
      }
      // The entry still carries the zod-validated request it was queued with.
      assert.equal(input.request.modelName, modelOf(input.releaseId));
      starts.push(input.releaseId);
      if (!opts.closeOnStart) running.add(input.releaseId);
      return { releaseId: input.releaseId, started: true, runId: `run-${input.releaseId}` };
    },
  };
  return { acts, starts, waits, close: (id: string) => running.delete(id) };
}

/** Release ids in these tests are `<model>--<name>`, so the fake can check the request's model. */
const modelOf = (releaseId: string) => releaseId.split('--')[0]!;
let models = 0;
const newModel = () => `queue-model-${++models}`;

function entry(model: string, name: string, behind: string[] = []): QueuedRelease {
  return {
    releaseId: `${model}--${name}`,
    modelName: model,
    deliveryKey: `release:${name}`,
    behind,
    queuedAt: '2025-01-01T00:00:00.000Z',
    request: validRequest({ modelName: model }),
  };
}

const withWorker = <T>(acts: QueueActivities, fn: (taskQueue: string) => Promise<T>): Promise<T> =>
  withEnvWorker(env, acts, fn);

function enqueue(taskQueue: string, model: string, e: unknown, options?: ReleaseQueueInput['options']) {
  return env.client.workflow.signalWithStart('releaseQueue', {
    workflowId: releaseQueueWorkflowId(model),
    taskQueue,
    signal: enqueueReleaseSignal,
    signalArgs: [e as QueuedRelease],
    args: [{ modelName: model, ...(options ? { options } : {}) } satisfies ReleaseQueueInput],
  });
}

/** Each step here takes well under a second: a missed one fails its test quickly. */
const waitFor = <T>(what: string, probe: () => Promise<T | undefined | null | false>) => waitUpTo(what, probe, 20_000);

const status = (model: string): Promise<ReleaseQueueStatus> =>
  env.client.workflow.getHandle(releaseQueueWorkflowId(model)).query(releaseQueueStatusQuery);

describe('release queue workflow (time skipping)', () => {
  it('starts entries first in, first out, each only after the releases ahead of it have closed', async () => {
    const model = newModel();
    const a = `${model}--a`;
    const fake = fakeQueueActivities({ running: [a] });
    await withWorker(fake.acts, async (tq) => {
      const handle = await enqueue(tq, model, entry(model, 'b', [a]));
      await enqueue(tq, model, entry(model, 'c', [a]));
      await waitFor('the queue to wait on the running release', async () => fake.waits.some((w) => w.includes(a)));
      const waiting = await status(model);
      assert.deepEqual(fake.starts, [], 'nothing starts while the release it was queued behind runs');
      assert.deepEqual(
        waiting.pending.map((p) => p.releaseId),
        [`${model}--b`, `${model}--c`],
      );
      assert.deepEqual(waiting.waitingOn, [a]);

      fake.close(a);
      await waitFor('b to start', async () => fake.starts.length > 0);
      // c was queued behind a only, but must also wait for b, which the queue started before it.
      await waitFor('the queue to wait on b', async () => (await status(model)).waitingOn.includes(`${model}--b`));
      assert.deepEqual(fake.starts, [`${model}--b`]);

      fake.close(`${model}--b`);
      await waitFor('c to start', async () => fake.starts.length > 1);
      fake.close(`${model}--c`);
      const result = await handle.result();
      assert.deepEqual(result.started, [`${model}--b`, `${model}--c`]);
      assert.deepEqual(fake.starts, [`${model}--b`, `${model}--c`]);
    });
  });

  it('starts a release once however often it is enqueued (pending or already started)', async () => {
    const model = newModel();
    const a = `${model}--a`;
    const fake = fakeQueueActivities({ running: [a], closeOnStart: true });
    await withWorker(fake.acts, async (tq) => {
      const handle = await enqueue(tq, model, entry(model, 'x', [a]));
      await enqueue(tq, model, entry(model, 'x', [a]));
      await enqueue(tq, model, entry(model, 'y', [a]));
      await enqueue(tq, model, { ...entry(model, 'x', []), deliveryKey: 'github:redelivered' });
      await waitFor('the queue to wait on a', async () => fake.waits.length > 0);
      assert.deepEqual(
        (await status(model)).pending.map((p) => p.releaseId),
        [`${model}--x`, `${model}--y`],
      );
      fake.close(a);
      await waitFor('x and y to start', async () => fake.starts.length === 2);
      await enqueue(tq, model, entry(model, 'x', []));
      await handle.result();
      assert.deepEqual(fake.starts, [`${model}--x`, `${model}--y`]);
    });
  });

  it('continues as new with its pending entries, which the next run starts in order', async () => {
    const model = newModel();
    const a = `${model}--a`;
    const fake = fakeQueueActivities({ running: [a], closeOnStart: true });
    await withWorker(fake.acts, async (tq) => {
      const first = await enqueue(tq, model, entry(model, 'e1', [a]), { maxEntriesPerRun: 1 });
      await enqueue(tq, model, entry(model, 'e2'));
      await enqueue(tq, model, entry(model, 'e3'));
      await waitFor('the queue to wait on a', async () => fake.waits.length > 0);
      fake.close(a);

      // e2 and e3 were signalled to the first run only: they start only if continue-as-new carried them.
      const handle = env.client.workflow.getHandle(releaseQueueWorkflowId(model));
      const result = await handle.result();
      assert.deepEqual(fake.starts, [`${model}--e1`, `${model}--e2`, `${model}--e3`]);
      assert.deepEqual(result.started, [`${model}--e3`], 'the last run started only the last entry');
      assert.equal(
        (await env.client.workflow.getHandle(first.workflowId, first.signaledRunId).describe()).status.name,
        'CONTINUED_AS_NEW',
      );
      // The carried "last started" release is waited for before the next entry starts.
      assert.ok(
        fake.waits.some((w) => w.includes(`${model}--e1`)),
        `waits: ${JSON.stringify(fake.waits)}`,
      );
    });
  });

  it('completes after an idle hour of workflow time, and a later signal starts a fresh queue', async () => {
    const model = newModel();
    const fake = fakeQueueActivities({ closeOnStart: true });
    await withWorker(fake.acts, async (tq) => {
      const handle = await enqueue(tq, model, entry(model, 'first'));
      await waitFor('first to start', async () => fake.starts.length === 1);
      const result = await handle.result();
      assert.deepEqual(result, { modelName: model, started: [`${model}--first`], reason: 'idle' });
      const d = await env.client.workflow.getHandle(handle.workflowId, handle.signaledRunId).describe();
      assert.equal(d.status.name, 'COMPLETED');
      const ranFor = d.closeTime!.getTime() - d.startTime.getTime();
      assert.ok(ranFor >= 3600_000, `completed after ${ranFor} ms of workflow time, before the idle hour`);

      const again = await enqueue(tq, model, entry(model, 'second'));
      assert.notEqual(again.signaledRunId, handle.signaledRunId);
      assert.deepEqual((await again.result()).started, [`${model}--second`]);
    });
  });

  it('drops invalid signals without failing and goes on serving valid ones', async () => {
    const model = newModel();
    const fake = fakeQueueActivities({ closeOnStart: true });
    const good = entry(model, 'good');
    await withWorker(fake.acts, async (tq) => {
      const handle = await enqueue(tq, model, { releaseId: 42 });
      await enqueue(tq, model, entry('another-model', 'foreign'));
      await enqueue(tq, model, {
        ...good,
        releaseId: `${model}--mismatch`,
        request: validRequest({ modelName: 'another-model' }),
      });
      await enqueue(tq, model, {
        ...good,
        releaseId: `${model}--bad-commit`,
        request: { ...good.request, codeCommit: 'not-a-commit' },
      });
      await enqueue(tq, model, { ...good, releaseId: `${model}--no-request`, request: undefined });
      const after = await status(model);
      assert.deepEqual(after.pending, []);
      assert.equal((await handle.describe()).status.name, 'RUNNING');

      await enqueue(tq, model, good);
      const result = await handle.result();
      assert.deepEqual(result.started, [good.releaseId]);
      assert.deepEqual(fake.starts, [good.releaseId]);
    });
  });

  it('keeps an entry whose start failed for good and retries it later instead of failing', async () => {
    const model = newModel();
    const fake = fakeQueueActivities({ closeOnStart: true, failStarts: 1 });
    await withWorker(fake.acts, async (tq) => {
      const handle = await enqueue(tq, model, entry(model, 'x'));
      const blocked = await waitFor('the queue to report the failed start', async () => (await status(model)).blocked);
      assert.match(blocked, /starting .*--x: this worker has no Temporal client/);
      assert.deepEqual(
        (await status(model)).pending.map((p) => p.releaseId),
        [`${model}--x`],
      );
      const result = await handle.result();
      assert.deepEqual(result.started, [`${model}--x`]);
      assert.deepEqual(fake.starts, [`${model}--x`]);
    });
  });
});
