/**
 * Small CSV files as string records, through the one tokenizer (src/data/csv-scan.ts): for callers that want
 * cells as text (traffic files, the scaffold's checks, rater labels) rather than typed columns. Every record
 * must have the first record's number of cells, as with csv-parse's default `relax_column_count: false`.
 */
import { TextDecoder } from 'node:util';
import { CsvTokenizer, type CsvDialect } from './csv-scan';

/** A record whose number of cells differs from the first record's (the header's). */
export class CsvRecordLengthError extends Error {
  override readonly name = 'CsvRecordLengthError';
  constructor(
    /** 1-based, counting the header as record 1 (blank lines skipped are not counted). */
    readonly record: number,
    readonly cells: number,
    readonly expected: number,
  ) {
    super(`Invalid Record Length: record ${record} has ${cells} cells, the first record has ${expected}`);
  }
}

export interface CsvRecordsOptions {
  /** `trimmed` (default): the data readers' dialect; `exact`: field text as written (see csv-scan.ts). */
  dialect?: CsvDialect;
  /** In the `exact` dialect, skip a line with nothing on it (csv-parse's `skip_empty_lines`); `trimmed` always does. */
  skipEmptyLines?: boolean;
}

const BLOCK = 1 << 20;

/**
 * Every record of `bytes` as strings (each field decoded as UTF-8; a UTF-16LE file, byte-order mark FF FE, is
 * decoded first, as csv-parse does). Malformed CSV is a CsvSyntaxError naming the line; a record of another length, a CsvRecordLengthError.
 */
export function readCsvRecords(bytes: Uint8Array, options: CsvRecordsOptions = {}): string[][] {
  const dialect = options.dialect ?? 'trimmed';
  const skipEmpty = options.skipEmptyLines ?? false;
  let buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf[0] === 0xff && buf[1] === 0xfe) buf = Buffer.from(new TextDecoder('utf-16le').decode(buf), 'utf8');
  const records: string[][] = [];
  const tokenizer = new CsvTokenizer(
    {
      record(b, starts, ends, cells) {
        if (skipEmpty && cells === 1 && starts[0] === ends[0]) return;
        const text = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
        const row = new Array<string>(cells);
        for (let i = 0; i < cells; i++) row[i] = text.toString('utf8', starts[i]!, ends[i]!);
        const width = records[0]?.length ?? cells;
        if (cells !== width) throw new CsvRecordLengthError(records.length + 1, cells, width);
        records.push(row);
      },
    },
    dialect,
  );
  for (let o = 0; o < buf.length; o += BLOCK) tokenizer.push(buf.subarray(o, Math.min(buf.length, o + BLOCK)));
  tokenizer.end();
  return records;
}
