/**
 * parsePredictionFileOnThread parses a large prediction file on a worker thread. It must give exactly what
 * parsePredictionFile gives on the calling thread: the same digest, ids, scores and join (ids in order and
 * shuffled, so both the in-order join and the hash lookup run on the rebuilt id set), and the same DatasetError
 * (code, message, row, column) for a bad file; the caller's bytes are left as they were. The worker is asked
 * directly too, so a worker that fails (and the calling thread's fallback) cannot pass unnoticed.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { describe, it } from 'node:test';
import { DatasetError, joinPredictions, parsePredictionFile } from '../../src/data';
import {
  PREDICTION_THREAD_MIN_BYTES,
  parsePredictionFileOnThread,
  parsePredictionFileOnWorker,
} from '../../src/data/prediction-thread';
import { mulberry32 } from '../../src/sim/prng';

const sha = (b: Uint8Array) => crypto.createHash('sha256').update(b).digest('hex');

/** A prediction file of `n` rows (enough to pass the thread threshold by default): ids in order, or shuffled. */
function bigFile(shuffled: boolean, n = Math.ceil(PREDICTION_THREAD_MIN_BYTES / 20)): { bytes: Buffer; ids: string[] } {
  const rand = mulberry32(18);
  const ids = Array.from({ length: n }, (_, i) => `case-${String(i).padStart(9, '0')}`);
  const order = ids.map((_, i) => i);
  if (shuffled)
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
  const lines = order.map((i) => `${ids[i]},${(Math.round(rand() * 1e6) / 1e6).toString()}\n`);
  const bytes = Buffer.from(`case_id,score\n${lines.join('')}`);
  return { bytes, ids };
}

const errorOf = async (f: () => Promise<unknown> | unknown) => {
  try {
    await f();
  } catch (e) {
    assert.ok(e instanceof DatasetError, `a DatasetError, got ${String(e)}`);
    return { code: e.code, message: e.message, row: e.row, column: e.column };
  }
  assert.fail('expected a DatasetError');
};

describe('parsePredictionFileOnThread', () => {
  for (const shuffled of [false, true])
    it(`gives the calling thread's result (ids ${shuffled ? 'shuffled' : 'in order'}), joined identically`, async () => {
      const { bytes, ids } = bigFile(shuffled, 200_000);
      const before = sha(bytes);
      const here = parsePredictionFile(bytes, before, 'p.csv');
      const there = await parsePredictionFileOnWorker(bytes, before, 'p.csv');
      assert.ok(there, 'the worker parsed it (null: the worker failed)');
      assert.equal(sha(bytes), before, "the caller's bytes are unchanged");
      assert.equal(there.sha256, here.sha256);
      assert.equal(there.ids.size, here.ids.size);
      assert.deepEqual(there.ids.texts(), here.ids.texts());
      assert.deepEqual(there.scores, here.scores);
      assert.deepEqual(joinPredictions(there, ids), joinPredictions(here, ids));
      // a duplicate found through the rebuilt set's index, as through the original's
      assert.equal(there.ids.findText(ids[7]!), here.ids.findText(ids[7]!));
    });

  it("a file above the threshold goes to a worker; handed-over bytes move there (the caller's view emptied)", async () => {
    const { bytes } = bigFile(false);
    assert.ok(bytes.length >= PREDICTION_THREAD_MIN_BYTES);
    const pin = sha(bytes);
    const here = parsePredictionFile(bytes, pin, 'p.csv');
    const mine = new Uint8Array(bytes.length);
    mine.set(bytes); // a view spanning its whole buffer, as a file read gives
    const there = await parsePredictionFileOnThread(mine, pin, 'p.csv', { handOver: true });
    assert.equal(mine.byteLength, 0, 'the buffer moved to the worker');
    assert.deepEqual(there.ids.texts(), here.ids.texts());
    assert.deepEqual(there.scores, here.scores);
    // a view into a larger buffer is copied, never moved (it would take the rest of the buffer along)
    const wide = new Uint8Array(bytes.length + 8);
    wide.set(bytes);
    const view = wide.subarray(0, bytes.length);
    await parsePredictionFileOnThread(view, pin, 'p.csv', { handOver: true });
    assert.equal(view.byteLength, bytes.length);
  });

  it('throws the same DatasetError as the calling thread for a bad row and for a swapped file', async () => {
    const { bytes } = bigFile(false, 200_000);
    const bad = Buffer.concat([bytes, Buffer.from('case-000000003,0.5\n')]);
    const badSha = sha(bad);
    const expected = await errorOf(() => parsePredictionFile(bad, badSha, 'p.csv'));
    assert.equal(expected.code, 'duplicate-id');
    assert.deepEqual(await errorOf(() => parsePredictionFileOnWorker(bad, badSha, 'p.csv')), expected);
    assert.deepEqual(await errorOf(() => parsePredictionFileOnThread(bad, badSha, 'p.csv')), expected);
    const swapped = await errorOf(() => parsePredictionFileOnWorker(bytes, badSha, 'p.csv'));
    assert.deepEqual(swapped, await errorOf(() => parsePredictionFile(bytes, badSha, 'p.csv')));
    assert.equal(swapped.code, 'digest-mismatch');
  });

  it('rejects a malformed pin with the same RangeError, and parses a small file on the calling thread', async () => {
    const small = Buffer.from('case_id,score\na,0.5\n');
    await assert.rejects(parsePredictionFileOnThread(small, 'abc'), RangeError);
    const p = await parsePredictionFileOnThread(small, sha(small));
    assert.deepEqual([p.ids.text(0), p.scores[0]], ['a', 0.5]);
  });
});
