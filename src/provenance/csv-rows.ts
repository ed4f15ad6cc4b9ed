import crypto from 'node:crypto';
import fs from 'node:fs';
import { TextDecoder } from 'node:util';
import { parse } from 'csv-parse';
import { CsvSyntaxError, CsvTokenizer, type RecordSink } from '../data/csv-scan';
import { checkHeader, describe, TableReadError, type RowSink, type TableScan } from './table-stream';

type Latin1Sliceable = Buffer & { latin1Slice(start: number, end: number): string };

/** Text of an ASCII byte range (Buffer#latin1Slice: skips toString's encoding dispatch). */
export function asciiText(buf: Buffer, start: number, end: number): string {
  return (buf as Latin1Sliceable).latin1Slice(start, end);
}

const QUOTE = 0x22;
const COMMA = 0x2c;
/** 1: a byte copied as is into the row-digest JSON (printable ASCII but quote and backslash). */
const PLAIN = new Uint8Array(256);
for (let b = 0x20; b < 0x7f; b++) PLAIN[b] = 1;
PLAIN[QUOTE] = 0;
PLAIN[0x5c] = 0;

/**
 * A CSV file's rows for the manifest, from the data readers' tokenizer in its `exact` dialect (csv-parse's
 * records with `bom` and no trimming: a row digest covers the field text as written). Reads the file in
 * blocks and hashes the very bytes it parses. Rows of printable ASCII without quotes or backslashes reach
 * the sink as byte ranges with their row-digest JSON already built; any other row as cell strings (each
 * field decoded as UTF-8, as csv-parse does). A UTF-16LE file (byte-order mark FF FE) is decoded to UTF-8
 * first. On malformed input the message is csv-parse's own, re-derived by running csv-parse over the file.
 */
export class CsvRows implements RecordSink {
  private header: string[] | undefined;
  private rows: RowSink | undefined;
  private json: Buffer = Buffer.allocUnsafe(1 << 12);
  private readonly tokenizer = new CsvTokenizer(this, 'exact');
  private readonly hash = crypto.createHash('sha256');
  private bytes = 0;
  private eof = false;
  private closed = false;
  private utf16: TextDecoder | undefined;
  /** The file's first bytes until there are two (to recognise a UTF-16LE byte-order mark). */
  private head: Buffer | null = Buffer.alloc(0);
  private rowNo = 0;

  private constructor(
    private readonly file: string,
    private readonly fd: fs.promises.FileHandle,
    private readonly block: Buffer,
  ) {}

  static async open(file: string, blockSize = 1 << 20): Promise<CsvRows> {
    let fd: fs.promises.FileHandle;
    try {
      fd = await fs.promises.open(file, 'r');
    } catch (err) {
      throw new TableReadError(`${file}: ${describe(err)}`);
    }
    const rows = new CsvRows(file, fd, Buffer.allocUnsafe(Math.max(1, Math.floor(blockSize))));
    try {
      // the tokenizer pauses after the header record, so the columns are known before `scan`
      while (!rows.header && (await rows.feed()));
      if (!rows.header) throw new TableReadError(`${file}: empty file, expected a header row`);
      return rows;
    } catch (err) {
      await rows.close();
      throw err;
    }
  }

  get columns(): string[] {
    return this.header!;
  }

  asTableScan(): TableScan {
    return {
      columns: this.columns,
      scan: async (sink) => {
        while (await this.pump(sink));
      },
      fileDigest: () => this.fileDigest(),
    };
  }

  /**
   * Feeds the rows of the next block read to `sink` (the rows left from opening, first); false when the
   * file is done, and then the file is closed (also on an error).
   */
  async pump(sink: RowSink): Promise<boolean> {
    try {
      if (!this.rows) {
        this.rows = sink;
        await this.orThrow(() => this.tokenizer.resume());
      }
      this.rows = sink;
      if (await this.feed()) return true;
    } catch (err) {
      await this.close();
      throw err;
    }
    await this.close();
    return false;
  }

  async fileDigest(): Promise<{ sha256: string; bytes: number }> {
    if (!this.eof) throw new TableReadError(`${this.file}: digest requested before the whole file was read`);
    return { sha256: this.hash.digest('hex'), bytes: this.bytes };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.fd.close();
  }

