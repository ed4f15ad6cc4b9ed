/**
 * The manifest reads CSV through the data readers' byte tokenizer in its `exact` dialect
 * (src/provenance/csv-rows.ts over src/data/csv-scan.ts), with an ASCII fast path that builds row-digest JSON
 * and parses numbers straight from bytes. These tests pin it to the reference: csv-parse's records (or error
 * message) for the same bytes, and the manifest that csv-parse rows + JSON.stringify + Number give, on
 * adversarial inputs.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { parse } from 'csv-parse/sync';
import { parseDecimal as decimalValue } from '../../src/data/decimal';
import { buildDatasetManifest } from '../../src/provenance/manifest-builder';
import { openCsv, scanTable, type TableStream } from '../../src/provenance/table-reader';
import { openCsvWithCsvParse } from '../support/csv-parse-reference';
import { rowDigest } from '../../src/provenance/row-digest';
import { SplitAssigner } from '../../src/provenance/split';
import type { DatasetLineage } from '../../src/domain/dataset-manifest';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-csv-scanner-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
let fileNo = 0;
function write(bytes: Uint8Array | string): string {
  const file = path.join(tmp, `t${fileNo++}.csv`);
  fs.writeFileSync(file, bytes);
  return file;
}

type Outcome = { columns: string[]; rows: (string | null)[][]; sha256: string; bytes: number } | { error: string };

async function readAll(open: () => Promise<TableStream>): Promise<Outcome> {
  try {
    const t = await open();
    const rows: (string | null)[][] = [];
    for await (const batch of t.batches) rows.push(...batch);
    const d = await t.fileDigest();
    return { columns: t.columns, rows, ...d };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

/** The scanner (at several block sizes, so block boundaries fall everywhere) agrees with csv-parse. */
async function assertSameAsCsvParse(
  bytes: Uint8Array | string,
  blockSizes: number[] = [1 << 20, 1, 2, 3, 7],
): Promise<void> {
  const file = write(bytes);
  const expected = await readAll(() => openCsvWithCsvParse(file));
  for (const blockSize of blockSizes) {
    const actual = await readAll(() => openCsv(file, { blockSize }));
    assert.deepEqual(
      actual,
      expected,
      `block ${blockSize}, input ${JSON.stringify(Buffer.from(bytes).toString('latin1'))}`,
    );
  }
}

// Cells made of the characters that matter to CSV and JSON: delimiters, quotes, CR/LF, backslash, controls,
// NUL, DEL, non-ASCII (2-, 3- and 4-byte UTF-8), plus ordinary text and digits.
const cellChar = fc.constantFrom(
  ...[
    'a',
    'b',
    'Z',
    '0',
    '7',
    '.',
    '-',
    ' ',
    ',',
    '"',
    '\r',
    '\n',
    '\\',
    '\t',
    '\u0000',
    '\u001f',
    '\u007f',
    'é',
    '€',
    '😀',
    'ü',
  ],
);
const cell = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: cellChar, maxLength: 6 }) },
  {
    weight: 2,
    arbitrary: fc.constantFrom('', '1', '-0', '3.250', '007', '1e3', ' 4', 'Infinity', '0x1F', '.5', '5.', 'NaN'),
  },
);

/** A table serialised as a CSV writer might: each cell quoted if needed (or at random), some line ending. */
const csvText = fc
  .record({
    cols: fc.integer({ min: 1, max: 4 }),
    nrows: fc.integer({ min: 0, max: 6 }),
    seed: fc.array(cell, { minLength: 28, maxLength: 28 }),
    quoteAll: fc.array(fc.boolean(), { minLength: 28, maxLength: 28 }),
    eol: fc.constantFrom('\n', '\r\n', '\r'),
    trailing: fc.boolean(),
    bom: fc.boolean(),
  })
  .map(({ cols, nrows, seed, quoteAll, eol, trailing, bom }) => {
    const lines: string[] = [];
    for (let r = 0; r <= nrows; r++) {
      const cells: string[] = [];
      for (let c = 0; c < cols; c++) {
        const k = (r * cols + c) % seed.length;
        let v = r === 0 ? `h${c}${seed[k]!.replace(/[^a-z]/g, '')}` : seed[k]!;
        if (
          v.includes('\r') ||
          v.includes('\n') ||
          v.includes(',') ||
          v.includes('"') ||
          quoteAll[k] ||
          (c === 0 && v === '' && cols === 1)
        ) {
          v = `"${v.replace(/"/g, '""')}"`;
        }
        cells.push(v);
      }
      lines.push(cells.join(','));
    }
    return `${bom ? '\ufeff' : ''}${lines.join(eol)}${trailing ? eol : ''}`;
  });

