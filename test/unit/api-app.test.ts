import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ApplicationFailure,
  ServiceError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type WorkflowExecutionDescription,
  type WorkflowExecutionInfo,
  type WorkflowStartOptions,
} from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import { createApp, type ReleaseHandle, type TemporalPort } from '../../src/api';
import { ErrorType, releaseIdFor, type ApprovalInput, type ApprovalResult, type ReleaseStatus } from '../../src/domain';
import { ORCHESTRATION_TASK_QUEUE, SearchAttr } from '../../src/domain/messages';
import { canonicalBytes, sha256Hex } from '../../src/evidence/canonical-json';
import { createLogger } from '../../src/logging/logger';
import { hex64, validApproval, validReleaseRequest } from '../support/fixtures';

/** The JSON bodies this API answers with, loosely: enough for assertions. */
interface Body {
  error: string;
  type?: string;
  issues: Array<{ path: string; message: string }>;
  releases: unknown[];
  ok?: boolean;
  [k: string]: unknown;
}
const json = async (res: Response): Promise<Body> => (await res.json()) as Body;

const TOKEN = 'test-token-0123456789abcdef';
const log = createLogger('api-test', 'silent');

type Outcome<T> = T | Error;
const settle = async <T>(o: Outcome<T> | undefined, what: string): Promise<T> => {
  if (o === undefined) throw new Error(`fake: no ${what} scripted`);
  if (o instanceof Error) throw o;
  return o;
};

function description(runId: string, status: string, outcome?: string): WorkflowExecutionDescription {
  const attrs = new TypedSearchAttributes(outcome ? [{ key: SearchAttr.outcome, value: outcome }] : []);
  return { runId, status: { name: status }, typedSearchAttributes: attrs } as unknown as WorkflowExecutionDescription;
}

/** A hand-written stand-in for the Temporal client: scripted answers, recorded calls. */
class FakeTemporal implements TemporalPort {
  starts: WorkflowStartOptions[] = [];
  updates: Array<{ workflowId: string; input: ApprovalInput }> = [];
  describeAnswer: Outcome<WorkflowExecutionDescription> = new WorkflowNotFoundError('not found', 'x', undefined);
  startAnswer: Outcome<string> = 'run-1';
  queryAnswer: Outcome<ReleaseStatus> | undefined;
  updateAnswer: Outcome<ApprovalResult> | undefined;
  listAnswer: WorkflowExecutionInfo[] = [];
  healthy = true;

  workflow = {
    start: async (_type: 'releaseLifecycle', options: WorkflowStartOptions) => {
      this.starts.push(options);
      const runId = await settle(this.startAnswer, 'start');
      return { workflowId: options.workflowId, firstExecutionRunId: runId };
    },
    getHandle: (workflowId: string): ReleaseHandle => ({
      workflowId,
      describe: () => settle(this.describeAnswer, 'describe'),
      query: () => settle(this.queryAnswer, 'query'),
      // One fake for both Update overloads; the API only sends approvals through these routes.
      executeUpdate: ((_def: unknown, options: { args: [ApprovalInput] }) => {
        this.updates.push({ workflowId, input: options.args[0] });
        return settle(this.updateAnswer, 'update');
      }) as ReleaseHandle['executeUpdate'],
    }),
    list: (_options: { query: string; pageSize?: number }): AsyncIterable<WorkflowExecutionInfo> => {
      const items = this.listAnswer;
      return (async function* () {
        yield* items;
      })();
    },
  };

  workflowService = {
    getSystemInfo: async () => {
      if (!this.healthy) throw new Error('14 UNAVAILABLE: connection refused');
      return {};
    },
  };
}

