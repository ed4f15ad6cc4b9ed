import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DatasetError,
  labelledSchema,
  parseDatasetSchema,
  readCsvHeader,
  readCsvTable,
  readParquetTable,
  readTable,
  type DatasetErrorCode,
  type DatasetSchema,
} from '../../src/data';

const schema = labelledSchema(['x0', 'x1'], { patientId: 'patient' });
const csv = (text: string) => Buffer.from(text);
const HEADER = 'case_id,patient,site,x0,x1,label';

function withMissing(column: string, missing: unknown): DatasetSchema {
  return parseDatasetSchema({
    ...schema,
    columns: schema.columns.map((c) => (c.name === column ? { ...c, missing } : c)),
  });
}

async function parquet(columns: { name: string; type: string; data: unknown[] }[]): Promise<Uint8Array> {
  const { parquetWriteBuffer } = (await import('hyparquet-writer')) as unknown as {
    parquetWriteBuffer(o: {
      columnData: { name: string; type: string; data: unknown[]; nullable?: boolean }[];
      rowGroupSize?: number;
    }): ArrayBuffer;
  };
  return new Uint8Array(
    parquetWriteBuffer({ columnData: columns.map((c) => ({ ...c, nullable: true })), rowGroupSize: 2 }),
  );
}

const goodParquetColumns = (): { name: string; type: string; data: unknown[] }[] => [
  { name: 'case_id', type: 'STRING', data: ['c1', 'c2', 'c3'] },
  { name: 'patient', type: 'STRING', data: ['p1', 'p1', 'p2'] },
  { name: 'site', type: 'STRING', data: ['a', 'b', 'a'] },
  { name: 'x0', type: 'DOUBLE', data: [0.5, -1.25, 3] },
  { name: 'x1', type: 'INT32', data: [1, 2, 3] },
  { name: 'label', type: 'INT32', data: [0, 1, 1] },
];
const equivalentCsv = `${HEADER}\nc1,p1,a,0.5,1,0\nc2,p1,b,-1.25,2,1\nc3,p2,a,3,3,1\n`;

