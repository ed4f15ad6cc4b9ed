import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  WorkflowNotFoundError,
  type WorkflowExecutionDescription,
  type WorkflowExecutionInfo,
  type WorkflowStartOptions,
} from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import { createApp, type ReleaseHandle, type TemporalPort } from '../../src/api';
import {
  InMemoryDeliveryLedger,
  InMemoryReleaseQueue,
  parseWebhookConfig,
  signGitHub,
  signVigil,
  type ReleaseSuperseder,
  type WebhookDeps,
} from '../../src/api/webhooks';
import { ReleasePolicySchema, type ReleaseRequest } from '../../src/domain';
import { SearchAttr } from '../../src/domain/messages';
import { createLogger } from '../../src/logging/logger';
import { hex64, validPolicy, validReleaseRequest } from '../support/fixtures';

const log = createLogger('webhook-test', 'silent');
const GITHUB_SECRET = 'github-secret-0123456789';
const GITLAB_TOKEN = 'gitlab-token-0123456789';
const DATA_SECRET = 'data-refresh-secret-0123456789';
const RELEASE_SECRET = 'release-secret-0123456789';
const NOW = Date.parse('2026-11-02T10:00:00Z');
const COMMIT = 'aaaabbbbccccddddeeeeffff0000111122223333';
const CANDIDATE_KEY = `models/sepsis-alert/git-${COMMIT}.json`;

interface Body {
  error: string;
  issues: Array<{ path: string; message: string }>;
  [k: string]: unknown;
}

function description(runId: string, status: string): WorkflowExecutionDescription {
  return {
    runId,
    status: { name: status },
    typedSearchAttributes: new TypedSearchAttributes([]),
  } as unknown as WorkflowExecutionDescription;
}

/** Records starts; `running` holds what a real server would: started workflow ids. */
class FakeTemporal implements TemporalPort {
  starts: WorkflowStartOptions[] = [];
  running = new Map<string, string>();
  inFlight: Array<{ id: string; stage: string | null }> = [];
  listQueries: string[] = [];

  workflow = {
    start: async (_type: 'releaseLifecycle', options: WorkflowStartOptions) => {
      this.starts.push(options);
      const runId = this.running.get(options.workflowId) ?? `run-${this.running.size + 1}`;
      this.running.set(options.workflowId, runId);
      return { workflowId: options.workflowId, firstExecutionRunId: runId };
    },
    getHandle: (workflowId: string): ReleaseHandle => ({
      workflowId,
      describe: async () => {
        const runId = this.running.get(workflowId);
        if (runId === undefined) throw new WorkflowNotFoundError('not found', workflowId, undefined);
        return description(runId, 'RUNNING');
      },
      query: async () => {
        throw new Error('not used');
      },
      executeUpdate: async () => {
        throw new Error('not used');
      },
    }),
    list: (options: { query: string; pageSize?: number }): AsyncIterable<WorkflowExecutionInfo> => {
      this.listQueries.push(options.query);
      const items = this.inFlight.map(
        (r) =>
          ({
            workflowId: r.id,
            typedSearchAttributes: new TypedSearchAttributes(
              r.stage ? [{ key: SearchAttr.stage, value: r.stage }] : [],
            ),
          }) as unknown as WorkflowExecutionInfo,
      );
      return (async function* () {
        yield* items;
      })();
    },
  };
  workflowService = { getSystemInfo: async () => ({}) };
}

function mapping(concurrency: 'queue' | 'supersede' = 'queue') {
  return parseWebhookConfig(
    {
      version: 1,
      models: [
        {
          model: 'sepsis-alert',
          policyFile: 'policy.yaml',
          incumbent: {
            version: '2.0.0',
            artifact: { key: 'models/sepsis-alert/2.0.0.json', sha256: hex64('incumbent') },
          },
          datasets: [
            { role: 'training', name: 'train-2026q2', artifact: { key: 'datasets/train.csv', sha256: hex64('train') } },
            { role: 'evaluation', name: 'eval-2026q2', artifact: { key: 'datasets/eval.csv', sha256: hex64('eval') } },
          ],
          candidate: { keyTemplate: 'models/{model}/git-{commit}.json', versionTemplate: 'git-{shortCommit}' },
          concurrency,
          git: [
            { provider: 'github', repository: 'acme/sepsis-model', branches: ['main', 'release/*'] },
            { provider: 'gitlab', repository: 'acme/ml/sepsis-model', branches: ['main'] },
          ],
          dataRefresh: true,
        },
      ],
    },
    () => ReleasePolicySchema.parse(validPolicy()),
  );
}

