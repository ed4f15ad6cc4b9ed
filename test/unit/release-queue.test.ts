/** The release queue's activities, its API side (TemporalReleaseQueue) and its entry schema, against fakes. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  type WorkflowStartOptions,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { WorkflowClientPort } from '../../src/contracts/temporal-clients';
import { createActivities } from '../../src/activities';
import { queueActivities } from '../../src/activities/queue';
import { startReleaseWorkflow } from '../../src/api/release-start';
import type { TemporalPort } from '../../src/api/temporal-port';
import type { QueueSignalPort } from '../../src/contracts/temporal-clients';
import { TemporalReleaseQueue } from '../../src/services/release-queue';
import { ErrorType, QueuedReleaseSchema, releaseQueueWorkflowId, type QueuedRelease } from '../../src/domain';
import { enqueueReleaseSignal, ORCHESTRATION_TASK_QUEUE } from '../../src/domain/messages';
import { createLogger } from '../../src/logging/logger';
import { validRequest } from '../support/fixtures';

const log = createLogger('test', 'silent');

/** Describes answer from `statuses[id]` in turn (the last one repeats); a missing id is "not found". */
function fakeClient(statuses: Record<string, string[]> = {}, opts: { alreadyStarted?: boolean } = {}) {
  const starts: Array<{ type: string; options: WorkflowStartOptions }> = [];
  const describes: string[] = [];
  const client: WorkflowClientPort = {
    workflow: {
      async start(type, options) {
        starts.push({ type, options });
        if (opts.alreadyStarted)
          throw new WorkflowExecutionAlreadyStartedError('already started', options.workflowId, type);
        return { firstExecutionRunId: 'run-1' };
      },
      getHandle(id) {
        return {
          async describe() {
            describes.push(id);
            const s = statuses[id];
            if (!s) throw new WorkflowNotFoundError('not found', id, undefined);
            const name = s.length > 1 ? s.shift()! : s[0]!;
            return { status: { name } };
          },
        };
      },
    },
  };
  return { client, starts, describes };
}

const entry = (): QueuedRelease => ({
  releaseId: 'sepsis-alert-aaaaaaaaaaaa-bbbbbbbb-2',
  modelName: 'sepsis-alert',
  deliveryKey: 'release:d-2',
  behind: ['sepsis-alert-aaaaaaaaaaaa-bbbbbbbb-1'],
  queuedAt: '2025-01-01T00:00:00.000Z',
  request: validRequest(),
});

async function failureOf(p: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ApplicationFailure, `expected ApplicationFailure, got ${String(e)}`);
    return e;
  }
  assert.fail('expected a failure');
}

