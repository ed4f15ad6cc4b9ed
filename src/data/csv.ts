import fs from 'node:fs';
import { CsvSyntaxError, CsvTokenizer, lineCount, type RecordSink } from './csv-scan';
import { DatasetError } from './errors';
import { parseDecimal } from './decimal';
import type { DatasetSchema } from './schema';
import { TableBuilder, type LockedTable } from './table';

const utf8 = (buf: Uint8Array, s: number, e: number) =>
  Buffer.from(buf.buffer, buf.byteOffset + s, e - s).toString('utf8');
const clip = (s: string) => (s.length > 40 ? `${s.slice(0, 40)}…` : s);
const NON_FINITE = /^[+-]?(nan|inf|infinity)$/i;

/** Fills a TableBuilder from CSV records: numbers parsed and strings interned straight from the bytes. */
class CsvTableSink implements RecordSink {
  private builder: TableBuilder | undefined;
  private width = 0;
  private tokens: Uint8Array[];
  private emptyIsMissing: boolean;
  private records = 0;

  constructor(
    private readonly schema: DatasetSchema,
    private readonly name: string,
    private readonly expectedRows: number,
  ) {
    const enc = new TextEncoder();
    const trimmed = schema.missingTokens.map((t) => t.trim());
    this.emptyIsMissing = trimmed.includes('');
    this.tokens = trimmed.filter((t) => t !== '').map((t) => enc.encode(t));
  }

  private isMissing(buf: Uint8Array, s: number, e: number): boolean {
    if (s === e) return this.emptyIsMissing;
    for (const t of this.tokens) {
      if (t.length !== e - s) continue;
      let k = 0;
      while (k < t.length && t[k] === buf[s + k]) k++;
      if (k === t.length) return true;
    }
    return false;
  }

  record(buf: Uint8Array, starts: Int32Array, ends: Int32Array, cells: number): void {
    const b = this.builder;
    if (!b) {
      const header: string[] = [];
      for (let i = 0; i < cells; i++) header.push(utf8(buf, starts[i]!, ends[i]!));
      this.builder = new TableBuilder(this.name, this.schema, header, this.expectedRows);
      this.width = cells;
      return;
    }
    const r = ++this.records;
    if (cells !== this.width)
      throw new DatasetError(
        'ragged-row',
        `dataset ${this.name}: row ${r} has ${cells} cells, the header has ${this.width}`,
        r,
      );
    b.begin();
    const { specs, fileColumn } = b;
    for (let k = 0; k < specs.length; k++) {
      const c = fileColumn[k]!;
      const s = starts[c]!;
      const e = ends[c]!;
      if (this.isMissing(buf, s, e)) {
        b.setMissing(k);
        continue;
      }
      const type = specs[k]!.type;
      if (type === 'string') b.setBytes(k, buf, s, e);
      else if (type === 'label') {
        const v = e - s === 1 ? buf[s]! - 0x30 : -1;
        if (v !== 0 && v !== 1) b.invalid(k, 'bad-label', `label must be 0 or 1, got "${clip(utf8(buf, s, e))}"`);
        b.setNumber(k, v);
      } else {
        const v = parseDecimal(buf, s, e);
        if (Number.isNaN(v)) {
          const text = utf8(buf, s, e);
          if (NON_FINITE.test(text)) b.invalid(k, 'non-finite', `value is not finite ("${text}")`);
          b.invalid(k, 'type-mismatch', `expected a number, got "${clip(text)}"`);
        }
        b.setNumber(k, v);
      }
    }
    b.end();
  }

  finish(): LockedTable {
    if (!this.builder) throw new DatasetError('empty', `dataset ${this.name}: empty file`);
    return this.builder.finish();
  }
}

function unreadable(name: string, e: unknown): never {
  if (e instanceof CsvSyntaxError) throw new DatasetError('unreadable', `dataset ${name}: not valid CSV: ${e.message}`);
  throw e;
}

const BLOCK = 1 << 20;

/** The header of a CSV table (the first record, trimmed), without reading the rows. */
export function readCsvHeader(bytes: Uint8Array, name: string): string[] {
  let header: string[] | undefined;
  const tokenizer = new CsvTokenizer({
    record(buf, starts, ends, cells) {
      header = [];
      for (let i = 0; i < cells; i++) header.push(utf8(buf, starts[i]!, ends[i]!));
      return false; // pause: the rows are not needed
    },
  });
  try {
    for (let o = 0; o < bytes.length && !header; o += BLOCK)
      tokenizer.push(bytes.subarray(o, Math.min(bytes.length, o + BLOCK)));
    if (!header) tokenizer.end();
  } catch (e) {
    unreadable(name, e);
  }
  if (!header) throw new DatasetError('empty', `dataset ${name}: empty file`);
  return header;
}

/** Read a CSV evaluation table and check it against the schema; any problem is a DatasetError. */
export function readCsvTable(bytes: Uint8Array, schema: DatasetSchema, name: string): LockedTable {
  const sink = new CsvTableSink(schema, name, lineCount(bytes));
  const tokenizer = new CsvTokenizer(sink);
  try {
    tokenizer.push(bytes); // whole: records are read in place (blocks would copy each block's start with its carry)
    tokenizer.end();
  } catch (e) {
    unreadable(name, e);
  }
  return sink.finish();
}

/** The same, streamed from a file in 1 MiB blocks (the file is never held whole). */
export async function readCsvTableFile(file: string, schema: DatasetSchema, name: string): Promise<LockedTable> {
  const size = (await fs.promises.stat(file)).size;
  let sink: CsvTableSink | undefined;
  let tokenizer: CsvTokenizer | undefined;
  try {
    for await (const chunk of fs.createReadStream(file, { highWaterMark: BLOCK }) as AsyncIterable<Buffer>) {
      if (!tokenizer) {
        // rows expected from the first block's line breaks: columns are sized once instead of grown
        sink = new CsvTableSink(schema, name, Math.ceil((lineCount(chunk) * size * 1.02) / chunk.length) + 16);
        tokenizer = new CsvTokenizer(sink);
      }
      tokenizer.push(chunk);
    }
    sink ??= new CsvTableSink(schema, name, 16);
    (tokenizer ?? new CsvTokenizer(sink)).end();
  } catch (e) {
    unreadable(name, e);
  }
  return sink!.finish();
}