/** `null`: the API runs without a configured token. */
function setup(token: string | null = TOKEN) {
  const fake = new FakeTemporal();
  const app = createApp({
    client: fake,
    config: { api: { host: '127.0.0.1', port: 0, url: 'http://x', token: token ?? undefined } },
    log,
  });
  const send = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    app.request(path, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
  return { fake, app, send };
}

/** The release id from the policy as the request wrote it (RFC 8785 of the document sent, defaults left out). */
function expectedReleaseId(req = validReleaseRequest()): string {
  return releaseIdFor(
    { modelName: req.modelName, candidate: req.candidate, attempt: req.attempt ?? 1 },
    sha256Hex(canonicalBytes(req.policy)),
  );
}

describe('POST /api/releases', () => {
  it('refuses a request without the bearer token (401) and starts nothing', async () => {
    const { fake, app } = setup();
    const res = await app.request('/api/releases', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(validReleaseRequest()),
    });
    assert.equal(res.status, 401);
    assert.match((await json(res)).error, /bearer token/);
    assert.equal(fake.starts.length, 0);
  });

  it('refuses a wrong bearer token (401)', async () => {
    const { send } = setup();
    const res = await send('POST', '/api/releases', validReleaseRequest(), {
      authorization: 'Bearer wrong-token-wrong-token',
    });
    assert.equal(res.status, 401);
  });

  it('needs no token when none is configured', async () => {
    const { send } = setup(null);
    const res = await send('POST', '/api/releases', validReleaseRequest(), { authorization: '' });
    assert.equal(res.status, 201);
  });

  it('refuses a non-JSON content type (415)', async () => {
    const { fake, send } = setup();
    const res = await send('POST', '/api/releases', JSON.stringify(validReleaseRequest()), {
      'content-type': 'text/plain',
    });
    assert.equal(res.status, 415);
    assert.match((await json(res)).error, /application\/json/);
    assert.equal(fake.starts.length, 0);
  });

  it('accepts application/json with a charset parameter', async () => {
    const { send } = setup();
    const res = await send('POST', '/api/releases', validReleaseRequest(), {
      'content-type': 'application/json; charset=utf-8',
    });
    assert.equal(res.status, 201);
  });

  it('refuses a body over 256 KiB (413)', async () => {
    const { fake, send } = setup();
    const big = JSON.stringify({ ...validReleaseRequest(), reason: 'x'.repeat(300 * 1024) });
    const res = await send('POST', '/api/releases', big);
    assert.equal(res.status, 413);
    assert.match((await json(res)).error, /262144 bytes/);
    assert.equal(fake.starts.length, 0);
  });

  it('answers malformed JSON with 400 and the parser reason', async () => {
    const { fake, send } = setup();
    const res = await send('POST', '/api/releases', '{"modelName": "sepsis-alert",');
    assert.equal(res.status, 400);
    const body = await json(res);
    assert.match(body.error, /^malformed JSON: .+/);
    assert.ok(body.error.length > 'malformed JSON: '.length + 5, `reason included: ${body.error}`);
    assert.equal(fake.starts.length, 0);
  });

  it('answers an invalid request with field-level issues and starts nothing', async () => {
    const { fake, send } = setup();
    const req = validReleaseRequest();
    const bad = {
      ...req,
      candidate: { ...req.candidate, artifact: { ...req.candidate.artifact, sha256: 'not-a-digest' } },
    };
    const res = await send('POST', '/api/releases', bad);
    assert.equal(res.status, 400);
    const body = await json(res);
    assert.equal(body.error, 'invalid release request');
    const issue = body.issues.find((i: { path: string }) => i.path === 'candidate.artifact.sha256');
    assert.ok(issue, `issue for candidate.artifact.sha256 in ${JSON.stringify(body.issues)}`);
    assert.match(issue.message, /SHA-256/);
    assert.equal(fake.starts.length, 0);
  });

  it('starts the workflow under the deterministic release id (201)', async () => {
    const { fake, send } = setup();
    const res = await send('POST', '/api/releases', validReleaseRequest());
    assert.equal(res.status, 201);
    const body = await json(res);
    const releaseId = expectedReleaseId();
    assert.deepEqual(body, { releaseId, runId: 'run-1', started: true });
    assert.match(releaseId, /^sepsis-alert-[0-9a-f]{12}-[0-9a-f]{8}-1$/);

    const [start] = fake.starts;
    assert.ok(start);
    assert.equal(start.workflowId, releaseId);
    assert.equal(start.taskQueue, ORCHESTRATION_TASK_QUEUE);
    assert.equal(start.workflowIdConflictPolicy, 'USE_EXISTING');
    assert.equal(start.workflowIdReusePolicy, 'REJECT_DUPLICATE');
    const args = start.args as unknown[];
    assert.equal((args[0] as { attempt: number }).attempt, 1, 'the parsed request (defaults applied) is passed');
    const attrs = new TypedSearchAttributes(start.typedSearchAttributes as never);
    assert.equal(attrs.get(SearchAttr.model), 'sepsis-alert');
    assert.equal(attrs.get(SearchAttr.stage), 'SNAPSHOT');
  });

  it('gives the same request the same id, whatever the key order, and a new attempt a new id', async () => {
    const { fake, send } = setup();
    const req = validReleaseRequest();
    const reordered = Object.fromEntries(
      Object.entries({ ...req, policy: Object.fromEntries(Object.entries(req.policy).reverse()) }).reverse(),
    );
    await send('POST', '/api/releases', req);
    await send('POST', '/api/releases', reordered);
    await send('POST', '/api/releases', { ...req, attempt: 2 });
    const ids = fake.starts.map((s) => s.workflowId);
    assert.equal(ids[0], ids[1]);
    assert.notEqual(ids[0], ids[2]);
    assert.match(ids[2]!, /-2$/);
  });

  it('answers 200 started:false when the release is already running', async () => {
    const { fake, send } = setup();
    fake.describeAnswer = description('run-1', 'RUNNING');
    fake.startAnswer = 'run-1';
    const res = await send('POST', '/api/releases', validReleaseRequest());
    assert.equal(res.status, 200);
    assert.deepEqual(await json(res), { releaseId: expectedReleaseId(), runId: 'run-1', started: false });
  });

  it('answers 409 telling the user to bump attempt when the release has already finished', async () => {
    const { fake, send } = setup();
    fake.describeAnswer = description('run-0', 'COMPLETED', 'REJECTED');
    fake.startAnswer = new WorkflowExecutionAlreadyStartedError(
      'Workflow execution already started',
      expectedReleaseId(),
      'releaseLifecycle',
    );
    const res = await send('POST', '/api/releases', validReleaseRequest());
    assert.equal(res.status, 409);
    const body = await json(res);
    assert.match(body.error, /already ran and has finished \(REJECTED\)/);
    assert.match(body.error, /"attempt": 2/);
  });

  it('turns an unexpected failure into a generic 500 without leaking details', async () => {
    const { fake, send } = setup();
    fake.startAnswer = new Error('secret internals at /srv/x.ts:12');
    const res = await send('POST', '/api/releases', validReleaseRequest());
    assert.equal(res.status, 500);
    assert.deepEqual(await json(res), { error: 'internal error' });
  });
});

