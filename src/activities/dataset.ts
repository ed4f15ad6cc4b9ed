import { ApplicationFailure } from '@temporalio/common';
import { parse } from 'csv-parse/sync';
import { ErrorType } from '../domain';

/** A locked evaluation table: ids and sites as strings, features as numbers, labels as 0/1. */
export interface LabelledTable {
  columns: string[];
  caseIds: string[];
  sites: string[];
  features: number[][];
  labels: Uint8Array;
}

const REQUIRED = ['case_id', 'site', 'label'];

/** Parse and schema-check a labelled CSV; any bad cell is a non-retryable error naming row and column. */
export function parseLabelledCsv(bytes: Uint8Array, name: string): LabelledTable {
  const fail = (msg: string) => ApplicationFailure.nonRetryable(`dataset ${name}: ${msg}`, ErrorType.InvalidArtifact);
  let records: string[][];
  try {
    records = parse(Buffer.from(bytes), { skip_empty_lines: true, trim: true });
  } catch (e) {
    throw fail(`not valid CSV: ${(e as Error).message}`);
  }
  const header = records[0];
  if (!header) throw fail('empty file');
  for (const col of REQUIRED) if (!header.includes(col)) throw fail(`missing column "${col}"`);
  const featureCols = header.filter((c) => !REQUIRED.includes(c));
  const featureIdx = featureCols.map((c) => header.indexOf(c));
  const [idIdx, siteIdx, labelIdx] = REQUIRED.map((c) => header.indexOf(c)) as [number, number, number];
  const rows = records.length - 1;
  if (rows === 0) throw fail('no rows');
  const table: LabelledTable = { columns: featureCols, caseIds: [], sites: [], features: [], labels: new Uint8Array(rows) };
  for (let r = 1; r <= rows; r++) {
    const rec = records[r]!;
    if (rec.length !== header.length) throw fail(`row ${r} has ${rec.length} cells, expected ${header.length}`);
    const label = rec[labelIdx];
    if (label !== '0' && label !== '1') throw fail(`row ${r}: label must be 0 or 1, got "${label}"`);
    table.labels[r - 1] = label === '1' ? 1 : 0;
    table.caseIds.push(rec[idIdx]!);
    table.sites.push(rec[siteIdx]!);
    table.features.push(
      featureIdx.map((i, k) => {
        const v = Number(rec[i]);
        if (rec[i] === '' || !Number.isFinite(v)) throw fail(`row ${r}, column ${featureCols[k]}: not a finite number ("${rec[i]}")`);
        return v;
      }),
    );
  }
  return table;
}
