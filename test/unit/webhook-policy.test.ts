import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import {
  branchMatches,
  decideConcurrentCandidate,
  fillTemplate,
  InMemoryDeliveryLedger,
  loadWebhookConfig,
  parseWebhookConfig,
  SUPERSEDABLE_STAGES,
  signGitHub,
  signVigil,
  verifyGitHubSignature,
  verifyGitLabToken,
  verifyVigilSignature,
  WebhookConfigError,
} from '../../src/api/webhooks';
import { parse as parseYaml } from 'yaml';
import { ReleasePolicySchema } from '../../src/domain';
import { hex64, validPolicy } from '../support/fixtures';

describe('decideConcurrentCandidate', () => {
  it('starts when nothing else is in flight, whatever the policy', () => {
    assert.equal(decideConcurrentCandidate([], 'queue'), 'start');
    assert.equal(decideConcurrentCandidate([], 'supersede'), 'start');
  });
  it('queues under the queue policy', () => {
    assert.equal(decideConcurrentCandidate([{ releaseId: 'a', stage: 'SNAPSHOT' }], 'queue'), 'queue');
  });
  it('supersedes only pre-approval releases', () => {
    assert.deepEqual(SUPERSEDABLE_STAGES, ['SNAPSHOT', 'OFFLINE_EVAL', 'SHADOW', 'AWAITING_APPROVAL']);
    for (const stage of SUPERSEDABLE_STAGES) {
      assert.deepEqual(decideConcurrentCandidate([{ releaseId: 'a', stage }], 'supersede'), { supersede: ['a'] });
    }
    for (const stage of ['CANARY', 'MONITORING', null] as const) {
      assert.equal(decideConcurrentCandidate([{ releaseId: 'a', stage }], 'supersede'), 'queue', String(stage));
    }
    assert.equal(
      decideConcurrentCandidate(
        [
          { releaseId: 'a', stage: 'SHADOW' },
          { releaseId: 'b', stage: 'CANARY' },
        ],
        'supersede',
      ),
      'queue',
      'one past approval blocks superseding',
    );
  });
});

describe('signatures', () => {
  const body = Buffer.from('{"a":1}');
  it('GitHub sha256= HMAC over the raw bytes', () => {
    assert.equal(verifyGitHubSignature('s3cret', body, signGitHub('s3cret', body)), true);
    assert.equal(
      verifyGitHubSignature('s3cret', body, signGitHub('s3cret', body).toUpperCase().replace('SHA256', 'sha256')),
      true,
    );
    assert.equal(verifyGitHubSignature('s3cret', Buffer.from('{"a":2}'), signGitHub('s3cret', body)), false);
    for (const h of [undefined, '', 'sha256=', 'sha256=zz', `sha256=${'0'.repeat(63)}`, signGitHub('other', body)]) {
      assert.equal(verifyGitHubSignature('s3cret', body, h), false, String(h));
    }
  });
  it('GitLab token', () => {
    assert.equal(verifyGitLabToken('token-123', 'token-123'), true);
    for (const h of [undefined, '', 'token-12', 'token-1234', 'x'.repeat(5000)])
      assert.equal(verifyGitLabToken('token-123', h), false);
  });
  it('Vigil v1 binds timestamp and delivery id, and accepts any of several v1 values (rotation)', () => {
    const sig = signVigil('k', '1700000000', 'd1', body);
    assert.match(sig, /^v1=[0-9a-f]{64}$/);
    assert.equal(verifyVigilSignature('k', '1700000000', 'd1', body, sig), true);
    assert.equal(verifyVigilSignature('k', '1700000001', 'd1', body, sig), false);
    assert.equal(verifyVigilSignature('k', '1700000000', 'd2', body, sig), false);
    assert.equal(
      verifyVigilSignature('k', '1700000000', 'd1', body, `${signVigil('old', '1700000000', 'd1', body)},${sig}`),
      true,
    );
    assert.equal(verifyVigilSignature('k', '1700000000', 'd1', body, 'v0=' + sig.slice(3)), false);
  });
});

describe('InMemoryDeliveryLedger', () => {
  it('forgets after the TTL and evicts the least recently used beyond its size', async () => {
    let now = 0;
    const ledger = new InMemoryDeliveryLedger({ maxEntries: 2, ttlMs: 1000, now: () => now });
    await ledger.record('a', { releaseId: 'r', outcome: 'started' });
    await ledger.record('b', { releaseId: 'r', outcome: 'started' });
    assert.ok(await ledger.get('a'));
    await ledger.record('c', { releaseId: 'r', outcome: 'started' });
    assert.equal(await ledger.get('b'), undefined, 'b was least recently used');
    assert.ok(await ledger.get('a'));
    now = 1000;
    assert.equal(await ledger.get('a'), undefined);
  });
});

