/**
 * Thousands of random deliveries against every webhook route: random bytes, random JSON, random
 * headers, valid deliveries mutated after signing, and correctly signed garbage. Every answer must
 * be a 4xx JSON body with an `error` string; nothing may throw and nothing may start.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WorkflowNotFoundError, type WorkflowExecutionInfo, type WorkflowStartOptions } from '@temporalio/client';
import fc from 'fast-check';
import { createApp, type ReleaseHandle, type TemporalPort } from '../../src/api';
import { parseWebhookConfig, signGitHub, signVigil, type WebhookDeps } from '../../src/api/webhooks';
import { ReleasePolicySchema } from '../../src/domain';
import { createLogger } from '../../src/logging/logger';
import { hex64, validPolicy, validReleaseRequest } from '../support/fixtures';

const NOW = Date.parse('2026-11-02T10:00:00Z');
const SECRETS = {
  github: 'github-secret-0123456789',
  gitlab: 'gitlab-token-0123456789',
  dataRefresh: 'data-secret-0123456789',
  release: 'release-secret-0123456789',
};
const RUNS = Number(process.env.VIGIL_FUZZ_RUNS ?? 800);

let starts = 0;
const fake: TemporalPort = {
  workflow: {
    start: async (_t: 'releaseLifecycle', o: WorkflowStartOptions) => {
      starts++;
      return { workflowId: o.workflowId, firstExecutionRunId: 'run' };
    },
    getHandle: (workflowId: string): ReleaseHandle => ({
      workflowId,
      describe: async () => {
        throw new WorkflowNotFoundError('not found', workflowId, undefined);
      },
      query: async () => {
        throw new Error('unused');
      },
      executeUpdate: async () => {
        throw new Error('unused');
      },
    }),
    list: (): AsyncIterable<WorkflowExecutionInfo> => (async function* () {})(),
  },
  workflowService: { getSystemInfo: async () => ({}) },
};

const webhooks: WebhookDeps = {
  config: parseWebhookConfig(
    {
      version: 1,
      models: [
        {
          model: 'sepsis-alert',
          policyFile: 'p.yaml',
          incumbent: { version: '2.0.0', artifact: { key: 'models/i.json', sha256: hex64('incumbent') } },
          datasets: [{ role: 'evaluation', name: 'e', artifact: { key: 'd/e.csv', sha256: hex64('eval') } }],
          candidate: { keyTemplate: 'models/{model}/{commit}.json' },
          git: [
            { provider: 'github', repository: 'acme/sepsis-model', branches: ['**'] },
            { provider: 'gitlab', repository: 'acme/sepsis-model', branches: ['**'] },
          ],
          dataRefresh: true,
        },
      ],
    },
    () => ReleasePolicySchema.parse(validPolicy()),
  ),
  secrets: SECRETS,
  // Every candidate resolves: if a delivery got past the checks, it would start.
  resolver: { sha256Of: async () => hex64('candidate') },
  limits: { maxBodyBytes: 4096 },
  now: () => NOW,
};
const app = createApp({
  client: fake,
  config: { api: { host: '127.0.0.1', port: 0, url: 'http://x', token: undefined } },
  log: createLogger('fuzz', 'silent'),
  webhooks,
});

const COMMIT = 'aaaabbbbccccddddeeeeffff0000111122223333';
const VALID: Record<string, string> = {
  github: JSON.stringify({
    ref: 'refs/heads/main',
    after: COMMIT,
    repository: { full_name: 'acme/sepsis-model', pushed_at: NOW / 1000 },
    pusher: { name: 'a' },
  }),
  gitlab: JSON.stringify({
    object_kind: 'push',
    ref: 'refs/heads/main',
    after: COMMIT,
    checkout_sha: COMMIT,
    project: { path_with_namespace: 'acme/sepsis-model' },
  }),
  'data-refresh': JSON.stringify({
    model: 'sepsis-alert',
    codeCommit: COMMIT,
    dataset: { role: 'evaluation', name: 'e2', uri: 'datasets/e2.csv', sha256: hex64('e2') },
  }),
  release: JSON.stringify(validReleaseRequest()),
};
const ROUTES = Object.keys(VALID);

/** Correct authentication for `body` on `route`, as a sender with the real secret would send it. */
function signedHeaders(route: string, body: string | Uint8Array, delivery: string): Record<string, string> {
  const ts = String(NOW / 1000);
  switch (route) {
    case 'github':
      return {
        'x-github-event': 'push',
        'x-github-delivery': delivery,
        'x-hub-signature-256': signGitHub(SECRETS.github, body),
      };
    case 'gitlab':
      return { 'x-gitlab-event': 'Push Hook', 'x-gitlab-event-uuid': delivery, 'x-gitlab-token': SECRETS.gitlab };
    default: {
      const secret = route === 'release' ? SECRETS.release : SECRETS.dataRefresh;
      return {
        'x-vigil-delivery': delivery,
        'x-vigil-timestamp': ts,
        'x-vigil-signature': signVigil(secret, ts, delivery, body),
      };
    }
  }
}

