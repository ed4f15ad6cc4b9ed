/**
 * readCsvRecords (src/data/csv-records.ts) replaced csv-parse in the traffic CSV reader, the release scaffold and
 * the rater-labels reader. Checked against csv-parse (a test-only, independent parse) with the options each of
 * those callers used: every CSV fixture of the repo gives identical records (or both refuse it), and so do
 * hand-picked edge cases; the inter-rater agreement from each rater-labels fixture equals the one computed from
 * csv-parse's records.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'csv-parse/sync';
import { CsvRecordLengthError, readCsvRecords } from '../../src/data/csv-records';
import { CsvSyntaxError } from '../../src/data/csv-scan';
import { agreementFromFile } from '../../src/provenance/manifest-builder';
import { agreementFromLabels } from '../../src/stats/kappa';

const FIXTURES = [
  'demo/data/evaluation.csv',
  'demo/data/training.csv',
  'demo/lineage/evaluation-rater-labels.csv',
  'demo/lineage/training-rater-labels.csv',
  'test/fixtures/own-model/evaluation.csv',
  'test/fixtures/own-model/train.csv',
  'test/fixtures/provenance/cohort.csv',
  'test/fixtures/provenance/labels.csv',
  'test/fixtures/provenance/ragged.csv',
];
const RATER_FIXTURES = [
  'demo/lineage/evaluation-rater-labels.csv',
  'demo/lineage/training-rater-labels.csv',
  'test/fixtures/provenance/labels.csv',
];

/** What each former csv-parse caller asked for, and the same read through the one tokenizer. */
const READERS = [
  {
    name: 'traffic CSV (trim, skip_empty_lines)',
    reference: (b: Buffer) => parse(b, { bom: true, trim: true, skip_empty_lines: true }) as string[][],
    ours: (b: Buffer) => readCsvRecords(b),
  },
  {
    name: 'scaffold (trim, strict record length)',
    reference: (b: Buffer) => parse(b, { bom: true, trim: true, relax_column_count: false }) as string[][],
    ours: (b: Buffer) => readCsvRecords(b),
  },
  {
    name: 'rater labels (exact text, skip_empty_lines)',
    reference: (b: Buffer) => parse(b, { bom: true, skip_empty_lines: true }) as string[][],
    ours: (b: Buffer) => readCsvRecords(b, { dialect: 'exact', skipEmptyLines: true }),
  },
];

type Outcome = { records: string[][] } | { error: true };
const outcome = (read: () => string[][]): Outcome => {
  try {
    return { records: read() };
  } catch {
    return { error: true };
  }
};

