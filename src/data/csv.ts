import { parse } from 'csv-parse/sync';
import { DatasetError } from './errors';
import type { DatasetSchema } from './schema';
import {
  buildLockedTable,
  MISSING,
  toFloat32,
  type CellConverter,
  type ColumnSpecLike,
  type LockedTable,
} from './table';

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const NON_FINITE = /^[+-]?(nan|inf|infinity)$/i;

/** Read a CSV evaluation table and check it against the schema; any problem is a DatasetError. */
export function readCsvTable(bytes: Uint8Array, schema: DatasetSchema, name: string): LockedTable {
  let records: string[][];
  try {
    records = parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), {
      bom: true,
      skip_empty_lines: true,
      trim: true,
      relax_column_count: true, // ragged rows are reported below, with the row number
    });
  } catch (e) {
    throw new DatasetError('unreadable', `dataset ${name}: not valid CSV: ${(e as Error).message}`);
  }
  const header = records[0];
  if (!header) throw new DatasetError('empty', `dataset ${name}: empty file`);
  for (let r = 1; r < records.length; r++) {
    const len = records[r]!.length;
    if (len !== header.length)
      throw new DatasetError(
        'ragged-row',
        `dataset ${name}: row ${r} has ${len} cells, the header has ${header.length}`,
        r,
      );
  }
  const tokens = new Set(schema.missingTokens.map((t) => t.trim()));
  return buildLockedTable(
    name,
    schema,
    { kind: 'csv', header, rowCount: records.length - 1, cell: (r, c) => records[r + 1]![c] },
    (spec) => csvConverter(spec, tokens),
  );
}

function csvConverter(spec: ColumnSpecLike, missingTokens: ReadonlySet<string>): CellConverter {
  return (raw) => {
    const text = raw as string;
    if (missingTokens.has(text)) return MISSING;
    switch (spec.type) {
      case 'string':
        return text;
      case 'label':
        if (text === '0') return 0;
        if (text === '1') return 1;
        throw new DatasetError('bad-label', `label must be 0 or 1, got "${clip(text)}"`);
      case 'number':
        if (DECIMAL.test(text)) return toFloat32(Number(text));
        if (NON_FINITE.test(text)) throw new DatasetError('non-finite', `value is not finite ("${text}")`);
        throw new DatasetError('type-mismatch', `expected a number, got "${clip(text)}"`);
    }
  };
}

function clip(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}