/** Raw byte soup over the same alphabet plus invalid UTF-8: mostly malformed, which must fail the same way. */
const rawBytes = fc
  .array(
    fc.constantFrom(
      ...[
        0x61, 0x62, 0x31, 0x2c, 0x2c, 0x22, 0x22, 0x0a, 0x0d, 0x00, 0x5c, 0x20, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xff,
        0xed, 0xa0, 0x80, 0xef, 0xbb, 0xbf,
      ],
    ),
    { maxLength: 40 },
  )
  .map((b) => Uint8Array.from(b));

describe('manifest CSV reader vs csv-parse', () => {
  it('matches hand-picked edge cases: quoting, escaped quotes, CRLF/LF/CR, BOM, empty lines and fields, errors', async () => {
    const cases: (string | Uint8Array)[] = [
      '',
      '\n',
      '\r\n',
      'a',
      'a\n',
      'a\n\n',
      'a\n\n\n',
      'a,b\n1,2',
      'a,b\n1,2\n',
      'a,b\r\n1,2\r\n',
      'a,b\r1,2\r',
      'a,b\r\n1,2\n3,4\r\n', // LF inside an unquoted field once CRLF is the record delimiter
      'a,b\n1,2\r\n3,4\n', // CR kept in the field once LF is the delimiter
      'a,b\r\n1,2\r', // trailing lone CR at the end of the file
      '\ufeffa,b\n1,2\n',
      '\ufeff',
      '\ufeff\ufeffa\n1\n',
      'a,b\n"1","2"\n',
      'a,b\n"x,y","he said ""hi"""\n',
      'a,b\n"multi\nline","cr\r\nlf"\r\n',
      '"a\nb",c\n1,2\n', // the first record delimiter is discovered outside quotes only
      '"a"\r\n"b"\r\n',
      'a,b\n"",""\n',
      'a\n""\n',
      'a\n""',
      'a,b\n,\n',
      'a,b\n1,2,3\n',
      'a,b,c\n1,2\n',
      'a,b\n1,2\n\n',
      'a,b\n1\n',
      'a,b\n1,"2\n',
      'a,b\n1,"2"x\n',
      'a,b\n1,x"2"\n',
      'a,b\n1,"2" \n',
      'a,b\n1,"2"\u0000x\n', // csv-parse lets a NUL close a quote
      'a,a\n1,2\n',
      'a,b\n1,\\2\n',
      'a,b\n1,\t2\n',
      'a,b\n1,\u007f\n',
      'a,b\nπ,😀\n',
      Buffer.from([0x61, 0x2c, 0x62, 0x0a, 0xff, 0x2c, 0xe2, 0x82, 0x0a]), // invalid UTF-8 per field
      Buffer.from([0x61, 0x0a, 0xed, 0xa0, 0x80, 0x0a]), // UTF-8-encoded surrogate: not valid UTF-8
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('a,b\n1,2\n', 'utf16le')]), // UTF-16LE BOM: decoded first
    ];
    for (const c of cases) await assertSameAsCsvParse(c);
  });

  it('matches csv-parse on random well-formed CSV (random quoting, embedded delimiters, unicode, all line endings)', async () => {
    await fc.assert(
      fc.asyncProperty(csvText, async (text) => assertSameAsCsvParse(text, [1 << 20, 1, 5])),
      { numRuns: 300 },
    );
  });

  it('matches csv-parse on random byte soup, including its error messages', async () => {
    await fc.assert(
      fc.asyncProperty(rawBytes, async (bytes) => assertSameAsCsvParse(bytes, [1 << 20, 1, 4])),
      { numRuns: 400 },
    );
  });

  it('hands ASCII rows over with the exact rowDigest JSON', async () => {
    const text = "a,b,c\n1,x y,\n,,\n~!,#$%,&'()*+\n";
    const file = write(text);
    const scan = await scanTable(file, 'csv');
    const seen: [string, string[]][] = [];
    await scan.scan({
      asciiRow(buf, starts, ends, json, n) {
        const cells: string[] = [];
        for (let i = 0; i < scan.columns.length; i++) cells.push(buf.toString('latin1', starts[i]!, ends[i]!));
        seen.push([json.toString('utf8', 0, n), cells]);
      },
      cellsRow: () => assert.fail('every row here is plain ASCII'),
    });
    const expected = (parse(text) as string[][]).slice(1);
    assert.deepEqual(
      seen.map(([, cells]) => cells),
      expected,
    );
    for (const [json, cells] of seen) assert.equal(json, JSON.stringify(cells));
  });
});

