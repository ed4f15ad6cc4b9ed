import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { describe, it } from 'node:test';
import { DatasetError, parsePredictionFile, type DatasetErrorCode } from '../../src/data';

const pinned = (text: string) => {
  const bytes = Buffer.from(text);
  return () => parsePredictionFile(bytes, crypto.createHash('sha256').update(bytes).digest('hex'), 'p.csv');
};

describe('parsePredictionFile', () => {
  it('reads case_id,score rows into interned ids and a float64 column, and reports the digest', () => {
    const p = pinned('case_id,score\na,0\nb,1\nc,0.25\n')();
    assert.deepEqual(
      [...p.scores].map((score, i) => [p.ids.text(i), score]),
      [
        ['a', 0],
        ['b', 1],
        ['c', 0.25],
      ],
    );
    assert.match(p.sha256, /^[0-9a-f]{64}$/);
  });

  const bad: [string, string, DatasetErrorCode, number | undefined, RegExp][] = [
    ['a NaN score', 'case_id,score\na,0.1\nb,NaN\n', 'non-finite', 2, /row 2, column "score": score is not finite/],
    ['an infinite score', 'case_id,score\na,inf\n', 'non-finite', 1, /not finite/],
    ['a score above 1', 'case_id,score\na,1.01\n', 'type-mismatch', 1, /outside \[0, 1\]/],
    ['a text score', 'case_id,score\na,high\n', 'type-mismatch', 1, /expected a number/],
    ['a duplicate case id', 'case_id,score\na,0.1\na,0.2\n', 'duplicate-id', 2, /already scored in row 1/],
    ['an empty case id', 'case_id,score\n,0.1\n', 'missing-value', 1, /empty case id/],
    ['a ragged row', 'case_id,score\na,0.1,x\n', 'ragged-row', 1, /3 cells, expected 2/],
    ['a wrong header', 'id,prob\na,0.1\n', 'missing-column', undefined, /exactly "case_id,score"/],
    ['no rows', 'case_id,score\n', 'empty', undefined, /no data rows/],
  ];
  for (const [what, text, code, row, message] of bad) {
    it(`rejects ${what}`, () => {
      assert.throws(
        pinned(text),
        (e: unknown) => e instanceof DatasetError && e.code === code && e.row === row && message.test(e.message),
      );
    });
  }

  it('rejects a malformed pinned digest before reading anything', () => {
    assert.throws(() => parsePredictionFile(Buffer.from('case_id,score\n'), 'ABC'), RangeError);
  });
});