describe('webhook configuration', () => {
  const model = {
    model: 'sepsis-alert',
    policyFile: 'p.yaml',
    incumbent: { version: '1', artifact: { key: 'models/a.json', sha256: hex64('a') } },
    datasets: [{ role: 'evaluation', name: 'e', artifact: { key: 'd/e.csv', sha256: hex64('e') } }],
    candidate: { keyTemplate: 'models/{model}/{commit}.json' },
    git: [{ provider: 'github', repository: 'acme/m', branches: ['main'] }],
  };
  const policy = () => ReleasePolicySchema.parse(validPolicy());
  const errorOf = (raw: unknown): string => {
    try {
      parseWebhookConfig(raw, policy);
    } catch (err) {
      assert.ok(err instanceof WebhookConfigError);
      return err.message;
    }
    assert.fail('expected a WebhookConfigError');
  };

  it('applies defaults', () => {
    const c = parseWebhookConfig({ version: 1, models: [model] }, policy);
    assert.equal(c.models[0]!.concurrency, 'queue');
    assert.equal(c.models[0]!.candidate.versionTemplate, '{shortCommit}');
    assert.equal(c.models[0]!.dataRefresh, false);
  });
  it('rejects unknown template variables, unsafe keys, unknown fields, duplicate models, a missing evaluation dataset', () => {
    assert.match(
      errorOf({ version: 1, models: [{ ...model, candidate: { keyTemplate: 'm/{sha}.json' } }] }),
      /unknown template variable \{sha\}/,
    );
    assert.match(
      errorOf({ version: 1, models: [{ ...model, candidate: { keyTemplate: '/abs/{commit}' } }] }),
      /candidate.keyTemplate/,
    );
    assert.match(errorOf({ version: 1, models: [{ ...model, secret: 'x' }] }), /secret/);
    assert.match(errorOf({ version: 1, models: [model, model] }), /configured twice/);
    assert.match(
      errorOf({ version: 1, models: [{ ...model, datasets: [{ ...model.datasets[0], role: 'training' }] }] }),
      /evaluation dataset/,
    );
    assert.match(errorOf({ version: 2, models: [model] }), /version/);
  });
  it('fills templates and reports what an event cannot fill', () => {
    assert.deepEqual(fillTemplate('models/{model}/{commit}.json', { model: 'm', commit: 'c' }), {
      value: 'models/m/c.json',
    });
    assert.deepEqual(fillTemplate('d/{datasetShort}', { model: 'm' }), { missing: ['datasetShort'] });
  });
  it('matches branch globs', () => {
    assert.equal(branchMatches('main', 'main'), true);
    assert.equal(branchMatches('main', 'main2'), false);
    assert.equal(branchMatches('release/*', 'release/1.2'), true);
    assert.equal(branchMatches('release/*', 'release/1/2'), false);
    assert.equal(branchMatches('feature/**', 'feature/a/b'), true);
    assert.equal(branchMatches('v1.*', 'v1x2'), false, '"." is literal');
  });
});

describe('config/webhooks.example.yaml', () => {
  it('loads and validates, with its policy file', async () => {
    const c = await loadWebhookConfig(path.resolve(__dirname, '../../config/webhooks.example.yaml'));
    assert.equal(c.models[0]!.model, 'sepsis-alert');
    assert.equal(c.models[0]!.policy.id, 'sepsis-alert-release');
    // The policy file as written travels beside its effective form: the pinned digest is of what the author wrote.
    const written = parseYaml(readFileSync(path.resolve(__dirname, '../../demo/policies/demo.yaml'), 'utf8'));
    assert.deepEqual(c.models[0]!.policyAsWritten, written);
    assert.deepEqual(ReleasePolicySchema.parse(written), c.models[0]!.policy);
  });
});

describe('temporalSuperseder', () => {
  it('sends the supersedeRelease Update to the older release with the successor and reason', async () => {
    const { temporalSuperseder } = await import('../../src/api/webhooks');
    const { supersedeReleaseUpdate } = await import('../../src/domain/messages');
    const sent: unknown[] = [];
    const client = {
      workflow: {
        getHandle: (id: string) => ({
          executeUpdate: async (def: unknown, opts: { args: unknown[] }) => {
            sent.push([id, def === supersedeReleaseUpdate, opts.args[0]]);
            return { releaseId: id, outcome: 'SUPERSEDED', chainEntry: null };
          },
        }),
      },
    } as unknown as Parameters<typeof temporalSuperseder>[0];
    await temporalSuperseder(client).supersede('older-1', { supersededBy: 'newer-1', reason: 'newer candidate' });
    assert.deepEqual(sent, [['older-1', true, { supersededBy: 'newer-1', reason: 'newer candidate' }]]);
  });
});