describe('POST /api/releases/:id/approvals', () => {
  const cases: Array<[string, number]> = [
    [ErrorType.InvalidRequest, 400],
    [ErrorType.SelfApproval, 403],
    [ErrorType.RoleNotRequired, 403],
    [ErrorType.StaleDigest, 409],
    [ErrorType.DuplicateSigner, 409],
    [ErrorType.RoleAlreadySigned, 409],
    [ErrorType.NotAwaitingApproval, 409],
    [ErrorType.ReleaseFinished, 409],
  ];
  for (const [type, status] of cases) {
    it(`maps a ${type} rejection to ${status} with the workflow's message`, async () => {
      const { fake, send } = setup();
      const message = `validator says no (${type})`;
      fake.updateAnswer = new WorkflowUpdateFailedError(
        'Workflow Update failed',
        ApplicationFailure.nonRetryable(message, type),
      );
      const res = await send('POST', '/api/releases/rel-1/approvals', validApproval());
      assert.equal(res.status, status);
      assert.deepEqual(await json(res), { error: message, type });
    });
  }

  it('returns the update result when the signature is accepted', async () => {
    const { fake, send } = setup();
    const result: ApprovalResult = {
      releaseId: 'rel-1',
      accepted: true,
      signatureKey: 'releases/rel-1/signatures/1',
      pendingRoles: ['clinical'],
    };
    fake.updateAnswer = result;
    const res = await send('POST', '/api/releases/rel-1/approvals', validApproval());
    assert.equal(res.status, 200);
    assert.deepEqual(await json(res), result);
    assert.equal(fake.updates[0]?.workflowId, 'rel-1');
    assert.equal(fake.updates[0]?.input.dossierSha256, hex64('dossier'));
  });

  it('answers an invalid approval with field issues and sends no update', async () => {
    const { fake, send } = setup();
    const res = await send(
      'POST',
      '/api/releases/rel-1/approvals',
      validApproval({ role: 'cto', dossierSha256: 'abc' }),
    );
    assert.equal(res.status, 400);
    const paths = (await json(res)).issues.map((i: { path: string }) => i.path).sort();
    assert.deepEqual(paths, ['dossierSha256', 'role']);
    assert.equal(fake.updates.length, 0);
  });

  it('requires the bearer token', async () => {
    const { fake, send } = setup();
    const res = await send('POST', '/api/releases/rel-1/approvals', validApproval(), { authorization: '' });
    assert.equal(res.status, 401);
    assert.equal(fake.updates.length, 0);
  });

  it('answers 404 for an unknown release', async () => {
    const { fake, send } = setup();
    fake.updateAnswer = new WorkflowNotFoundError('workflow not found', 'nope', undefined);
    const res = await send('POST', '/api/releases/nope/approvals', validApproval());
    assert.equal(res.status, 404);
    assert.match((await json(res)).error, /no release nope/);
  });

  it('answers 409 with the outcome when the workflow has already closed', async () => {
    const { fake, send } = setup();
    fake.updateAnswer = new WorkflowNotFoundError('workflow execution already completed', 'rel-1', undefined);
    fake.describeAnswer = description('run-1', 'COMPLETED', 'EXPIRED');
    const res = await send('POST', '/api/releases/rel-1/approvals', validApproval());
    assert.equal(res.status, 409);
    assert.equal((await json(res)).error, 'release rel-1 has already finished (EXPIRED)');
  });

  it('falls back to the workflow status when a closed release has no outcome attribute', async () => {
    const { fake, send } = setup();
    fake.updateAnswer = new WorkflowNotFoundError('workflow execution already completed', 'rel-1', undefined);
    fake.describeAnswer = description('run-1', 'TERMINATED');
    const res = await send('POST', '/api/releases/rel-1/approvals', validApproval());
    assert.equal((await json(res)).error, 'release rel-1 has already finished (TERMINATED)');
  });

  it('answers 500 for an update failure of a type it was not designed for', async () => {
    const { fake, send } = setup();
    fake.updateAnswer = new WorkflowUpdateFailedError(
      'Workflow Update failed',
      ApplicationFailure.nonRetryable('boom', 'SomethingElse'),
    );
    const res = await send('POST', '/api/releases/rel-1/approvals', validApproval());
    assert.equal(res.status, 500);
    assert.deepEqual(await json(res), { error: 'the approval could not be recorded' });
  });
});

