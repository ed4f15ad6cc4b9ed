import { DatasetError } from './errors';
import type { DatasetSchema } from './schema';
import { TableBuilder, type LockedTable } from './table';

/** Read a Parquet evaluation table (flat columns) with hyparquet and check it against the schema. */
export async function readParquetTable(bytes: Uint8Array, schema: DatasetSchema, name: string): Promise<LockedTable> {
  // hyparquet is ESM-only; a dynamic import loads it from CommonJS.
  const hp = await import('hyparquet');
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  let metadata: ReturnType<typeof hp.parquetMetadata>;
  try {
    metadata = hp.parquetMetadata(file);
  } catch (e) {
    throw new DatasetError('unreadable', `dataset ${name}: not a readable Parquet file: ${(e as Error).message}`);
  }
  const top = metadata.schema.slice(1);
  const nested = top.find((el) => (el.num_children ?? 0) > 0 || el.repetition_type === 'REPEATED');
  if (nested)
    throw new DatasetError(
      'nested-column',
      `dataset ${name}: column "${nested.name}" is nested or repeated; flatten the table first`,
      undefined,
      nested.name,
    );
  const header = top.map((el) => el.name);
  const rowCount = Number(metadata.num_rows);

  // Read only the columns the schema names (extra columns are still checked against extraColumns).
  const wanted = schema.columns.map((c) => c.name).filter((c) => header.includes(c));
  const data = new Map<string, unknown[]>(wanted.map((c) => [c, new Array<unknown>(rowCount)]));
  try {
    await hp.parquetRead({
      file,
      metadata,
      columns: wanted,
      onChunk: ({ columnName, columnData, rowStart, rowEnd }) => {
        const target = data.get(columnName);
        if (!target) return;
        const end = Math.min(rowEnd, rowCount);
        for (let r = rowStart; r < end; r++) target[r] = columnData[r - rowStart];
      },
    });
  } catch (e) {
    throw new DatasetError('unreadable', `dataset ${name}: Parquet decode failed: ${(e as Error).message}`);
  }
  const builder = new TableBuilder(name, schema, header, rowCount);
  const columns = builder.fileColumn.map((c) => data.get(header[c]!)!);
  const specs = builder.specs;
  for (let r = 0; r < rowCount; r++) {
    builder.begin();
    for (let k = 0; k < specs.length; k++) setCell(builder, k, specs[k]!.type, columns[k]![r]);
    builder.end();
  }
  return builder.finish();
}

const enc = new TextEncoder();

/** One Parquet value into the builder's column `k`, with the type checks the CSV reader applies to text. */
function setCell(b: TableBuilder, k: number, type: 'string' | 'label' | 'number', raw: unknown): void {
  if (raw === null || raw === undefined) return b.setMissing(k);
  switch (type) {
    case 'string': {
      if (typeof raw !== 'string') b.invalid(k, 'type-mismatch', `expected a string, got ${kind(raw)}`);
      const bytes = enc.encode(raw);
      return b.setBytes(k, bytes, 0, bytes.length);
    }
    case 'label':
      if (raw === 0 || raw === 1) return b.setNumber(k, raw);
      if (raw === 0n || raw === 1n) return b.setNumber(k, Number(raw));
      if (typeof raw === 'boolean') return b.setNumber(k, raw ? 1 : 0);
      b.invalid(k, 'bad-label', `label must be 0 or 1, got ${kind(raw)}`);
    // falls through: invalid() throws
    case 'number':
      if (typeof raw === 'number') return b.setNumber(k, raw);
      if (typeof raw === 'bigint') {
        if (raw > BigInt(Number.MAX_SAFE_INTEGER) || raw < BigInt(Number.MIN_SAFE_INTEGER))
          b.invalid(k, 'type-mismatch', `integer ${raw} is too large to represent exactly`);
        return b.setNumber(k, Number(raw));
      }
      b.invalid(k, 'type-mismatch', `expected a number, got ${kind(raw)}`);
  }
}

function kind(v: unknown): string {
  if (typeof v === 'string') return `the string "${v.length > 40 ? `${v.slice(0, 40)}…` : v}"`;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return `${typeof v} ${String(v)}`;
  if (v instanceof Date) return 'a date';
  return `a ${Object.prototype.toString.call(v).slice(8, -1)}`;
}