describe('readCsvTable', () => {
  it('produces columnar typed arrays: row-major float32 features, 0/1 labels, ids and slices', () => {
    const t = readCsvTable(csv(`${HEADER}\nc1,p1,a,0.1,2,0\nc2,p2,b,-3e2,4,1\n`), schema, 't.csv');
    assert.equal(t.rows, 2);
    assert.deepEqual(t.caseIds, ['c1', 'c2']);
    assert.deepEqual(t.patientIds, ['p1', 'p2']);
    assert.deepEqual(t.slices, { site: ['a', 'b'] });
    assert.deepEqual(t.featureNames, ['x0', 'x1']);
    assert.deepEqual(t.features, Float32Array.of(0.1, 2, -300, 4));
    assert.deepEqual(t.labels, Uint8Array.of(0, 1));
    assert.deepEqual(t.missing, []);
  });

  it('reads columns by name, whatever their order in the file', () => {
    const t = readCsvTable(csv('label,x1,x0,site,patient,case_id\n1,7,5,s,p,c\n'), schema, 't.csv');
    assert.deepEqual(t.features, Float32Array.of(5, 7));
  });

  const bad: [string, string, DatasetErrorCode, number | undefined, string | undefined, RegExp][] = [
    ['a NaN feature', 'c1,p1,a,NaN,1,0', 'non-finite', 1, 'x0', /row 1, column "x0": value is not finite \("NaN"\)/],
    ['an infinite feature', 'c1,p1,a,1,-Infinity,0', 'non-finite', 1, 'x1', /row 1, column "x1": value is not finite/],
    ['an overflowing feature', 'c1,p1,a,1e999,1,0', 'non-finite', 1, 'x0', /not finite/],
    ['a value beyond float32', 'c1,p1,a,1e39,1,0', 'non-finite', 1, 'x0', /outside the float32 range/],
    ['a label 2', 'c1,p1,a,1,1,2', 'bad-label', 1, 'label', /row 1, column "label": label must be 0 or 1, got "2"/],
    ['a label "yes"', 'c1,p1,a,1,1,yes', 'bad-label', 1, 'label', /got "yes"/],
    [
      'a text in a number column',
      'c1,p1,a,1,abc,0',
      'type-mismatch',
      1,
      'x1',
      /row 1, column "x1": expected a number, got "abc"/,
    ],
    ['a hex number', 'c1,p1,a,0x10,1,0', 'type-mismatch', 1, 'x0', /expected a number/],
    ['a ragged row', 'c1,p1,a,1,0', 'ragged-row', 1, undefined, /row 1 has 5 cells, the header has 6/],
    [
      'a missing feature (reject)',
      'c1,p1,a,,1,0',
      'missing-value',
      1,
      'x0',
      /row 1, column "x0": missing value \(policy: reject\)/,
    ],
    ['a missing label', 'c1,p1,a,1,1,', 'missing-value', 1, 'label', /column "label": missing value/],
  ];
  for (const [what, row, code, rowNo, column, message] of bad) {
    it(`rejects ${what} with a DatasetError naming row and column`, () => {
      assert.throws(
        () => readCsvTable(csv(`${HEADER}\n${row}\n`), schema, 't.csv'),
        (e: unknown) =>
          e instanceof DatasetError &&
          e.code === code &&
          e.row === rowNo &&
          e.column === column &&
          message.test(e.message),
      );
    });
  }

  it('names the row of a problem further down the file', () => {
    assert.throws(
      () => readCsvTable(csv(`${HEADER}\nc1,p1,a,1,1,0\nc2,p1,a,1,1,1\nc3,p1,a,1,inf,1\n`), schema, 't.csv'),
      { code: 'non-finite', row: 3, column: 'x1' },
    );
  });

  it('rejects missing required columns, duplicate header names, unexpected columns, duplicate case ids and empty files', () => {
    assert.throws(() => readCsvTable(csv('case_id,patient,site,x0,label\nc,p,a,1,0\n'), schema, 't.csv'), {
      code: 'missing-column',
      column: 'x1',
      message: /missing required column "x1"/,
    });
    assert.throws(() => readCsvTable(csv(`${HEADER},x0\nc,p,a,1,1,0,1\n`), schema, 't.csv'), {
      code: 'duplicate-column',
      column: 'x0',
    });
    assert.throws(() => readCsvTable(csv(`${HEADER},extra\nc,p,a,1,1,0,9\n`), schema, 't.csv'), {
      code: 'unexpected-column',
      column: 'extra',
    });
    assert.throws(() => readCsvTable(csv(`${HEADER}\nc,p,a,1,1,0\nc,q,a,1,1,1\n`), schema, 't.csv'), {
      code: 'duplicate-id',
      row: 2,
      message: /case id "c" already used by row 1/,
    });
    assert.throws(() => readCsvTable(csv(`${HEADER}\n`), schema, 't.csv'), { code: 'empty' });
    assert.throws(() => readCsvTable(csv(''), schema, 't.csv'), { code: 'empty' });
    assert.throws(() => readCsvTable(csv(`${HEADER}\n"unterminated,p,a,1,1,0\n`), schema, 't.csv'), {
      code: 'unreadable',
    });
  });

  it('ignores unnamed columns only when the schema says so', () => {
    const lenient = parseDatasetSchema({ ...schema, extraColumns: 'ignore' });
    assert.equal(readCsvTable(csv(`${HEADER},extra\nc,p,a,1,1,0,9\n`), lenient, 't.csv').rows, 1);
  });
});