describe('GET routes', () => {
  it('GET /api/releases/:id returns the releaseStatus query result', async () => {
    const { fake, send } = setup();
    fake.queryAnswer = { releaseId: 'rel-1', stage: 'SHADOW' } as ReleaseStatus;
    const res = await send('GET', '/api/releases/rel-1');
    assert.equal(res.status, 200);
    assert.deepEqual(await json(res), { releaseId: 'rel-1', stage: 'SHADOW' });
  });

  it('GET /api/releases/:id answers 404 for an unknown release', async () => {
    const { fake, send } = setup();
    fake.queryAnswer = new WorkflowNotFoundError('not found', 'nope', undefined);
    const res = await send('GET', '/api/releases/nope');
    assert.equal(res.status, 404);
    assert.deepEqual(await json(res), { error: 'no release nope' });
  });

  it('GET /api/releases/:id answers 503 when the query cannot be answered (no worker)', async () => {
    const { fake, send } = setup();
    fake.queryAnswer = new ServiceError('Failed to query Workflow', { cause: new Error('4 DEADLINE_EXCEEDED') });
    const res = await send('GET', '/api/releases/rel-1');
    assert.equal(res.status, 503);
    assert.match((await json(res)).error, /is a Vigil worker running/);
  });

  it('answers 503 (not 500) when Temporal cannot be reached', async () => {
    const { fake, send } = setup();
    fake.startAnswer = new ServiceError('Failed to start Workflow', {
      cause: Object.assign(new Error('14 UNAVAILABLE: connect ECONNREFUSED'), { code: 14 }),
    });
    const res = await send('POST', '/api/releases', validReleaseRequest());
    assert.equal(res.status, 503);
    assert.deepEqual(await json(res), { error: 'Temporal is unavailable; try again shortly' });
  });

  it('GET /api/releases lists releases with their Vigil search attributes', async () => {
    const { fake, send } = setup();
    const info = (id: string, status: string, attrs: Array<{ key: typeof SearchAttr.stage; value: string }>) =>
      ({
        workflowId: id,
        runId: `run-${id}`,
        status: { name: status },
        startTime: new Date('2026-11-01T10:00:00Z'),
        closeTime: status === 'RUNNING' ? undefined : new Date('2026-11-01T11:00:00Z'),
        typedSearchAttributes: new TypedSearchAttributes(attrs),
      }) as unknown as WorkflowExecutionInfo;
    fake.listAnswer = [
      info('a', 'RUNNING', [
        { key: SearchAttr.model, value: 'sepsis-alert' },
        { key: SearchAttr.stage, value: 'SHADOW' },
      ]),
      info('b', 'COMPLETED', [
        { key: SearchAttr.stage, value: 'REJECTED' },
        { key: SearchAttr.outcome, value: 'REJECTED' },
      ]),
    ];
    const res = await send('GET', '/api/releases');
    assert.equal(res.status, 200);
    assert.deepEqual((await json(res)).releases, [
      {
        releaseId: 'a',
        runId: 'run-a',
        status: 'RUNNING',
        startTime: '2026-11-01T10:00:00.000Z',
        closeTime: null,
        model: 'sepsis-alert',
        stage: 'SHADOW',
        outcome: null,
      },
      {
        releaseId: 'b',
        runId: 'run-b',
        status: 'COMPLETED',
        startTime: '2026-11-01T10:00:00.000Z',
        closeTime: '2026-11-01T11:00:00.000Z',
        model: null,
        stage: 'REJECTED',
        outcome: 'REJECTED',
      },
    ]);
  });

  it('GET /api/releases requires the token when one is configured', async () => {
    const { send } = setup();
    const res = await send('GET', '/api/releases', undefined, { authorization: '' });
    assert.equal(res.status, 401);
  });

  it('GET /healthz is 200 when Temporal answers and 503 when it does not', async () => {
    const { fake, app } = setup();
    assert.deepEqual(await json(await app.request('/healthz')), { ok: true });
    fake.healthy = false;
    const res = await app.request('/healthz');
    assert.equal(res.status, 503);
    assert.equal((await json(res)).ok, false);
  });

  it('answers unknown routes with a JSON 404', async () => {
    const { send } = setup();
    const res = await send('GET', '/api/nothing-here');
    assert.equal(res.status, 404);
    assert.match((await json(res)).error, /no route/);
  });
});