describe('queue activities', () => {
  it('start a queued release with exactly the options the API starts releases with', async () => {
    const request = validRequest();
    const fromQueue = fakeClient();
    const out = await queueActivities({ temporal: fromQueue.client, log }).startQueuedRelease({
      releaseId: 'rel-1',
      request,
    });
    assert.deepEqual(out, { releaseId: 'rel-1', started: true, runId: 'run-1' });

    const fromApi: Array<{ type: string; options: WorkflowStartOptions }> = [];
    const api = {
      workflow: {
        start: async (type: string, options: WorkflowStartOptions) => (
          fromApi.push({ type, options }),
          { workflowId: 'rel-1', firstExecutionRunId: 'r' }
        ),
      },
    } as unknown as Pick<TemporalPort, 'workflow'>;
    await startReleaseWorkflow(api, request, 'rel-1', 'bump attempt');
    assert.deepEqual(fromQueue.starts, fromApi);
    assert.equal(fromQueue.starts[0]!.type, 'releaseLifecycle');
    assert.equal(fromQueue.starts[0]!.options.taskQueue, ORCHESTRATION_TASK_QUEUE);
  });

  it('count an id that is already taken as started (idempotent)', async () => {
    const { client } = fakeClient({}, { alreadyStarted: true });
    const out = await queueActivities({ temporal: client, log }).startQueuedRelease({
      releaseId: 'rel-1',
      request: validRequest(),
    });
    assert.deepEqual(out, { releaseId: 'rel-1', started: false, runId: null });
  });

  it('fail non-retryably, saying so, when the worker has no Temporal client', async () => {
    const acts = queueActivities({ log });
    for (const p of [
      acts.startQueuedRelease({ releaseId: 'rel-1', request: validRequest() }),
      acts.awaitReleasesClosed({ releaseIds: ['a'], maxWaitSeconds: 1, pollSeconds: 1 }),
    ]) {
      const f = await failureOf(p);
      assert.equal(f.type, ErrorType.NotConfigured);
      assert.equal(f.nonRetryable, true);
      assert.match(f.message, /no Temporal client/);
    }
  });

  it('wait until every release has closed: running is open; not found and terminal statuses are closed', async () => {
    const { client, describes } = fakeClient({
      a: ['RUNNING', 'RUNNING', 'COMPLETED'],
      b: ['TERMINATED'],
      c: ['FAILED'],
    });
    const heartbeats: unknown[] = [];
    const env = new MockActivityEnvironment();
    env.on('heartbeat', (d: unknown) => heartbeats.push(d));
    const acts = queueActivities({ temporal: client, log });
    const out = await env.run(acts.awaitReleasesClosed, {
      releaseIds: ['a', 'b', 'c', 'gone'],
      maxWaitSeconds: 30,
      pollSeconds: 0.01,
    });
    assert.deepEqual(out, { open: [] });
    assert.equal(describes.filter((id) => id === 'a').length, 3, 'a is polled until it closes');
    assert.equal(describes.filter((id) => id === 'b').length, 1, 'a closed release is not asked about again');
    assert.deepEqual(heartbeats, [{ open: ['a'] }, { open: ['a'] }, { open: [] }]);
  });

  it('give back what is still open when the wait slice ends', async () => {
    const { client } = fakeClient({ a: ['RUNNING'], b: ['COMPLETED'] });
    const acts = queueActivities({ temporal: client, log });
    const out = await new MockActivityEnvironment().run(acts.awaitReleasesClosed, {
      releaseIds: ['a', 'b'],
      maxWaitSeconds: 0.05,
      pollSeconds: 0.01,
    });
    assert.deepEqual(out, { open: ['a'] });
  });

  it('are registered with the worker beside the release activities', () => {
    const all = createActivities({ log } as Parameters<typeof createActivities>[0]);
    assert.equal(typeof all.awaitReleasesClosed, 'function');
    assert.equal(typeof all.startQueuedRelease, 'function');
    assert.equal(typeof all.appendChainEntry, 'function');
  });
});

describe('TemporalReleaseQueue', () => {
  it('signals the model queue workflow, starting it when it is not running', async () => {
    const calls: Array<{ type: string; options: Parameters<QueueSignalPort['workflow']['signalWithStart']>[1] }> = [];
    const queue = new TemporalReleaseQueue({
      workflow: { signalWithStart: async (type, options) => void calls.push({ type, options }) },
    });
    const e = entry();
    await queue.enqueue(e);
    assert.deepEqual(calls, [
      {
        type: 'releaseQueue',
        options: {
          workflowId: 'release-queue-sepsis-alert',
          taskQueue: ORCHESTRATION_TASK_QUEUE,
          signal: enqueueReleaseSignal,
          signalArgs: [e],
          args: [{ modelName: 'sepsis-alert' }],
        },
      },
    ]);
    assert.equal(enqueueReleaseSignal.name, 'enqueueRelease');
    assert.equal(releaseQueueWorkflowId('sepsis-alert'), 'release-queue-sepsis-alert');
  });
});

describe('QueuedReleaseSchema', () => {
  it('accepts what the webhook routes enqueue and refuses a request for another model', () => {
    assert.equal(QueuedReleaseSchema.safeParse(entry()).success, true);
    const foreign = { ...entry(), request: validRequest({ modelName: 'other-model' }) };
    const r = QueuedReleaseSchema.safeParse(foreign);
    assert.equal(r.success, false);
    assert.deepEqual(
      r.error?.issues.map((i) => i.path.join('.')),
      ['request.modelName'],
    );
    assert.equal(QueuedReleaseSchema.safeParse({ ...entry(), queuedAt: 'yesterday' }).success, false);
  });
});