const headerValue = fc.string({ unit: 'grapheme-ascii', maxLength: 80 });
const headerNames = fc.constantFrom(
  'content-type',
  'x-github-event',
  'x-github-delivery',
  'x-hub-signature-256',
  'x-gitlab-token',
  'x-gitlab-event',
  'x-gitlab-event-uuid',
  'idempotency-key',
  'x-vigil-delivery',
  'x-vigil-timestamp',
  'x-vigil-signature',
);
const randomHeaders = fc.dictionary(headerNames, headerValue, { maxKeys: 8 });
const contentType = fc.oneof(
  fc.constant('application/json'),
  fc.constant('application/json; charset=utf-8'),
  fc.constant('text/plain'),
  headerValue,
);

/** A body changed so that it differs from the one that was signed. */
const mutate = (valid: string) =>
  fc.oneof(
    fc.tuple(fc.nat(), fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 8 })).map(([i, s]) => {
      const at = i % (valid.length + 1);
      return valid.slice(0, at) + s + valid.slice(at);
    }),
    fc.nat().map((i) => valid.slice(0, i % valid.length)),
    fc.jsonValue().map((v) => JSON.stringify({ ...JSON.parse(valid), extra: v })),
  );

type Delivery = { route: string; body: string | Uint8Array; headers: Record<string, string> };

const delivery: fc.Arbitrary<Delivery> = fc.constantFrom(...ROUTES).chain((route) =>
  fc.oneof(
    // 1. random bytes, random headers
    fc.record({
      route: fc.constant(route),
      body: fc.uint8Array({ maxLength: 6000 }),
      headers: fc
        .tuple(randomHeaders, fc.option(contentType))
        .map(([h, ct]) => (ct === null ? h : { ...h, 'content-type': ct })),
    }),
    // 1b. oversized (the limit here is 4096 bytes), signed or not
    fc.tuple(fc.integer({ min: 4097, max: 20_000 }), fc.boolean()).map(([size, signed]) => {
      const body = new Uint8Array(size).fill(0x20);
      return {
        route,
        body,
        headers: { ...(signed ? signedHeaders(route, body, 'd-big') : {}), 'content-type': 'application/json' },
      };
    }),
    // 2. random JSON, random headers, JSON content type
    fc.record({
      route: fc.constant(route),
      body: fc.jsonValue().map((v) => JSON.stringify(v) ?? 'null'),
      headers: fc.tuple(randomHeaders, contentType).map(([h, ct]) => ({ ...h, 'content-type': ct })),
    }),
    // 3. a valid delivery mutated after signing, plus random extra headers. (GitLab's token does not
    //    cover the body, so there a mutated body carries a token that is one character off.)
    fc
      .tuple(mutate(VALID[route]!), randomHeaders, fc.boolean())
      .filter(([b]) => b !== VALID[route])
      .map(([body, extra, keepSig]) => ({
        route,
        body,
        headers: {
          ...extra,
          ...(keepSig ? signedHeaders(route, VALID[route]!, 'd-1') : {}),
          ...(keepSig && route === 'gitlab' ? { 'x-gitlab-token': SECRETS.gitlab.slice(0, -1) + 'X' } : {}),
          'content-type': 'application/json',
        },
      })),
    // 4. correctly signed garbage: authentication passes, parsing/validation must refuse
    fc
      .oneof(
        fc.uint8Array({ maxLength: 3000 }),
        fc.jsonValue().map((v) => JSON.stringify(v) ?? 'null'),
        fc.jsonValue().map((v) =>
          JSON.stringify({
            ...(typeof v === 'object' && v !== null && !Array.isArray(v) ? v : {}),
            model: 'sepsis-alert',
            ref: 'refs/heads/main',
            object_kind: 'push',
          }),
        ),
      )
      .map((body) => ({
        route,
        body,
        headers: { ...signedHeaders(route, body, 'd-signed'), 'content-type': 'application/json' },
      })),
  ),
);

describe('webhook fuzzing', () => {
  it(`${RUNS * ROUTES.length} random deliveries: always a 4xx JSON error, never a throw, never a start`, async () => {
    let count = 0;
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(delivery, async ({ route, body, headers }) => {
        count++;
        const before = starts;
        const res = await app.request(`/webhooks/${route}`, { method: 'POST', headers, body });
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        assert.ok(res.status >= 400 && res.status < 500, `status ${res.status} for ${route}`);
        assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
        const json = (await res.json()) as { error?: unknown };
        assert.equal(typeof json.error, 'string');
        assert.equal(starts, before, 'nothing may start');
      }),
      { numRuns: RUNS * ROUTES.length },
    );
    assert.equal(starts, 0);
    assert.ok(count >= 3000, `${count} deliveries`);
    // Each refusal class is actually exercised.
    for (const s of [400, 401, 413, 415])
      assert.ok((statuses.get(s) ?? 0) > 0, `some ${s} in ${JSON.stringify([...statuses])}`);
  });
});
