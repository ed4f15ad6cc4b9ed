/**
 * Queued candidates are started durably, on the real stack (Temporal dev server, SeaweedFS, the real Vigil
 * worker): a second candidate delivered through the webhook while the first release waits for sign-off
 * is queued in the model's `releaseQueue` workflow, and started by it once the first release has closed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { Hono } from 'hono';
import { createApp } from '../../src/api';
import { TemporalReleaseQueue } from '../../src/services/release-queue';
import { signVigil } from '../../src/services/webhook-signatures';
import { releaseIdFor, releaseQueueWorkflowId, type ReleaseRequest, type ReleaseStatus } from '../../src/domain';
import {
  approveReleaseUpdate,
  ORCHESTRATION_TASK_QUEUE,
  releaseQueueStatusQuery,
  releaseStatusQuery,
  SearchAttr,
} from '../../src/domain/messages';
import { canonicalBytes, sha256Hex } from '../../src/evidence';
import { createLogger } from '../../src/logging/logger';
import { demoRequest, fastPolicy, startHarness, startRelease, waitFor, type Harness } from '../support/harness';

const RELEASE_SECRET = 'integration-release-queue-secret-0123';
let h: Harness;
let app: Hono;

before(async () => {
  h = await startHarness();
  app = createApp({
    client: h.client,
    config: { api: { host: '127.0.0.1', port: 0, url: 'http://x', token: undefined } },
    log: createLogger('release-queue-test', 'silent'),
    webhooks: {
      config: { models: [] },
      secrets: { release: RELEASE_SECRET },
      resolver: { sha256Of: async () => null },
      queue: new TemporalReleaseQueue(h.client),
    },
  });
});
after(async () => {
  await h?.stop();
});

async function deliver(request: ReleaseRequest, delivery: string) {
  const body = JSON.stringify(request);
  const ts = String(Math.floor(Date.now() / 1000));
  const res = await app.request('/webhooks/release', {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-vigil-delivery': delivery,
      'x-vigil-timestamp': ts,
      'x-vigil-signature': signVigil(RELEASE_SECRET, ts, delivery, body),
    },
    body,
  });
  return {
    status: res.status,
    body: (await res.json()) as { releaseId: string; queued?: boolean; behind?: string[]; error?: string },
  };
}

const idOf = (r: ReleaseRequest) => releaseIdFor(r, sha256Hex(canonicalBytes(r.policy)));

describe('release queue on the real stack', () => {
  it('starts a queued candidate after the release ahead of it closes, with the API start options', async () => {
    const policy = await fastPolicy();
    const firstRequest = await demoRequest(h, policy, 11);
    const secondRequest = await demoRequest(h, policy, 12);
    const first = await startRelease(h, firstRequest);
    const waiting = await waitFor('the first release to await approval', async () => {
      const s = await first.query(releaseStatusQuery);
      assert.equal(s.outcome, null, `first release ended early: ${s.reason}`);
      return s.stage === 'AWAITING_APPROVAL' && s.dossier ? s : null;
    });

    // The in-flight list comes from visibility (eventually consistent): by now it shows the first release.
    const queued = await deliver(secondRequest, 'queue-it-2');
    assert.equal(queued.status, 202, queued.body.error);
    const secondId = idOf(secondRequest);
    assert.deepEqual(
      [queued.body.releaseId, queued.body.queued, queued.body.behind],
      [secondId, true, [first.workflowId]],
    );

    const queue = h.client.workflow.getHandle(releaseQueueWorkflowId(firstRequest.modelName));
    const status = await waitFor('the queue to wait on the first release', async () => {
      const s = await queue.query(releaseQueueStatusQuery);
      return s.waitingOn.includes(first.workflowId) ? s : null;
    });
    assert.deepEqual(
      status.pending.map((p) => [p.releaseId, p.deliveryKey]),
      [[secondId, 'release:queue-it-2']],
    );
    await assert.rejects(
      h.client.workflow.getHandle(secondId).describe(),
      WorkflowNotFoundError,
      'queued, not started, while the first release runs',
    );

    await first.executeUpdate(approveReleaseUpdate, {
      args: [
        {
          signer: 'dana.qa',
          printedName: 'Dana Whitfield',
          role: 'qa',
          decision: 'reject',
          meaning: 'rejected as quality reviewer',
          reason: 'superseded by the queued candidate',
          dossierSha256: waiting.dossier!.sha256,
        },
      ],
    });
    assert.equal((await first.result()).outcome, 'REJECTED');

    // Started by the queue workflow (poll interval 5 s), exactly as the API starts releases.
    const second = h.client.workflow.getHandle(secondId);
    const described = await waitFor('the queued release to start', () => second.describe(), 90_000);
    assert.equal(described.type, 'releaseLifecycle');
    assert.equal(described.taskQueue, ORCHESTRATION_TASK_QUEUE);
    assert.equal(described.typedSearchAttributes.get(SearchAttr.model), secondRequest.modelName);
    const progressed: ReleaseStatus = await waitFor(
      'the queued release to pass SNAPSHOT and OFFLINE_EVAL',
      async () => {
        const s = await second.query(releaseStatusQuery);
        assert.equal(s.outcome, null, `queued release ended early: ${s.reason}`);
        return s.history.some((r) => r.stage === 'OFFLINE_EVAL' && r.decision?.verdict === 'pass') ? s : null;
      },
      120_000,
    );
    assert.equal(progressed.releaseId, secondId);
    assert.deepEqual(
      progressed.history.slice(0, 2).map((r) => [r.stage, r.decision?.verdict]),
      [
        ['SNAPSHOT', 'pass'],
        ['OFFLINE_EVAL', 'pass'],
      ],
    );

    const after = await queue.query(releaseQueueStatusQuery);
    assert.deepEqual([after.pending, after.lastStarted, after.started], [[], secondId, [secondId]]);
    await second.terminate('test cleanup');
  });
});
