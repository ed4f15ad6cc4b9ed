/**
 * The API against a real Temporal dev server, with no worker: proves what the unit tests' fake can
 * only assume — how the server answers USE_EXISTING starts, REJECT_DUPLICATE re-starts, and an
 * Update sent to a closed workflow.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import type { Hono } from 'hono';
import { createApp } from '../../src/api';
import { createLogger } from '../../src/logging/logger';
import { startTestStack, type TestStack } from '../../src/stack';
import { validApproval, validReleaseRequest } from '../support/fixtures';

const log = createLogger('api-temporal-test', 'silent');
const TOKEN = 'integration-token-0123456789';

interface Body {
  error: string;
  releaseId: string;
  runId: string;
  started: boolean;
  releases: Array<{ releaseId: string; model: string | null; stage: string | null; status: string }>;
}

describe('API on a Temporal dev server (no worker)', () => {
  let stack: TestStack;
  let connection: Connection;
  let client: Client;
  let app: Hono;

  const send = async (method: string, path: string, body?: unknown): Promise<{ status: number; body: Body }> => {
    const res = await app.request(path, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Body };
  };

  before(async () => {
    stack = await startTestStack({ seaweed: false });
    connection = await Connection.connect({ address: stack.temporalAddress! });
    client = new Client({ connection });
    app = createApp({ client, config: { api: { host: '127.0.0.1', port: 0, url: 'http://x', token: TOKEN } }, log });
  });
  after(async () => {
    await connection?.close();
    await stack?.stop();
  });

  it('starts once, joins the running release, and refuses a finished one with advice to bump attempt', async () => {
    const request = validReleaseRequest();
    const first = await send('POST', '/api/releases', request);
    assert.equal(first.status, 201, first.body.error);
    assert.equal(first.body.started, true);

    const again = await send('POST', '/api/releases', request);
    assert.equal(again.status, 200, again.body.error);
    assert.deepEqual(again.body, { ...first.body, started: false });

    // Visibility is eventually consistent: wait for the start-time search attributes to show.
    let listed: Body['releases'][number] | undefined;
    for (let i = 0; i < 50 && !listed; i++) {
      listed = (await send('GET', '/api/releases')).body.releases.find((r) => r.releaseId === first.body.releaseId);
      if (!listed) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(listed, 'the release is listed');
    assert.equal(listed.model, 'sepsis-alert');
    assert.equal(listed.stage, 'SNAPSHOT');
    assert.equal(listed.status, 'RUNNING');

    await client.workflow.getHandle(first.body.releaseId).terminate('test: end the release');

    const closed = await send('POST', '/api/releases', request);
    assert.equal(closed.status, 409);
    assert.match(closed.body.error, /already ran and has finished \(TERMINATED\).*"attempt": 2/);

    const approval = await send('POST', `/api/releases/${first.body.releaseId}/approvals`, validApproval());
    assert.equal(approval.status, 409, approval.body.error);
    assert.equal(approval.body.error, `release ${first.body.releaseId} has already finished (TERMINATED)`);

    const nextAttempt = await send('POST', '/api/releases', { ...request, attempt: 2 });
    assert.equal(nextAttempt.status, 201, nextAttempt.body.error);
    assert.match(nextAttempt.body.releaseId, /-2$/);
    await client.workflow.getHandle(nextAttempt.body.releaseId).terminate('test: cleanup');
  });

  it('answers 404 for an unknown release, for status and for approvals', async () => {
    assert.equal((await send('GET', '/api/releases/no-such-release')).status, 404);
    assert.equal((await send('POST', '/api/releases/no-such-release/approvals', validApproval())).status, 404);
  });

  it('reports health from the real frontend', async () => {
    const res = await app.request('/healthz');
    assert.equal(res.status, 200);
  });
});