function setup(
  opts: { concurrency?: 'queue' | 'supersede'; superseder?: ReleaseSuperseder; secrets?: WebhookDeps['secrets'] } = {},
) {
  const fake = new FakeTemporal();
  const ledger = new InMemoryDeliveryLedger({ maxEntries: 100, ttlMs: 3600_000, now: () => NOW });
  const queue = new InMemoryReleaseQueue();
  const artifacts = new Map<string, string>([[CANDIDATE_KEY, hex64('candidate-from-git')]]);
  const webhooks: WebhookDeps = {
    config: mapping(opts.concurrency),
    secrets: opts.secrets ?? {
      github: GITHUB_SECRET,
      gitlab: GITLAB_TOKEN,
      dataRefresh: DATA_SECRET,
      release: RELEASE_SECRET,
    },
    resolver: { sha256Of: async (key) => artifacts.get(key) ?? null },
    ledger,
    queue,
    superseder: opts.superseder,
    evidenceBucket: 'vigil-evidence',
    now: () => NOW,
  };
  const app = createApp({
    client: fake,
    config: { api: { host: '127.0.0.1', port: 0, url: 'http://x', token: undefined } },
    log,
    webhooks,
  });
  const post = async (path: string, body: string | Uint8Array, headers: Record<string, string>) => {
    const res = await app.request(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });
    return { status: res.status, body: (await res.json()) as Body };
  };
  return { fake, ledger, queue, artifacts, app, post };
}

function githubPush(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ref: 'refs/heads/main',
    before: '0'.repeat(40),
    after: COMMIT,
    repository: { full_name: 'acme/sepsis-model', pushed_at: NOW / 1000 - 30 },
    head_commit: { id: COMMIT, timestamp: '2026-11-02T09:58:00+01:00', message: 'retrain on 2026Q3\n\nbody' },
    pusher: { name: 'alice' },
    sender: { login: 'alice' },
    ...overrides,
  };
}

const githubHeaders = (body: string, delivery = 'gh-delivery-1', secret = GITHUB_SECRET): Record<string, string> => ({
  'x-github-event': 'push',
  'x-github-delivery': delivery,
  'x-hub-signature-256': signGitHub(secret, body),
});

function vigilHeaders(
  secret: string,
  body: string,
  delivery = 'dr-1',
  ts = String(NOW / 1000),
): Record<string, string> {
  return {
    'x-vigil-delivery': delivery,
    'x-vigil-timestamp': ts,
    'x-vigil-signature': signVigil(secret, ts, delivery, body),
  };
}

function dataRefresh(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    model: 'sepsis-alert',
    codeCommit: COMMIT,
    dataset: {
      role: 'evaluation',
      name: 'eval-2026q3',
      uri: 's3://vigil-evidence/datasets/eval-2026q3.csv',
      sha256: hex64('eval-q3'),
    },
    candidate: {
      version: '2.2.0',
      artifact: { key: 'models/sepsis-alert/2.2.0.json', sha256: hex64('candidate-2.2') },
    },
    ...overrides,
  };
}