describe('readCsvHeader', () => {
  it('reads the first record as readCsvTable does (BOM, trimming, quotes), without the rows', () => {
    assert.deepEqual(readCsvHeader(csv('\ufeff case_id , "a,b" ,label\n1,2,x"y\n'), 'h.csv'), [
      'case_id',
      'a,b',
      'label',
    ]);
    assert.deepEqual(readCsvHeader(csv('\n\ncase_id\r\n'), 'h.csv'), ['case_id']);
  });

  it('names an empty file and a malformed header as dataset errors', () => {
    assert.throws(() => readCsvHeader(csv(''), 'h.csv'), { code: 'empty' });
    assert.throws(() => readCsvHeader(csv('a,"b\n'), 'h.csv'), {
      code: 'unreadable',
      message: /dataset h\.csv: not valid CSV: a quoted field is not closed/,
    });
  });
});

describe('missing-value policies', () => {
  const text = `${HEADER}\nc1,p1,a,,1,0\nc2,p2,,2,NA,1\nc3,p3,b,3,3,0\nc4,p4,b,,4,1\n`;

  it('drop-row leaves the rows out, reports counts per column and the dropped case ids', () => {
    const s = parseDatasetSchema({ ...withMissing('x0', { policy: 'drop-row' }), missingTokens: ['', 'NA'] });
    const t = readCsvTable(
      csv(text),
      parseDatasetSchema({
        ...s,
        columns: s.columns.map((c) =>
          c.name === 'site' || c.name === 'x1' ? { ...c, missing: { policy: 'drop-row' } } : c,
        ),
      }),
      't.csv',
    );
    assert.equal(t.sourceRows, 4);
    assert.equal(t.rows, 1);
    assert.deepEqual(t.caseIds, ['c3']);
    assert.deepEqual(t.features, Float32Array.of(3, 3));
    assert.deepEqual(t.droppedCaseIds, ['c1', 'c2', 'c4']);
    assert.deepEqual(t.missing, [
      { column: 'site', policy: 'drop-row', cells: 1, rowsDropped: 1, imputed: 0 },
      { column: 'x0', policy: 'drop-row', cells: 2, rowsDropped: 2, imputed: 0 },
      { column: 'x1', policy: 'drop-row', cells: 1, rowsDropped: 0, imputed: 0 },
    ]);
  });

  it('impute fills the constant and counts it', () => {
    const s0 = parseDatasetSchema({ ...withMissing('x0', { policy: 'impute', value: -1 }), missingTokens: ['', 'NA'] });
    const s = parseDatasetSchema({
      ...s0,
      columns: s0.columns.map((c) =>
        c.name === 'site'
          ? { ...c, missing: { policy: 'impute', value: 'unknown' } }
          : c.name === 'x1'
            ? { ...c, missing: { policy: 'impute', value: 0 } }
            : c,
      ),
    });
    const t = readCsvTable(csv(text), s, 't.csv');
    assert.equal(t.rows, 4);
    assert.deepEqual(t.features, Float32Array.of(-1, 1, 2, 0, 3, 3, -1, 4));
    assert.deepEqual(t.slices.site, ['a', 'unknown', 'b', 'b']);
    assert.deepEqual(
      t.missing.map((m) => [m.column, m.imputed]),
      [
        ['site', 1],
        ['x0', 2],
        ['x1', 1],
      ],
    );
  });

  it('reject (the default) fails at the first missing cell', () => {
    assert.throws(() => readCsvTable(csv(text), schema, 't.csv'), { code: 'missing-value', row: 1, column: 'x0' });
  });

  it('a table whose every row is dropped is an error, not an empty evaluation', () => {
    assert.throws(
      () => readCsvTable(csv(`${HEADER}\nc1,p1,a,,1,0\n`), withMissing('x0', { policy: 'drop-row' }), 't.csv'),
      { code: 'empty', message: /all 1 rows were dropped/ },
    );
  });

  it('the schema refuses policies that make no sense', () => {
    assert.throws(() => withMissing('label', { policy: 'impute', value: 0 }), /a label column cannot be imputed/);
    assert.throws(() => withMissing('case_id', { policy: 'impute', value: 'x' }), /a case_id column cannot be imputed/);
    assert.throws(() => withMissing('x0', { policy: 'impute', value: 'zero' }), /imputed value must be a number/);
    assert.throws(() => parseDatasetSchema({ ...schema, missingTokens: ['NaN'] }), /cannot mean missing/);
    assert.throws(
      () => parseDatasetSchema({ ...schema, columns: schema.columns.filter((c) => c.role !== 'label') }),
      /exactly one label column/,
    );
    assert.throws(
      () =>
        parseDatasetSchema({
          ...schema,
          columns: schema.columns.map((c) => (c.name === 'x0' ? { ...c, type: 'string' } : c)),
        }),
      /a feature column must have type number/,
    );
  });
});

