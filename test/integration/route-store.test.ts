/**
 * The live route table in S3 (what the setRoutes activity writes and the gateway polls): versions keep moving
 * forward across releases though each release numbers its own tables from 1, a retried write changes nothing,
 * and the previous production model stays hot after a promotion. Checked against the gateway's own adoption rule.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createS3Client } from '../../src/evidence';
import { RouteTables, S3RouteStore } from '../../src/gateway';
import { startTestStack, type TestStack } from '../../src/stack';

let stack: TestStack;
let store: S3RouteStore;
let s3: ReturnType<typeof createS3Client>;
before(async () => {
  stack = await startTestStack({ temporal: false });
  s3 = createS3Client(stack.s3Config);
  store = new S3RouteStore(s3, stack.bucket);
});
after(async () => {
  s3?.destroy();
  await stack?.stop();
});

describe('S3RouteStore with release revisions', () => {
  it('numbers tables per model, ignores a retried revision, keeps the old production hot, and the gateway adopts every step', async () => {
    const gateway = new RouteTables(() => new Set(['1.4.0', '2.0.0', '2.1.0']));
    const adopt = async () => gateway.adopt('sepsis-alert', await store.current('sepsis-alert'));

    // Release A: canary 10 %, canary 50 %, promotion.
    await store.apply(
      'sepsis-alert',
      { version: 1, production: '1.4.0', canary: { model: '2.0.0', percent: 10 } },
      'rel-a#1',
    );
    assert.equal(await adopt(), true);
    await store.apply(
      'sepsis-alert',
      { version: 1, production: '1.4.0', canary: { model: '2.0.0', percent: 10 } },
      'rel-a#1',
    ); // a retry
    assert.equal((await store.current('sepsis-alert'))!.version, 1, 'a retried revision writes nothing');
    await store.apply(
      'sepsis-alert',
      { version: 2, production: '1.4.0', canary: { model: '2.0.0', percent: 50 } },
      'rel-a#2',
    );
    assert.equal(await adopt(), true);
    await store.apply('sepsis-alert', { version: 3, production: '2.0.0', canary: null }, 'rel-a#3');
    assert.equal(await adopt(), true);
    assert.deepEqual(await store.current('sepsis-alert'), {
      version: 3,
      production: '2.0.0',
      canary: null,
      revision: 'rel-a#3',
      hot: ['1.4.0'],
    });

    // Release B starts its own numbering at 1; the model's table still moves forward, and B's rollback is adopted.
    await store.apply(
      'sepsis-alert',
      { version: 1, production: '2.0.0', canary: { model: '2.1.0', percent: 10 } },
      'rel-b#1',
    );
    assert.equal(await adopt(), true);
    await store.apply('sepsis-alert', { version: 2, production: '2.0.0', canary: null }, 'rel-b#2');
    assert.equal(await adopt(), true);
    const final = await store.current('sepsis-alert');
    assert.deepEqual(
      [final!.version, final!.production, final!.canary, final!.revision],
      [5, '2.0.0', null, 'rel-b#2'],
    );
    assert.deepEqual(gateway.get('sepsis-alert')?.version, 5);
  });

  it('without a revision writes the table as given (the gateway and tests set tables directly)', async () => {
    await store.apply('other-model', { version: 7, production: '1.4.0', canary: null });
    assert.deepEqual(await store.current('other-model'), { version: 7, production: '1.4.0', canary: null });
  });
});