describe('POST /webhooks/github', () => {
  it('the same delivery sent 10 times starts one release; the ledger answers the repeats with its id', async () => {
    const { fake, post, ledger } = setup();
    const body = JSON.stringify(githubPush());
    const first = await post('/webhooks/github', body, githubHeaders(body));
    assert.equal(first.status, 201, first.body.error);
    assert.equal(first.body.started, true);
    const releaseId = first.body.releaseId as string;
    assert.match(releaseId, /^sepsis-alert-[0-9a-f]{12}-[0-9a-f]{8}-1$/);
    for (let i = 0; i < 9; i++) {
      const again = await post('/webhooks/github', body, githubHeaders(body));
      assert.equal(again.status, 202);
      assert.deepEqual(again.body, { duplicate: true, deliveryId: 'gh-delivery-1', releaseId, outcome: 'started' });
    }
    assert.equal(fake.starts.length, 1);

    // After an API restart (empty ledger) the same delivery reaches Temporal again — under the same id.
    ledger.clear();
    const afterRestart = await post('/webhooks/github', body, githubHeaders(body));
    assert.equal(afterRestart.status, 200, afterRestart.body.error);
    assert.equal(afterRestart.body.releaseId, releaseId);
    assert.equal(afterRestart.body.started, false);
    ledger.clear();
    // Even when describe is skipped by a race, the start itself carries the same id and USE_EXISTING.
    fake.running.clear();
    await post('/webhooks/github', body, githubHeaders(body));
    assert.equal(fake.starts.length, 2);
    for (const s of fake.starts) {
      assert.equal(s.workflowId, releaseId);
      assert.equal(s.workflowIdConflictPolicy, 'USE_EXISTING');
      assert.equal(s.workflowIdReusePolicy, 'REJECT_DUPLICATE');
    }
  });

  it('builds the release request from the mapping and the resolved candidate artifact', async () => {
    const { fake, post } = setup();
    const body = JSON.stringify(githubPush());
    const res = await post('/webhooks/github', body, githubHeaders(body));
    assert.equal(res.status, 201, res.body.error);
    const req = (fake.starts[0]!.args as ReleaseRequest[])[0]!;
    assert.deepEqual(req.candidate, {
      version: 'git-aaaabbbbcccc',
      artifact: { key: CANDIDATE_KEY, sha256: hex64('candidate-from-git') },
      format: 'vigil.logistic/v1',
      // bounded below by the head commit's time (09:58 at +01:00)
      trainingStartedAt: '2026-11-02T08:58:00.000Z',
    });
    assert.equal(req.codeCommit, COMMIT);
    assert.deepEqual(req.trigger, { kind: 'commit', deliveryId: 'gh-delivery-1' });
    assert.equal(req.submittedBy, 'github:alice');
    assert.match(req.reason, /push to acme\/sepsis-model@main \(aaaabbbbcccc\): retrain on 2026Q3$/);
    assert.equal(req.policy.id, 'sepsis-alert-release');
  });

  it('different deliveries of the same push (new delivery ids) still map to one workflow id', async () => {
    const { fake, post } = setup();
    const body = JSON.stringify(githubPush());
    const ids = new Set<string>();
    for (let i = 0; i < 10; i++)
      ids.add((await post('/webhooks/github', body, githubHeaders(body, `gh-${i}`))).body.releaseId as string);
    assert.equal(ids.size, 1);
    assert.equal(fake.starts.length, 1, 'after the first, describe finds the running release and joins it');
  });

  it('refuses a forged, missing or wrong-secret signature, or a tampered body, with 401', async () => {
    const { fake, post } = setup();
    const body = JSON.stringify(githubPush());
    const cases: Array<Record<string, string>> = [
      { ...githubHeaders(body), 'x-hub-signature-256': 'sha256=' + '0'.repeat(64) },
      { ...githubHeaders(body), 'x-hub-signature-256': '' },
      { ...githubHeaders(body), 'x-hub-signature-256': 'sha256=abc' },
      { ...githubHeaders(body), 'x-hub-signature-256': signGitHub(GITHUB_SECRET, body).replace('sha256=', 'sha1=') },
      githubHeaders(body, 'gh-1', 'some-other-secret-value'),
    ];
    for (const headers of cases) {
      const res = await post('/webhooks/github', body, headers);
      assert.equal(res.status, 401);
      assert.match(res.body.error, /X-Hub-Signature-256/);
    }
    const tampered = body.replace('alice', 'mallory');
    assert.equal((await post('/webhooks/github', tampered, githubHeaders(body))).status, 401);
    assert.equal(fake.starts.length, 0);
  });

  it('answers malformed JSON with 400 and the parser reason', async () => {
    const { fake, post } = setup();
    const body = '{"ref": "refs/heads/main",';
    const res = await post('/webhooks/github', body, githubHeaders(body));
    assert.equal(res.status, 400);
    assert.match(res.body.error, /^malformed JSON: .{5,}/);
    assert.equal(fake.starts.length, 0);
  });

  it('answers a schema violation with field-level issues', async () => {
    const { fake, post } = setup();
    const body = JSON.stringify(githubPush({ after: 'not-a-sha', repository: { full_name: 7 } }));
    const res = await post('/webhooks/github', body, githubHeaders(body));
    assert.equal(res.status, 400);
    assert.equal(res.body.error, 'invalid GitHub push payload');
    assert.deepEqual(res.body.issues.map((i) => i.path).sort(), ['after', 'repository.full_name']);
    assert.equal(fake.starts.length, 0);
  });

  it('refuses an oversized body with 413 and the wrong content type with 415', async () => {
    const { fake, post } = setup();
    const big = JSON.stringify(githubPush({ padding: 'x'.repeat(1024 * 1024) }));
    const res = await post('/webhooks/github', big, githubHeaders(big));
    assert.equal(res.status, 413);
    assert.match(res.body.error, /1048576 bytes/);
    const body = JSON.stringify(githubPush());
    const form = await post('/webhooks/github', body, {
      ...githubHeaders(body),
      'content-type': 'application/x-www-form-urlencoded',
    });
    assert.equal(form.status, 415);
    assert.match(form.body.error, /application\/json/);
    assert.equal(fake.starts.length, 0);
  });

  it('refuses a replayed delivery whose push is older than the window (401 stale delivery)', async () => {
    const { fake, post } = setup();
    const body = JSON.stringify(
      githubPush({ repository: { full_name: 'acme/sepsis-model', pushed_at: NOW / 1000 - 7200 } }),
    );
    const res = await post('/webhooks/github', body, githubHeaders(body));
    assert.equal(res.status, 401);
    assert.match(res.body.error, /^stale delivery: pushed at 2026-11-02T08:00:00.000Z/);
    assert.equal(fake.starts.length, 0);
  });

  it('answers an unknown repository or branch with 422 and a missing candidate artifact with 422', async () => {
    const { fake, post, artifacts } = setup();
    for (const [overrides, pattern] of [
      [
        { repository: { full_name: 'acme/other', pushed_at: NOW / 1000 } },
        /no model is configured for GitHub repository acme\/other branch main/,
      ],
      [{ ref: 'refs/heads/feature/x' }, /branch feature\/x/],
    ] as const) {
      const body = JSON.stringify(githubPush(overrides));
      const res = await post('/webhooks/github', body, githubHeaders(body));
      assert.equal(res.status, 422);
      assert.match(res.body.error, pattern);
    }
    artifacts.clear();
    const body = JSON.stringify(githubPush());
    const res = await post('/webhooks/github', body, githubHeaders(body, 'gh-missing'));
    assert.equal(res.status, 422);
    assert.match(res.body.error, /candidate artifact models\/sepsis-alert\/git-aaaa.* is not in the evidence store/);
    assert.equal(res.body.artifactKey, CANDIDATE_KEY);
    assert.equal(fake.starts.length, 0);
    // A 422 is not remembered: once CI uploads the artifact, a redelivery succeeds.
    artifacts.set(CANDIDATE_KEY, hex64('candidate-from-git'));
    assert.equal((await post('/webhooks/github', body, githubHeaders(body, 'gh-missing'))).status, 201);
  });

  it('matches release/* branches, answers ping, and ignores other events, tags and deleted branches', async () => {
    const { fake, post } = setup();
    const release = JSON.stringify(githubPush({ ref: 'refs/heads/release/2026.11' }));
    assert.equal((await post('/webhooks/github', release, githubHeaders(release))).status, 201);
    const ping = '{"zen":"hi"}';
    const pong = await post('/webhooks/github', ping, { ...githubHeaders(ping, 'p1'), 'x-github-event': 'ping' });
    assert.equal(pong.status, 200);
    const issue = '{"action":"opened"}';
    const ignored = await post('/webhooks/github', issue, {
      ...githubHeaders(issue, 'i1'),
      'x-github-event': 'issues',
    });
    assert.equal(ignored.status, 202);
    assert.equal(ignored.body.ignored, true);
    const tag = JSON.stringify(githubPush({ ref: 'refs/tags/v1' }));
    assert.equal((await post('/webhooks/github', tag, githubHeaders(tag, 't1'))).body.ignored, true);
    const deleted = JSON.stringify(githubPush({ deleted: true, after: '0'.repeat(40) }));
    assert.equal((await post('/webhooks/github', deleted, githubHeaders(deleted, 'd1'))).body.ignored, true);
    assert.equal(fake.starts.length, 1);
  });

  it('refuses a missing delivery id with 400', async () => {
    const { post } = setup();
    const body = JSON.stringify(githubPush());
    const { 'x-github-delivery': _, ...headers } = githubHeaders(body);
    const res = await post('/webhooks/github', body, headers);
    assert.equal(res.status, 400);
    assert.match(res.body.error, /x-github-delivery/);
  });
});

