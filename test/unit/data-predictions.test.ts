import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { describe, it } from 'node:test';
import {
  DatasetError,
  joinPredictions,
  parseDatasetSchema,
  parsePredictionFile,
  readCsvTable,
  type DatasetErrorCode,
} from '../../src/data';

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

describe('joinPredictions', () => {
  const table = readCsvTable(
    Buffer.from('case_id,site,x,label\nc3,a,1,0\nc1,b,2,1\nc2,a,,1\nc4,b,3,0\n'),
    parseDatasetSchema({
      format: 'vigil.dataset-schema/v1',
      columns: [
        { name: 'case_id', role: 'case_id', type: 'string' },
        { name: 'site', role: 'slice', type: 'string' },
        { name: 'x', role: 'feature', type: 'number', missing: { policy: 'drop-row' } },
        { name: 'label', role: 'label', type: 'label' },
      ],
    }),
    't.csv',
  );
  const file = pinned('case_id,score\nc1,0.1\nc2,0.2\nc3,0.3\nc4,0.4\n')();

  it("puts each score on its row by the table's interned ids, as by the id strings", () => {
    assert.deepEqual(table.caseIds, ['c3', 'c1', 'c4']);
    const excluded = new Set(table.droppedCaseIds);
    assert.deepEqual([...joinPredictions(file, table.caseIdColumn, excluded)], [0.3, 0.1, 0.4]);
    assert.deepEqual([...joinPredictions(file, table.caseIds, excluded)], [0.3, 0.1, 0.4]);
  });

  it('refuses a score for a case the evaluation does not have, unless the case was dropped on purpose', () => {
    assert.throws(() => joinPredictions(file, table.caseIdColumn), { code: 'coverage', message: /1 score\(s\).*"c2"/ });
  });

  it('refuses an evaluation case without a score', () => {
    const short = pinned('case_id,score\nc1,0.1\nc3,0.3\n')();
    assert.throws(() => joinPredictions(short, table.caseIdColumn, new Set(['c2'])), {
      code: 'coverage',
      message: /1 evaluation case\(s\) have no score, e\.g\. "c4"/,
    });
  });
});