describe('readParquetTable', () => {
  it('reads the same table as the equivalent CSV (across row groups)', async () => {
    const fromParquet = await readParquetTable(await parquet(goodParquetColumns()), schema, 't.parquet');
    const fromCsv = readCsvTable(csv(equivalentCsv), schema, 't.csv');
    assert.deepEqual({ ...fromParquet, name: '' }, { ...fromCsv, name: '' });
  });

  it('dispatches on the file name', async () => {
    assert.equal((await readTable(await parquet(goodParquetColumns()), 'eval.parquet', schema, 'eval')).rows, 3);
    assert.equal((await readTable(csv(equivalentCsv), 'eval.csv', schema, 'eval')).rows, 3);
    await assert.rejects(readTable(csv(equivalentCsv), 'eval.xlsx', schema, 'eval'), { code: 'unreadable' });
  });

  const mutate = (name: string, data: unknown[], type?: string) =>
    goodParquetColumns().map((c) => (c.name === name ? { ...c, data, type: type ?? c.type } : c));
  const bad: [
    string,
    () => ReturnType<typeof goodParquetColumns>,
    DatasetErrorCode,
    number | undefined,
    string | undefined,
  ][] = [
    ['a NaN feature', () => mutate('x0', [0.5, NaN, 3]), 'non-finite', 2, 'x0'],
    ['an infinite feature', () => mutate('x0', [Infinity, 1, 3]), 'non-finite', 1, 'x0'],
    ['a label outside {0,1}', () => mutate('label', [0, 1, 2]), 'bad-label', 3, 'label'],
    ['a string in a number column', () => mutate('x1', ['1', '2', '3'], 'STRING'), 'type-mismatch', 1, 'x1'],
    ['a number in a string column', () => mutate('site', [1, 2, 3], 'INT32'), 'type-mismatch', 1, 'site'],
    ['a null with policy reject', () => mutate('x0', [0.5, null, 3]), 'missing-value', 2, 'x0'],
    [
      'a missing required column',
      () => goodParquetColumns().filter((c) => c.name !== 'x1'),
      'missing-column',
      undefined,
      'x1',
    ],
  ];
  for (const [what, columns, code, row, column] of bad) {
    it(`rejects ${what} with a DatasetError naming row and column`, async () => {
      await assert.rejects(
        readParquetTable(await parquet(columns()), schema, 't.parquet'),
        (e: unknown) => e instanceof DatasetError && e.code === code && e.row === row && e.column === column,
      );
    });
  }

  it('accepts boolean labels and applies drop-row to nulls', async () => {
    const t = await readParquetTable(
      await parquet(
        mutate('label', [false, true, true], 'BOOLEAN').map((c) =>
          c.name === 'x0' ? { ...c, data: [0.5, null, 3] } : c,
        ),
      ),
      withMissing('x0', { policy: 'drop-row' }),
      't.parquet',
    );
    assert.deepEqual(t.labels, Uint8Array.of(0, 1));
    assert.deepEqual(t.droppedCaseIds, ['c2']);
  });

  it('rejects bytes that are not Parquet', async () => {
    await assert.rejects(readParquetTable(csv(equivalentCsv), schema, 't.parquet'), { code: 'unreadable' });
  });
});
