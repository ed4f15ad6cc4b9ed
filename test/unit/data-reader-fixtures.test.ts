/**
 * The byte-level reader (src/data/csv.ts) against an independent parse: csv-parse, used only here, with the
 * options the old reader used (bom, trim, skip_empty_lines), its cells converted by Number / Math.fround.
 * Every dataset table of the repo's fixtures must come out identical: case ids, labels, float32 features,
 * slices (quoted fields with commas and empty cells included).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'csv-parse/sync';
import { readCsvTable, parseDatasetSchema } from '../../src/data';

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