describe('POST /webhooks/gitlab', () => {
  const push = (overrides: Record<string, unknown> = {}) =>
    JSON.stringify({
      object_kind: 'push',
      ref: 'refs/heads/main',
      after: COMMIT,
      checkout_sha: COMMIT,
      project: { path_with_namespace: 'acme/ml/sepsis-model' },
      user_username: 'bob',
      commits: [{ id: COMMIT, message: 'retrain', timestamp: '2026-11-02T09:00:00Z' }],
      ...overrides,
    });
  const headers = (token = GITLAB_TOKEN, uuid = 'gl-uuid-1') => ({
    'x-gitlab-token': token,
    'x-gitlab-event': 'Push Hook',
    'x-gitlab-event-uuid': uuid,
  });

  it('checks the token in constant time (401), starts once per event UUID', async () => {
    const { fake, post } = setup();
    assert.equal((await post('/webhooks/gitlab', push(), headers('wrong-token-0123456789'))).status, 401);
    assert.equal(
      (await post('/webhooks/gitlab', push(), { 'x-gitlab-event': 'Push Hook', 'x-gitlab-event-uuid': 'x' })).status,
      401,
    );
    assert.equal(fake.starts.length, 0);
    const first = await post('/webhooks/gitlab', push(), headers());
    assert.equal(first.status, 201, first.body.error);
    const again = await post('/webhooks/gitlab', push(), headers());
    assert.equal(again.status, 202);
    assert.equal(again.body.duplicate, true);
    assert.equal(again.body.releaseId, first.body.releaseId);
    assert.equal(fake.starts.length, 1);
    const req = (fake.starts[0]!.args as ReleaseRequest[])[0]!;
    assert.equal(req.submittedBy, 'gitlab:bob');
    assert.deepEqual(req.trigger, { kind: 'commit', deliveryId: 'gl-uuid-1' });
  });

  it('prefers Idempotency-Key (stable across GitLab retries) as the delivery id', async () => {
    const { fake, post } = setup();
    await post('/webhooks/gitlab', push(), { ...headers(GITLAB_TOKEN, 'uuid-a'), 'idempotency-key': 'idem-1' });
    const retry = await post('/webhooks/gitlab', push(), {
      ...headers(GITLAB_TOKEN, 'uuid-b'),
      'idempotency-key': 'idem-1',
    });
    assert.equal(retry.status, 202);
    assert.equal(fake.starts.length, 1);
  });

  it('answers an unmapped project with 422', async () => {
    const { post } = setup();
    const res = await post('/webhooks/gitlab', push({ project: { path_with_namespace: 'acme/nope' } }), headers());
    assert.equal(res.status, 422);
  });
});

