import type { TableFormat } from '../data';
import type { Cell } from './row-digest';

/** The table formats, defined once in src/data. */
export type { TableFormat };

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
/**
 * Receives a table's data rows in file order. Rows that are printable ASCII (0x20–0x7e) without quotes or
 * backslashes — almost every row of a typical export — arrive as byte ranges with their row-digest JSON
 * already built, so no per-cell strings need to exist; every other row arrives as cell strings.
 */
export interface RowSink {
  /**
   * Cell `i` is `buf[starts[i], ends[i])`. `json[0, jsonLength)` is the UTF-8 RFC 8785 JSON array of the
   * cells, exactly what `rowDigest` hashes. The buffers are reused: read them before returning.
   */
  asciiRow(buf: Buffer, starts: Int32Array, ends: Int32Array, json: Buffer, jsonLength: number): void;
  cellsRow(cells: Cell[]): void;
}

/** A table opened for one pass of `scan`. */
export interface TableScan {
  columns: string[];
  /** Feeds every data row to the sink, in file order; rejects with TableReadError on malformed input. */
  scan(sink: RowSink): Promise<void>;
  /** SHA-256 and size of the file's bytes; call after `scan` has finished. */
  fileDigest(): Promise<{ sha256: string; bytes: number }>;
}
/** The header as the columns: at least one, none repeated. */
export function checkHeader(header: string[], file: string): string[] {
  if (header.length === 0) throw new TableReadError(`${file}: header has no columns`);
  const seen = new Set<string>();
  for (const name of header) {
    if (seen.has(name)) throw new TableReadError(`${file}: duplicate column name "${name}"`);
    seen.add(name);
  }
  return header;
}

/** An error's message, or the thrown value as text. */
export function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
