import { ApplicationFailure } from '@temporalio/common';
import { parse } from 'csv-parse/sync';
import { ErrorType } from '../domain';

/** A locked evaluation table: ids and declared attributes as strings, features as numbers, labels as 0/1. */
export interface LabelledTable {
  /** Feature column names, in the order of each row of `features`. */
  columns: string[];
  caseIds: string[];
  attributes: Record<string, string[]>;
  features: number[][];
  labels: Uint8Array;
}

/**
 * Parse and schema-check a labelled CSV: `case_id` and `label` are required, as are the declared
 * attribute columns and every feature a model needs. Any bad cell is a non-retryable error naming
 * row and column; columns nobody asked for are ignored.
 */
export function parseLabelledCsv(
  bytes: Uint8Array,
  name: string,
  want: { attributes: readonly string[]; features: readonly string[] },
): LabelledTable {
  const fail = (msg: string) => ApplicationFailure.nonRetryable(`dataset ${name}: ${msg}`, ErrorType.InvalidArtifact);
  let records: string[][];
  try {
    records = parse(Buffer.from(bytes), { skip_empty_lines: true, trim: true });
  } catch (e) {
    throw fail(`not valid CSV: ${(e as Error).message}`);
  }
  const header = records[0];
  if (!header) throw fail('empty file');
  const index = (col: string) => {
    const i = header.indexOf(col);
    if (i < 0) throw fail(`missing column "${col}" (columns: ${header.join(', ')})`);
    return i;
  };
  const idIdx = index('case_id');
  const labelIdx = index('label');
  const attrIdx = want.attributes.map(index);
  const featureIdx = want.features.map(index);
  const rows = records.length - 1;
  if (rows === 0) throw fail('no rows');
  const table: LabelledTable = {
    columns: [...want.features],
    caseIds: [],
    attributes: Object.fromEntries(want.attributes.map((a) => [a, [] as string[]])),
    features: [],
    labels: new Uint8Array(rows),
  };
  for (let r = 1; r <= rows; r++) {
    const rec = records[r]!;
    if (rec.length !== header.length) throw fail(`row ${r} has ${rec.length} cells, expected ${header.length}`);
    const label = rec[labelIdx];
    if (label !== '0' && label !== '1') throw fail(`row ${r}: label must be 0 or 1, got "${label}"`);
    table.labels[r - 1] = label === '1' ? 1 : 0;
    table.caseIds.push(rec[idIdx]!);
    want.attributes.forEach((a, k) => {
      const v = rec[attrIdx[k]!]!;
      if (v === '') throw fail(`row ${r}, column ${a}: empty attribute value`);
      table.attributes[a]!.push(v);
    });
    table.features.push(
      featureIdx.map((i, k) => {
        const v = Number(rec[i]);
        if (rec[i] === '' || !Number.isFinite(v)) throw fail(`row ${r}, column ${want.features[k]}: not a finite number ("${rec[i]}")`);
        return v;
      }),
    );
  }
  return table;
}