describe('parseDecimal (the numbers of manifests and datasets)', () => {
  it('is Number(text) exactly, or NaN to ask for Number', () => {
    const decimal = fc
      .record({
        neg: fc.boolean(),
        int: fc.string({ unit: fc.constantFrom('0', '1', '5', '9'), minLength: 0, maxLength: 17 }),
        frac: fc.option(fc.string({ unit: fc.constantFrom('0', '1', '3', '5', '9'), minLength: 0, maxLength: 17 })),
      })
      .map(({ neg, int, frac }) => `${neg ? '-' : ''}${int}${frac === null ? '' : `.${frac}`}`);
    const anyText = fc.string({
      unit: fc.constantFrom('0', '1', '9', '.', '-', '+', 'e', 'x', ' ', 'I'),
      maxLength: 8,
    });
    fc.assert(
      fc.property(fc.oneof(decimal, anyText, fc.double().map(String), fc.integer().map(String)), (text) => {
        const b = Buffer.from(`,${text},`);
        const v = decimalValue(b, 1, b.length - 1);
        if (!Number.isNaN(v)) assert.ok(Object.is(v, Number(text)), `${text}: ${v} vs ${Number(text)}`);
      }),
      { numRuns: 20000 },
    );
    // Hard cases for correct rounding, all on the fast path (m < 2^53, k ≤ 22).
    for (const t of [
      '0.1',
      '0.3',
      '-0',
      '-0.000',
      '9007199254740991',
      '1.00000000000001',
      '9.99999999999999',
      '0.000000000000001',
      '0.0000000000000000000001',
      '4.35',
      '0.1234567890123456',
    ]) {
      const b = Buffer.from(t);
      assert.ok(Object.is(decimalValue(b, 0, b.length), Number(t)), t);
    }
  });
});

/** The documented method, re-derived from csv-parse rows with JSON.stringify, Number and Welford. */
function referenceManifestParts(text: string, key: Buffer) {
  const rows = parse(text, { bom: true }) as string[][];
  const header = rows.shift()!;
  const h = (...parts: Buffer[]) => crypto.createHash('sha256').update(Buffer.concat(parts)).digest();
  const leaves = rows.map((r) => h(Buffer.from([0]), rowDigest(r)));
  const mth = (xs: Buffer[]): Buffer => {
    if (xs.length === 0) return h();
    if (xs.length === 1) return xs[0]!;
    let k = 1;
    while (k * 2 < xs.length) k *= 2;
    return h(Buffer.from([1]), mth(xs.slice(0, k)), mth(xs.slice(k)));
  };
  const columns = header.map((name, c) => {
    let nulls = 0;
    let numeric = true;
    let n = 0;
    let mean = 0;
    let m2 = 0;
    let min = Infinity;
    let max = -Infinity;
    for (const r of rows) {
      const cellText = r[c]!;
      if (cellText === '') {
        nulls += 1;
        continue;
      }
      if (!numeric) continue;
      const v = Number(cellText);
      if (!Number.isFinite(v)) {
        numeric = false;
        continue;
      }
      n += 1;
      const d = v - mean;
      mean += d / n;
      m2 += d * (v - mean);
      if (v < min) min = v;
      if (v > max) max = v;
    }
    return numeric && n > 0
      ? { name, nulls, numeric: { min, max, mean, std: n > 1 ? Math.sqrt(m2 / (n - 1)) : 0 } }
      : { name, nulls };
  });
  const splitter = new SplitAssigner(key, { train: 0.7, validation: 0.15, test: 0.15 });
  for (const r of rows) splitter.assign(r[0]!);
  return {
    root: mth(leaves).toString('hex'),
    leaves: Buffer.concat(leaves).toString('hex'),
    columns,
    split: splitter.counts(),
    count: rows.length,
  };
}

