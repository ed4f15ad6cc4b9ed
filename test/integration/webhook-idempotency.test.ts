/**
 * Webhook idempotency against a real Temporal dev server (no worker): the same signed delivery sent
 * ten times — and again after the in-memory ledger is emptied, as after an API restart — makes
 * exactly one workflow execution. The guarantee is the workflow id, not the ledger.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import type { Hono } from 'hono';
import { createApp } from '../../src/api';
import { InMemoryDeliveryLedger, parseWebhookConfig, signGitHub, signVigil } from '../../src/api/webhooks';
import { ReleasePolicySchema } from '../../src/domain';
import { createLogger } from '../../src/logging/logger';
import { startTestStack, type TestStack } from '../../src/stack';
import { hex64, validPolicy, validReleaseRequest } from '../support/fixtures';

const log = createLogger('webhook-idempotency-test', 'silent');
const GITHUB_SECRET = 'integration-github-secret-0123';
const RELEASE_SECRET = 'integration-release-secret-0123';
const COMMIT = '1111222233334444555566667777888899990000';

describe('webhook idempotency on a Temporal dev server', () => {
  let stack: TestStack;
  let connection: Connection;
  let client: Client;
  let app: Hono;
  const ledger = new InMemoryDeliveryLedger({ maxEntries: 100, ttlMs: 3600_000 });

  before(async () => {
    stack = await startTestStack({ seaweed: false });
    connection = await Connection.connect({ address: stack.temporalAddress! });
    client = new Client({ connection });
    const config = parseWebhookConfig(
      {
        version: 1,
        models: [
          {
            model: 'sepsis-alert',
            policyFile: 'p.yaml',
            incumbent: {
              version: '2.0.0',
              artifact: { key: 'models/sepsis-alert/2.0.0.json', sha256: hex64('incumbent') },
            },
            datasets: [
              { role: 'evaluation', name: 'eval', artifact: { key: 'datasets/eval.csv', sha256: hex64('eval') } },
            ],
            candidate: { keyTemplate: 'models/{model}/git-{commit}.json' },
            git: [{ provider: 'github', repository: 'acme/sepsis-model', branches: ['main'] }],
          },
        ],
      },
      () => ReleasePolicySchema.parse(validPolicy()),
    );
    app = createApp({
      client,
      config: { api: { host: '127.0.0.1', port: 0, url: 'http://x', token: undefined } },
      log,
      webhooks: {
        config,
        secrets: { github: GITHUB_SECRET, release: RELEASE_SECRET },
        resolver: {
          sha256Of: async (key) => (key === `models/sepsis-alert/git-${COMMIT}.json` ? hex64('git-candidate') : null),
        },
        ledger,
      },
    });
  });
  after(async () => {
    await connection?.close();
    await stack?.stop();
  });

  const executions = async (workflowId: string): Promise<string[]> => {
    const runs: string[] = [];
    for await (const wf of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runs.push(wf.runId);
    return runs;
  };

  /** Visibility is eventually consistent: wait until it shows at least one execution, then a little longer. */
  const settledExecutions = async (workflowId: string): Promise<string[]> => {
    for (let i = 0; i < 50; i++) {
      if ((await executions(workflowId)).length > 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 500));
    return executions(workflowId);
  };

  it('a GitHub push delivered 10 times (and again after the ledger is emptied) is one workflow execution', async () => {
    const body = JSON.stringify({
      ref: 'refs/heads/main',
      after: COMMIT,
      repository: { full_name: 'acme/sepsis-model', pushed_at: Math.floor(Date.now() / 1000) },
      pusher: { name: 'alice' },
    });
    const headers = {
      'content-type': 'application/json',
      'x-github-event': 'push',
      'x-github-delivery': 'b3f1c2d4-0000-4000-8000-000000000001',
      'x-hub-signature-256': signGitHub(GITHUB_SECRET, body),
    };
    const send = async () => {
      const res = await app.request('/webhooks/github', { method: 'POST', headers, body });
      return { status: res.status, body: (await res.json()) as { releaseId: string; runId?: string; error?: string } };
    };
    const answers = [];
    for (let i = 0; i < 10; i++) answers.push(await send());
    assert.equal(answers[0]!.status, 201, answers[0]!.body.error);
    assert.deepEqual(
      answers.slice(1).map((a) => a.status),
      Array(9).fill(202),
    );
    const releaseId = answers[0]!.body.releaseId;
    assert.ok(answers.every((a) => a.body.releaseId === releaseId));

    // An API restart forgets deliveries; Temporal does not. Sequential and concurrent redeliveries.
    ledger.clear();
    const restarted = await send();
    assert.equal(restarted.status, 200, restarted.body.error);
    assert.equal(restarted.body.runId, answers[0]!.body.runId);
    ledger.clear();
    const burst = await Promise.all(Array.from({ length: 10 }, send));
    assert.ok(
      burst.every((a) => a.status < 300 && a.body.releaseId === releaseId),
      JSON.stringify(burst),
    );

    assert.deepEqual(await settledExecutions(releaseId), [answers[0]!.body.runId]);
    const described = await client.workflow.getHandle(releaseId).describe();
    assert.equal(described.status.name, 'RUNNING');
    await client.workflow.getHandle(releaseId).terminate('test cleanup');
  });

  it('a signed generic release delivered 10 times with an empty ledger each time is one workflow execution', async () => {
    const body = JSON.stringify(validReleaseRequest({ modelName: 'other-model' }));
    const delivery = 'generic-delivery-1';
    const send = async () => {
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
      return { status: res.status, body: (await res.json()) as { releaseId: string; error?: string } };
    };
    const ids = new Set<string>();
    for (let i = 0; i < 10; i++) {
      ledger.clear();
      const a = await send();
      assert.ok(a.status === 201 || a.status === 200, `${a.status} ${a.body.error}`);
      ids.add(a.body.releaseId);
    }
    assert.equal(ids.size, 1);
    const [releaseId] = [...ids];
    assert.equal((await settledExecutions(releaseId!)).length, 1);
    await client.workflow.getHandle(releaseId!).terminate('test cleanup');

    // Once it has finished, a redelivery is refused (REJECT_DUPLICATE), never a second release.
    ledger.clear();
    const late = await send();
    assert.equal(late.status, 409);
    assert.match(late.body.error!, /already ran and has finished \(TERMINATED\)/);
    assert.equal((await executions(releaseId!)).length, 1);
  });
});