  record(buf: Uint8Array, starts: Int32Array, ends: Int32Array, cells: number): boolean {
    const b = buf as Buffer;
    if (!this.header) {
      const header: string[] = [];
      for (let i = 0; i < cells; i++) header.push(b.toString('utf8', starts[i]!, ends[i]!));
      this.header = checkHeader(header, this.file);
      return false;
    }
    this.rowNo++;
    if (cells !== this.header.length)
      throw new CsvSyntaxError(`Invalid Record Length: expect ${this.header.length}, got ${cells}`, this.rowNo + 1);
    const sink = this.rows!;
    const jsonLength = this.digestJson(b, starts, ends, cells);
    if (jsonLength >= 0) sink.asciiRow(b, starts, ends, this.json, jsonLength);
    else {
      const row: string[] = [];
      for (let i = 0; i < cells; i++) row.push(b.toString('utf8', starts[i]!, ends[i]!));
      sink.cellsRow(row);
    }
    return true;
  }

  /** The row's digest JSON `["a","b"]` in `this.json`, its length; -1 if a byte needs escaping or decoding. */
  private digestJson(buf: Buffer, starts: Int32Array, ends: Int32Array, cells: number): number {
    let need = 2 + 3 * cells;
    for (let c = 0; c < cells; c++) need += ends[c]! - starts[c]!;
    if (need > this.json.length) this.json = Buffer.allocUnsafe(need * 2);
    const json = this.json;
    json[0] = 0x5b;
    let j = 1;
    for (let c = 0; c < cells; c++) {
      if (c > 0) json[j++] = COMMA;
      json[j++] = QUOTE;
      for (let i = starts[c]!, e = ends[c]!; i < e; i++) {
        const x = buf[i]!;
        if (PLAIN[x] === 0) return -1;
        json[j++] = x;
      }
      json[j++] = QUOTE;
    }
    json[j++] = 0x5d;
    return j;
  }

  /** Reads the next block into the tokenizer (at the end of the file, ends it); false once the file is done. */
  private async feed(): Promise<boolean> {
    if (this.eof) return false;
    let bytesRead: number;
    try {
      ({ bytesRead } = await this.fd.read(this.block, 0, this.block.length, null));
    } catch (err) {
      throw new TableReadError(`${this.file}: ${describe(err)}`);
    }
    if (bytesRead === 0) {
      this.eof = true;
      const head = this.head;
      this.head = null;
      const tail = this.utf16?.decode();
      await this.orThrow(() => {
        if (head) this.tokenizer.push(head);
        if (tail) this.tokenizer.push(Buffer.from(tail, 'utf8'));
        this.tokenizer.end();
      });
      return false;
    }
    let chunk: Buffer = this.block.subarray(0, bytesRead);
    this.hash.update(chunk);
    this.bytes += bytesRead;
    if (this.head) {
      // csv-parse decodes a file that starts with the UTF-16LE byte-order mark as UTF-16LE: wait for 2 bytes
      chunk = Buffer.concat([this.head, chunk]);
      if (chunk.length < 2) {
        this.head = chunk;
        return true;
      }
      this.head = null;
      if (chunk[0] === 0xff && chunk[1] === 0xfe) this.utf16 = new TextDecoder('utf-16le');
    }
    if (this.utf16) chunk = Buffer.from(this.utf16.decode(chunk, { stream: true }), 'utf8');
    await this.orThrow(() => this.tokenizer.push(chunk));
    return true;
  }

  private async orThrow(step: () => void): Promise<void> {
    try {
      step();
    } catch (err) {
      if (err instanceof CsvSyntaxError)
        throw new TableReadError(`${this.file}: ${await csvParseMessage(this.file, err.message)}`);
      throw err;
    }
  }
}

/** csv-parse's message for a malformed file (errors are rare, so re-reading the file for it is fine). */
async function csvParseMessage(file: string, fallback: string): Promise<string> {
  const parser = fs
    .createReadStream(file)
    .pipe(parse({ bom: true, relax_column_count: false, skip_empty_lines: false }));
  try {
    for await (const record of parser) void record;
  } catch (err) {
    return describe(err);
  }
  return fallback;
}