describe('manifest from the scanner', () => {
  const key = Buffer.alloc(32, 7);
  const lineage: DatasetLineage = {
    dataset: { name: 't', version: '1' },
    steps: [
      {
        kind: 'assembly',
        samplingLogic: 'all',
        split: { patientIdColumn: 'pid', keyId: 'k', proportions: { train: 0.7, validation: 0.15, test: 0.15 } },
      },
    ],
  };
  const numberish = fc.oneof(
    fc.constantFrom(
      '',
      '',
      '0',
      '-0',
      '1',
      '-1.5',
      '007',
      '3.250',
      '1e3',
      ' 4 ',
      '+2',
      '.5',
      '5.',
      '0x1F',
      'Infinity',
      'NaN',
      '-',
      'n/a',
      'é',
      '"q"',
    ),
    fc.integer({ min: -1e6, max: 1e6 }).map(String),
    fc.double({ min: -1e6, max: 1e6, noNaN: true }).map((v) => v.toFixed(3)),
    fc.double({ min: -1e12, max: 1e12, noNaN: true }).map(String),
    fc.stringMatching(/^-?[0-9]{1,18}(\.[0-9]{1,18})?$/),
  );
  const table = fc.record({
    rows: fc.array(fc.tuple(fc.constantFrom('P1', 'P2', 'P3', 'Pé', '"P4"'), numberish, numberish, numberish), {
      minLength: 1,
      maxLength: 40,
    }),
    eol: fc.constantFrom('\n', '\r\n'),
    quoteSome: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
  });

  it('gives the same root, leaves, column statistics and split counts as csv-parse + JSON.stringify + Number', async () => {
    await fc.assert(
      fc.asyncProperty(table, async ({ rows, eol, quoteSome }) => {
        const q = (v: string, c: number) =>
          v.includes('"') || v.includes(',') || quoteSome[c] ? `"${v.replace(/"/g, '""')}"` : v;
        const text = `pid,x,y,z${eol}${rows.map((r) => r.map(q).join(',')).join(eol)}${eol}`;
        const file = write(text);
        const built = await buildDatasetManifest({
          dataFile: file,
          lineage,
          lineageDir: tmp,
          splitKey: { keyId: 'k', secret: key },
        });
        const ref = referenceManifestParts(text, key);
        const m = built.manifest;
        assert.equal(m.rows.count, ref.count);
        assert.equal(m.rows.merkle.root, ref.root);
        const leaves = built.tree.leafHashes().toString('hex');
        assert.equal(leaves, ref.leaves);
        assert.deepEqual(m.columns, ref.columns);
        assert.deepEqual(m.split?.rowCounts, ref.split);
        assert.equal(m.file.sha256, crypto.createHash('sha256').update(text).digest('hex'));
        assert.equal(m.file.bytes, Buffer.byteLength(text));
      }),
      { numRuns: 150 },
    );
  });

  it("reports an empty patient id by data row, and a ragged row with csv-parse's message", async () => {
    await assert.rejects(
      buildDatasetManifest({
        dataFile: write('pid,x\nP1,1\n,2\n'),
        lineage,
        lineageDir: tmp,
        splitKey: { keyId: 'k', secret: key },
      }),
      /data row 2: empty patient id in "pid"/,
    );
    await assert.rejects(
      buildDatasetManifest({
        dataFile: write('pid,x\nP1,1\nP2\n'),
        lineage,
        lineageDir: tmp,
        splitKey: { keyId: 'k', secret: key },
      }),
      /Invalid Record Length: expect 2, got 1 on line 3/,
    );
  });
});
