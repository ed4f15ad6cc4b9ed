import crypto from 'node:crypto';
import fs from 'node:fs';
import { parse } from 'csv-parse';
import { cellText, type Cell } from './row-digest';

export type TableFormat = 'csv' | 'parquet';

/** A streamed table: the header, then rows of cells in header order. */
export interface TableStream {
  columns: string[];
  /** Rows in file order, a batch at a time. */
  batches: AsyncIterable<Cell[][]>;
  /** SHA-256 and size of the file's bytes; call after `batches` is exhausted. */
  fileDigest(): Promise<{ sha256: string; bytes: number }>;
}

export class TableReadError extends Error {
  override name = 'TableReadError';
}

export function formatFromPath(file: string): TableFormat {
  return /\.parquet$/i.test(file) ? 'parquet' : 'csv';
}

export async function openTable(file: string, format: TableFormat = formatFromPath(file)): Promise<TableStream> {
  return format === 'parquet' ? openParquet(file) : openCsv(file);
}

/**
 * CSV per RFC 4180 via csv-parse's streaming parser: first record is the header, every record must have
 * as many fields as the header (a ragged row is an error naming its line), a UTF-8 BOM is dropped.
 */
export async function openCsv(file: string): Promise<TableStream> {
  const parser = parse({ bom: true, relax_column_count: false, skip_empty_lines: false });
  const input = fs.createReadStream(file, { highWaterMark: 1 << 20 });
  // Hash the very bytes that are parsed, so the digest and the rows cannot come from different versions.
  const hash = crypto.createHash('sha256');
  let bytes = 0;
  let complete = false;
  input.on('data', (chunk) => {
    hash.update(chunk);
    bytes += chunk.length;
  });
  input.on('end', () => (complete = true));
  input.on('error', (err) => parser.destroy(err));
  input.pipe(parser);

  // Drain everything csv-parse has buffered per wake-up instead of awaiting once per record:
  // a promise per row is a measurable share of the time at a million rows.
  let ended = false;
  let failure: unknown;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  parser.on('readable', notify);
  parser.on('end', () => {
    ended = true;
    notify();
  });
  parser.on('error', (err) => {
    failure = err;
    notify();
  });
  async function nextBatch(): Promise<string[][] | undefined> {
    for (;;) {
      const batch: string[][] = [];
      let rec: string[] | null;
      while (batch.length < 4096 && (rec = parser.read() as string[] | null) !== null) batch.push(rec);
      if (batch.length > 0) return batch;
      if (failure !== undefined) throw new TableReadError(`${file}: ${describe(failure)}`);
      if (ended) return undefined;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  }

  const firstBatch = await nextBatch();
  const headerRow = firstBatch?.shift();
  if (!headerRow) throw new TableReadError(`${file}: empty file, expected a header row`);
  const columns = checkHeader(headerRow, file);
  async function* rows(): AsyncGenerator<Cell[][]> {
    try {
      if (firstBatch && firstBatch.length > 0) yield firstBatch;
      for (let batch = await nextBatch(); batch; batch = await nextBatch()) yield batch;
    } finally {
      input.destroy();
    }
  }
  const fileDigest = async (): Promise<{ sha256: string; bytes: number }> => {
    if (!complete) throw new TableReadError(`${file}: digest requested before the whole file was read`);
    return { sha256: hash.digest('hex'), bytes };
  };
  return { columns, batches: rows(), fileDigest };
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
  const columns = checkHeader(top.map((el) => el.name), file);
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

function checkHeader(header: string[], file: string): string[] {
  if (header.length === 0) throw new TableReadError(`${file}: header has no columns`);
  const seen = new Set<string>();
  for (const name of header) {
    if (seen.has(name)) throw new TableReadError(`${file}: duplicate column name "${name}"`);
    seen.add(name);
  }
  return header;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