describe('readCsvRecords against csv-parse', () => {
  for (const file of FIXTURES)
    for (const r of READERS)
      it(`${file}, ${r.name}: identical records`, () => {
        const bytes = fs.readFileSync(file);
        const expected = outcome(() => r.reference(bytes));
        assert.deepEqual(
          outcome(() => r.ours(bytes)),
          expected,
        );
        if (file.endsWith('ragged.csv'))
          assert.deepEqual(expected, { error: true }); // the fixture is refused
        else assert.ok('records' in expected && expected.records.length > 1);
      });

  const cases = [
    'a,b\n1,2\n',
    'a,b\r\n1,2\r\n3,4',
    '\ufeffa,b\n1,2\n',
    'a,b\n\n1,2\n\n\n3,4\n',
    'a , b\n 1 ,\t2 \n',
    'a,b\n"x, y","say ""hi"""\n',
    'a,b\n"line\nbreak",2\n',
    'a,b\n  "q"  ,2\n',
    'a,b\n,\n',
    'a,b\nü,€\n',
    'a,b\n1,2,3\n',
    'a,b\n1\n',
    'a,b\n1,"open\n',
    'a,b\n1,x"y\n',
  ];
  const blankLines = (text: string) => /\n\n/.test(text);
  for (const text of cases)
    for (const r of READERS)
      it(`${JSON.stringify(text)}, ${r.name}`, () => {
        // the scaffold's old csv-parse call refused blank lines; it now reads as the dataset reader (below)
        if (r.name.startsWith('scaffold') && blankLines(text)) return;
        const bytes = Buffer.from(text, 'utf8');
        assert.deepEqual(
          outcome(() => r.ours(bytes)),
          outcome(() => r.reference(bytes)),
        );
      });

  it('skips blank lines in the scaffold, as the dataset reader (and csv-parse with skip_empty_lines) does', () => {
    const bytes = Buffer.from('a,b\n\n1,2\n\n\n3,4\n');
    assert.throws(() => parse(bytes, { bom: true, trim: true, relax_column_count: false }));
    assert.deepEqual(readCsvRecords(bytes), parse(bytes, { bom: true, trim: true, skip_empty_lines: true }));
  });

  it('decodes a UTF-16LE file (byte-order mark FF FE) as csv-parse does', () => {
    const bytes = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('a,b\nü,2\n', 'utf16le')]);
    assert.deepEqual(readCsvRecords(bytes), [
      ['a', 'b'],
      ['ü', '2'],
    ]);
    assert.deepEqual(readCsvRecords(bytes), parse(bytes, { bom: true, trim: true, skip_empty_lines: true }));
  });

  it('names the record of another length, and the line of malformed CSV', () => {
    assert.throws(
      () => readCsvRecords(Buffer.from('a,b\n1,2\n3\n')),
      (e: unknown) => {
        assert.ok(e instanceof CsvRecordLengthError);
        assert.equal(e.record, 3);
        assert.equal(e.cells, 1);
        assert.equal(e.expected, 2);
        return true;
      },
    );
    assert.throws(
      () => readCsvRecords(Buffer.from('a,b\n1,2\n3,"x\n')),
      (e: unknown) => {
        assert.ok(e instanceof CsvSyntaxError);
        assert.match(e.message, /not closed/);
        return true;
      },
    );
  });
});

describe('agreementFromFile against csv-parse records', () => {
  for (const file of RATER_FIXTURES)
    it(`${file}: the same agreement as from csv-parse's records`, async () => {
      const bytes = fs.readFileSync(file);
      const rows = parse(bytes, { bom: true, columns: true, skip_empty_lines: true }) as Record<string, string>[];
      const expected = agreementFromLabels(
        rows.map((r) => ({ subject: r.subject!, rater: r.rater!, label: r.label! })),
      );
      const got = await agreementFromFile(file);
      assert.equal(got.kappa, expected.kappa);
      assert.equal(got.standardError, expected.standardError);
      assert.equal(got.observedAgreement, expected.observedAgreement);
      assert.equal(got.subjects, expected.subjects);
      assert.deepEqual(got.categories, expected.categories);
    });

  it('keeps the label text as written (no trimming) and refuses a ragged file', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-csv-records-'));
    try {
      const padded = path.join(dir, 'padded.csv');
      // " a" and "a" are different labels, as csv-parse without trim read them: disagreement on s2
      fs.writeFileSync(padded, 'subject,rater,label\ns1,r1,a\ns1,r2,a\ns2,r1, a\ns2,r2,a\ns3,r1,b\ns3,r2,b\n\n');
      const rows = parse(fs.readFileSync(padded), { bom: true, columns: true, skip_empty_lines: true }) as Record<
        string,
        string
      >[];
      const expected = agreementFromLabels(
        rows.map((r) => ({ subject: r.subject!, rater: r.rater!, label: r.label! })),
      );
      const got = await agreementFromFile(padded);
      assert.equal(got.observedAgreement, expected.observedAgreement);
      assert.equal(got.observedAgreement, 2 / 3);
      const ragged = path.join(dir, 'ragged.csv');
      fs.writeFileSync(ragged, 'subject,rater,label\ns1,r1\n');
      await assert.rejects(agreementFromFile(ragged), /ragged\.csv: Invalid Record Length/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
