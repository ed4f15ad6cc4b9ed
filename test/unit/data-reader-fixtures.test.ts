/**
 * The one byte-level CSV tokenizer (src/data/csv-scan.ts) against an independent parse: csv-parse, used only
 * in tests, with the options each old reader used. Its `trimmed` dialect (the dataset reader, src/data/csv.ts)
 * must give every dataset table of the repo's fixtures identically to csv-parse with bom, trim and
 * skip_empty_lines, cells converted by Number / Math.fround: case ids, labels, float32 features, slices
 * (quoted fields with commas and empty cells included). Its `exact` dialect (the manifest reader,
 * src/provenance/csv-rows.ts, which replaced the provenance module's own scanner) must give every CSV in the
 * repo exactly as csv-parse's streaming reader does: header, rows, file digest, or the same error.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'csv-parse/sync';
import path from 'node:path';
import { readCsvTable, parseDatasetSchema } from '../../src/data';
import { buildDatasetManifest } from '../../src/provenance/manifest-builder';
import { rowDigest } from '../../src/provenance/row-digest';
import { MerkleTreeBuilder } from '../../src/provenance/merkle';
import { openCsv, type TableStream } from '../../src/provenance/table-reader';
import { openCsvWithCsvParse } from '../support/csv-parse-reference';

function independent(bytes: Buffer) {
  const [header, ...rows] = parse(bytes, { bom: true, trim: true, skip_empty_lines: true }) as string[][];
  return { header: header!, rows };
}

/** A schema reading every column: case_id and label where present, numeric-looking columns as features. */
function schemaFor(header: string[], rows: string[][], caseId: string, label: string) {
  const numeric = (c: number) => rows.every((r) => /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(r[c]!));
  const columns = header.map((name, c) => {
    if (name === caseId) return { name, role: 'case_id', type: 'string' };
    if (name === label) return { name, role: 'label', type: 'label' };
    return numeric(c) ? { name, role: 'feature', type: 'number' } : { name, role: 'slice', type: 'string' };
  });
  return parseDatasetSchema({ format: 'vigil.dataset-schema/v1', columns, missingTokens: ['__none__'] });
}

const FIXTURES: [string, string, string][] = [
  ['demo/data/evaluation.csv', 'case_id', 'label'],
  ['demo/data/training.csv', 'case_id', 'label'],
  ['test/fixtures/provenance/cohort.csv', 'patient_id', 'label'],
];

describe('readCsvTable on the repo fixtures', () => {
  for (const [file, caseId, label] of FIXTURES) {
    it(`${file}: identical to an independent csv-parse parse`, () => {
      const bytes = fs.readFileSync(file);
      const { header, rows } = independent(bytes);
      const schema = schemaFor(header, rows, caseId, label);
      const col = (name: string) => header.indexOf(name);
      const ids = rows.map((r) => r[col(caseId)]!);
      const repeat = ids.findIndex((id, i) => ids.indexOf(id) < i);
      if (repeat >= 0) {
        // a cohort with several records per patient: the reader must name the first repeat, as the parse finds it
        assert.throws(() => readCsvTable(bytes, schema, file), {
          code: 'duplicate-id',
          row: repeat + 1,
          column: caseId,
        });
        return;
      }
      const t = readCsvTable(bytes, schema, file);
      assert.equal(t.rows, rows.length);
      assert.deepEqual(
        t.caseIds,
        rows.map((r) => r[col(caseId)]),
      );
      assert.deepEqual(
        [...t.labels],
        rows.map((r) => Number(r[col(label)])),
      );
      t.featureNames.forEach((f, j) => {
        const expected = rows.map((r) => Math.fround(Number(r[col(f)])));
        const got = rows.map((_, i) => t.features[i * t.featureNames.length + j]);
        assert.deepEqual(got, expected, f);
      });
      for (const [name, values] of Object.entries(t.slices))
        assert.deepEqual(
          values,
          rows.map((r) => r[col(name)]),
          name,
        );
    });
  }
});

/** Every CSV file under the repo's demo and test fixtures (the ragged one included: both must refuse it). */
function repoCsvFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.csv')) out.push(p);
    }
  };
  ['demo', 'test/fixtures'].forEach(walk);
  return out.sort();
}

async function readAll(open: () => Promise<TableStream>) {
  try {
    const t = await open();
    const rows: (string | null)[][] = [];
    for await (const batch of t.batches) rows.push(...batch);
    return { columns: t.columns, rows, ...(await t.fileDigest()) };
  } catch (err) {
    return { error: (err as Error).message.replace(/^[^:]*: /, '') };
  }
}

describe('the manifest reader on the repo fixtures', () => {
  const files = repoCsvFiles();
  it('finds the fixtures', () => {
    for (const [file] of FIXTURES) assert.ok(files.includes(file), `${file} in ${files.join(', ')}`);
  });
  for (const file of files) {
    it(`${file}: header, rows and digest identical to csv-parse's streaming reader`, async () => {
      const ours = await readAll(() => openCsv(file));
      const reference = await readAll(() => openCsvWithCsvParse(file));
      assert.deepEqual(ours, reference);
      if ('error' in reference) return;
      // and the manifest's Merkle root is the one the reference rows give
      const tree = new MerkleTreeBuilder(reference.rows.length);
      for (const r of reference.rows) tree.append(rowDigest(r));
      const built = await buildDatasetManifest({
        dataFile: file,
        lineage: { dataset: { name: 'fixture', version: '1' } },
        lineageDir: path.dirname(file),
      });
      assert.equal(built.manifest.rows.merkle.root, tree.root().toString('hex'));
      assert.equal(built.manifest.rows.count, reference.rows.length);
    });
  }
});
