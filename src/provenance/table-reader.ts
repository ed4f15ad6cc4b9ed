import crypto from 'node:crypto';
import fs from 'node:fs';
import { cellText, type Cell } from './row-digest';
import { asciiText, CsvRows } from './csv-rows';
import {
  checkHeader,
  describe,
  TableReadError,
  type RowSink,
  type TableFormat,
  type TableScan,
  type TableStream,
} from './table-stream';

// The reader's API in one place; CSV rows come from the data readers' tokenizer (src/data/csv-scan.ts).
export { asciiText, TableReadError };
export type { RowSink, TableFormat, TableScan, TableStream };

export function formatFromPath(file: string): TableFormat {
  return /\.parquet$/i.test(file) ? 'parquet' : 'csv';
}

export async function openTable(file: string, format: TableFormat = formatFromPath(file)): Promise<TableStream> {
  return format === 'parquet' ? openParquet(file) : openCsv(file);
}
export interface CsvScanOptions {
  /** Read size and initial buffer (1 MiB); tests use tiny blocks to put block boundaries everywhere. */
  blockSize?: number;
}

export async function scanTable(
  file: string,
  format: TableFormat = formatFromPath(file),
  options: CsvScanOptions = {},
): Promise<TableScan> {
  if (format === 'csv') return (await CsvRows.open(file, options.blockSize)).asTableScan();
  const table = await openParquet(file);
  return {
    columns: table.columns,
    async scan(sink) {
      for await (const batch of table.batches) for (const row of batch) sink.cellsRow(row);
    },
    fileDigest: () => table.fileDigest(),
  };
}

/**
 * CSV per RFC 4180, as csv-parse reads it with `{ bom: true, relax_column_count: false, skip_empty_lines: false }`:
 * first record is the header, every record must have as many fields as the header (a ragged row is an error
 * naming its line), a UTF-8 BOM is dropped.
 */
export async function openCsv(file: string, options: CsvScanOptions = {}): Promise<TableStream> {
  const csv = await CsvRows.open(file, options.blockSize);
  const width = csv.columns.length;
  async function* batches(): AsyncGenerator<Cell[][]> {
    const rows: Cell[][] = [];
    const sink: RowSink = {
      asciiRow(buf, starts, ends) {
        const cells: string[] = [];
        for (let i = 0; i < width; i++) cells.push(asciiText(buf, starts[i]!, ends[i]!));
        rows.push(cells);
      },
      cellsRow(cells) {
        rows.push(cells);
      },
    };
    try {
      // one batch per block read, so the file is never held whole
      for (let more = true; more;) {
        more = await csv.pump(sink);
        if (rows.length > 0) yield rows.splice(0, rows.length);
      }
    } finally {
      await csv.close();
    }
  }
  return { columns: csv.columns, batches: batches(), fileDigest: () => csv.fileDigest() };
}

interface HyparquetModule {
  asyncBufferFromFile(file: string): Promise<unknown>;
  parquetMetadataAsync(buffer: unknown): Promise<{
    num_rows: bigint;
    row_groups: { num_rows: bigint }[];
    schema: { name: string; num_children?: number }[];
  }>;
  parquetRead(options: {
    file: unknown;
    metadata?: unknown;
    columns?: string[];
    rowStart?: number;
    rowEnd?: number;
    rowFormat?: 'array';
    onComplete?: (rows: unknown[][]) => void;
  }): Promise<void>;
}

/** Parquet via hyparquet (pure JS), one row group at a time so memory stays bounded by the largest group. */
export async function openParquet(file: string): Promise<TableStream> {
  const hp = (await import('hyparquet')) as unknown as HyparquetModule;
  let buffer: unknown;
  let metadata: Awaited<ReturnType<HyparquetModule['parquetMetadataAsync']>>;
  try {
    buffer = await hp.asyncBufferFromFile(file);
    metadata = await hp.parquetMetadataAsync(buffer);
  } catch (err) {
    throw new TableReadError(`${file}: not a readable Parquet file (${describe(err)})`);
  }
  const top = metadata.schema.slice(1);
  if (top.some((el) => (el.num_children ?? 0) > 0)) {
    throw new TableReadError(`${file}: nested Parquet columns are not supported; flatten the table first`);
  }
  const columns = checkHeader(
    top.map((el) => el.name),
    file,
  );
  async function* rows(): AsyncGenerator<Cell[][]> {
    let start = 0;
    for (const group of metadata.row_groups) {
      const end = start + Number(group.num_rows);
      let chunk: unknown[][] = [];
      try {
        await hp.parquetRead({
          file: buffer,
          metadata,
          columns,
          rowStart: start,
          rowEnd: end,
          rowFormat: 'array',
          onComplete: (r) => (chunk = r),
        });
      } catch (err) {
        throw new TableReadError(`${file}: ${describe(err)}`);
      }
      yield chunk.map((row) => row.map(cellText));
      start = end;
    }
  }
  return { columns, batches: rows(), fileDigest: () => digestFile(file) };
}

async function digestFile(file: string): Promise<{ sha256: string; bytes: number }> {
  const hash = crypto.createHash('sha256');
  let bytes = 0;
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { sha256: hash.digest('hex'), bytes };
}