describe('POST /webhooks/data-refresh (Vigil signature)', () => {
  it('starts a release with the refreshed dataset replacing the configured one of its role', async () => {
    const { fake, post } = setup();
    const body = JSON.stringify(dataRefresh());
    const res = await post('/webhooks/data-refresh', body, vigilHeaders(DATA_SECRET, body));
    assert.equal(res.status, 201, res.body.error);
    const req = (fake.starts[0]!.args as ReleaseRequest[])[0]!;
    assert.deepEqual(
      req.datasets.map((d) => [d.role, d.name, d.artifact.key]),
      [
        ['training', 'train-2026q2', 'datasets/train.csv'],
        ['evaluation', 'eval-2026q3', 'datasets/eval-2026q3.csv'],
      ],
    );
    assert.deepEqual(req.trigger, { kind: 'data_refresh', deliveryId: 'dr-1' });
    assert.equal(req.candidate.version, '2.2.0');
  });

  it('refuses a bad signature (401), a stale or future timestamp (401 stale delivery)', async () => {
    const { fake, post } = setup();
    const body = JSON.stringify(dataRefresh());
    const forged = { ...vigilHeaders(DATA_SECRET, body), 'x-vigil-signature': 'v1=' + 'f'.repeat(64) };
    assert.equal((await post('/webhooks/data-refresh', body, forged)).status, 401);
    // Changing the timestamp or delivery id after signing breaks the signature.
    const moved = { ...vigilHeaders(DATA_SECRET, body), 'x-vigil-timestamp': String(NOW / 1000 + 1) };
    assert.equal((await post('/webhooks/data-refresh', body, moved)).status, 401);
    const renamed = { ...vigilHeaders(DATA_SECRET, body), 'x-vigil-delivery': 'dr-other' };
    assert.equal((await post('/webhooks/data-refresh', body, renamed)).status, 401);
    for (const ts of [NOW / 1000 - 301, NOW / 1000 + 301, 0]) {
      const res = await post('/webhooks/data-refresh', body, vigilHeaders(DATA_SECRET, body, 'dr-old', String(ts)));
      assert.equal(res.status, 401);
      assert.match(res.body.error, /^stale delivery: /);
    }
    assert.equal(
      (await post('/webhooks/data-refresh', body, { 'x-vigil-delivery': 'dr-1', 'x-vigil-signature': 'v1=00' })).status,
      400,
    );
    assert.equal(fake.starts.length, 0);
  });

  it('answers field-level issues (400), an unconfigured model (422), and a foreign bucket (422)', async () => {
    const { fake, post } = setup();
    let body = JSON.stringify(
      dataRefresh({ dataset: { role: 'eval', name: 'x', uri: 'datasets/x.csv', sha256: 'nope' } }),
    );
    let res = await post('/webhooks/data-refresh', body, vigilHeaders(DATA_SECRET, body));
    assert.equal(res.status, 400);
    assert.deepEqual(res.body.issues.map((i) => i.path).sort(), ['dataset.role', 'dataset.sha256']);
    body = JSON.stringify(dataRefresh({ model: 'other-model' }));
    res = await post('/webhooks/data-refresh', body, vigilHeaders(DATA_SECRET, body, 'dr-2'));
    assert.equal(res.status, 422);
    body = JSON.stringify(
      dataRefresh({ dataset: { role: 'evaluation', name: 'x', uri: 's3://elsewhere/x.csv', sha256: hex64('x') } }),
    );
    res = await post('/webhooks/data-refresh', body, vigilHeaders(DATA_SECRET, body, 'dr-3'));
    assert.equal(res.status, 422);
    assert.match(res.body.error, /bucket "elsewhere"/);
    assert.equal(fake.starts.length, 0);
  });

  it('finds the candidate through the key template when the event does not name one', async () => {
    const { fake, post, artifacts } = setup();
    const { candidate: _, ...event } = dataRefresh();
    const body = JSON.stringify(event);
    const res = await post('/webhooks/data-refresh', body, vigilHeaders(DATA_SECRET, body));
    assert.equal(res.status, 201, res.body.error);
    assert.equal(
      (fake.starts[0]!.args as ReleaseRequest[])[0]!.candidate.artifact.sha256,
      artifacts.get(CANDIDATE_KEY),
    );
  });
});

describe('POST /webhooks/release (generic, Vigil signature)', () => {
  it('starts the request as given, with the delivery id as trigger; 10 sends → one start', async () => {
    const { fake, post } = setup();
    const body = JSON.stringify(validReleaseRequest());
    for (let i = 0; i < 10; i++) {
      const res = await post('/webhooks/release', body, vigilHeaders(RELEASE_SECRET, body, 'rel-d1'));
      assert.equal(res.status, i === 0 ? 201 : 202, res.body.error);
    }
    assert.equal(fake.starts.length, 1);
    assert.deepEqual((fake.starts[0]!.args as ReleaseRequest[])[0]!.trigger, { kind: 'api', deliveryId: 'rel-d1' });
    // The data-refresh secret does not sign for this route.
    assert.equal((await post('/webhooks/release', body, vigilHeaders(DATA_SECRET, body, 'rel-d2'))).status, 401);
  });

  it('disables a route whose secret is not configured (404)', async () => {
    const { post } = setup({ secrets: { github: GITHUB_SECRET } });
    const body = JSON.stringify(validReleaseRequest());
    assert.equal((await post('/webhooks/release', body, vigilHeaders(RELEASE_SECRET, body))).status, 404);
  });
});

describe('a second candidate while one is in flight', () => {
  const body = JSON.stringify(githubPush());

  it('queue: nothing starts, the request is queued (202 queued) and duplicates are answered from the ledger', async () => {
    const { fake, post, queue } = setup({ concurrency: 'queue' });
    fake.inFlight = [{ id: 'sepsis-alert-older-1', stage: 'SHADOW' }];
    const res = await post('/webhooks/github', body, githubHeaders(body));
    assert.equal(res.status, 202);
    assert.equal(res.body.queued, true);
    assert.deepEqual(res.body.behind, ['sepsis-alert-older-1']);
    assert.equal(fake.starts.length, 0);
    assert.equal(queue.entries.size, 1);
    assert.match(fake.listQueries[0]!, /VigilModel = 'sepsis-alert'/);
    const dup = await post('/webhooks/github', body, githubHeaders(body));
    assert.deepEqual([dup.status, dup.body.outcome], [202, 'queued']);
  });

  it('supersede: supersedes a pre-approval release, then starts the new candidate', async () => {
    const calls: Array<[string, string]> = [];
    const { fake, post } = setup({
      concurrency: 'supersede',
      superseder: { supersede: async (id, input) => void calls.push([id, input.supersededBy]) },
    });
    fake.inFlight = [{ id: 'sepsis-alert-older-1', stage: 'AWAITING_APPROVAL' }];
    const res = await post('/webhooks/github', body, githubHeaders(body));
    assert.equal(res.status, 201, res.body.error);
    assert.deepEqual(calls, [['sepsis-alert-older-1', res.body.releaseId]]);
    assert.equal(fake.starts.length, 1);
  });

  it('supersede: a release already in CANARY is not superseded; the candidate is queued', async () => {
    const calls: string[] = [];
    const { fake, post } = setup({
      concurrency: 'supersede',
      superseder: { supersede: async (id) => void calls.push(id) },
    });
    fake.inFlight = [{ id: 'sepsis-alert-older-1', stage: 'CANARY' }];
    const res = await post('/webhooks/github', body, githubHeaders(body));
    assert.equal(res.status, 202);
    assert.equal(res.body.queued, true);
    assert.deepEqual(calls, []);
    assert.equal(fake.starts.length, 0);
  });

  it('supersede with no superseder configured: falls back to queueing and says why', async () => {
    const { fake, post } = setup({ concurrency: 'supersede' });
    fake.inFlight = [{ id: 'sepsis-alert-older-1', stage: 'SHADOW' }];
    const res = await post('/webhooks/github', body, githubHeaders(body));
    assert.equal(res.status, 202);
    assert.equal(res.body.queued, true);
    assert.match(res.body.note as string, /superseding a release is not configured/);
    assert.equal(fake.starts.length, 0);
  });
});
