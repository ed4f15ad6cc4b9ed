import crypto from 'node:crypto';
import fs from 'node:fs';
import { openCsvWithCsvParse } from './csv-parse-reader';
import { checkHeader, describe, TableReadError, type RowSink, type TableScan } from './table-stream';

type Latin1Sliceable = Buffer & { latin1Slice(start: number, end: number): string };

/** Text of an ASCII byte range (Buffer#latin1Slice: skips toString's encoding dispatch). */
export function asciiText(buf: Buffer, start: number, end: number): string {
  return (buf as Latin1Sliceable).latin1Slice(start, end);
}

/** Malformed CSV found by the scanner; the message users see is csv-parse's (see `CsvScanner.fail`). */
class CsvSyntaxError extends Error {}

const QUOTE = 0x22;
const COMMA = 0x2c;
const LF = 0x0a;
const CR = 0x0d;
/** Record delimiter, discovered like csv-parse does: the first CRLF, LF or CR outside quotes. */
const enum Delim {
  Unknown,
  Lf,
  CrLf,
  Cr,
}
/** 0: copied as is into the digest JSON; 1: comma; 2: anything else (leaves the ASCII fast path). */
const BYTE_CLASS = new Uint8Array(256).fill(2);
for (let b = 0x20; b < 0x7f; b++) BYTE_CLASS[b] = 0;
BYTE_CLASS[COMMA] = 1;
BYTE_CLASS[QUOTE] = 2;
BYTE_CLASS[0x5c] = 2; // backslash: escaped in JSON

const NEED_MORE = -1;

/**
 * Byte-level RFC 4180 reader that gives exactly csv-parse's records for the options `openCsv` documents (checked by
 * differential tests in test/unit/provenance-csv-scanner.test.ts). Reads the file in 1 MiB blocks, hashing
 * the very bytes it parses. Plain ASCII rows take a fast path (one loop that finds the commas and writes the
 * row's digest JSON); any other row — quoted fields, non-ASCII or control bytes, a ragged row, the header —
 * goes through a port of csv-parse's state machine, which decodes each field with UTF-8 like csv-parse.
 * On malformed input the error message is csv-parse's own, re-derived by running csv-parse over the file.
 */
export class CsvScanner {
  private buf: Buffer;
  private json: Buffer;
  private field = Buffer.allocUnsafe(1 << 12);
  /** Unconsumed data is buf[pos, len). */
  private pos = 0;
  private len = 0;
  private eof = false;
  private delim = Delim.Unknown;
  private header: string[] | undefined;
  private bounds = new Int32Array(0);
  private readonly hash = crypto.createHash('sha256');
  private bytes = 0;
  private closed = false;

  private constructor(
    private readonly file: string,
    private readonly fd: fs.promises.FileHandle,
    blockSize: number,
  ) {
    this.buf = Buffer.allocUnsafe(blockSize);
    this.json = Buffer.allocUnsafe(3 * blockSize + 8);
  }

  /** Undefined when the file is for csv-parse instead (it starts with a UTF-16LE byte-order mark). */
  static async open(file: string, blockSize = 1 << 20): Promise<CsvScanner | undefined> {
    let fd: fs.promises.FileHandle;
    try {
      fd = await fs.promises.open(file, 'r');
    } catch (err) {
      throw new TableReadError(`${file}: ${describe(err)}`);
    }
    const s = new CsvScanner(file, fd, Math.max(1, Math.floor(blockSize)));
    try {
      while (s.len < 3 && (await s.readMore()));
      // csv-parse looks for a BOM once it has 3 bytes (fewer only at the end of a shorter file).
      if (s.len >= 3 && s.buf[0] === 0xef && s.buf[1] === 0xbb && s.buf[2] === 0xbf) s.pos = 3;
      else if (s.len >= 3 && s.buf[0] === 0xff && s.buf[1] === 0xfe) {
        await s.close();
        return undefined;
      }
      const none: RowSink = { asciiRow: () => undefined, cellsRow: () => undefined };
      while (!s.header) {
        await s.drainOrThrow(none);
        if (s.header || !(await s.readMoreOrThrow())) break;
      }
      if (!s.header) await s.drainOrThrow(none);
      if (!s.header) throw new TableReadError(`${file}: empty file, expected a header row`);
      return s;
    } catch (err) {
      await s.close();
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
        try {
          await this.drainOrThrow(sink);
          while (await this.readMoreOrThrow()) await this.drainOrThrow(sink);
          await this.drainOrThrow(sink);
        } finally {
          await this.close();
        }
      },
      fileDigest: () => this.fileDigest(),
    };
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

  /** Appends the next block of the file; false at the end of the file. */
  private async readMore(): Promise<boolean> {
    if (this.eof) return false;
    if (this.pos > 0) {
      this.buf.copy(this.buf, 0, this.pos, this.len);
      this.len -= this.pos;
      this.pos = 0;
    }
    if (this.len === this.buf.length) {
      // One record longer than the buffer: grow it.
      const grown = Buffer.allocUnsafe(this.buf.length * 2);
      this.buf.copy(grown, 0, 0, this.len);
      this.buf = grown;
      this.json = Buffer.allocUnsafe(3 * grown.length + 8);
    }
    const { bytesRead } = await this.fd.read(this.buf, this.len, this.buf.length - this.len, null);
    if (bytesRead === 0) {
      this.eof = true;
      return false;
    }
    this.hash.update(this.buf.subarray(this.len, this.len + bytesRead));
    this.bytes += bytesRead;
    this.len += bytesRead;
    return true;
  }

  async readMoreOrThrow(): Promise<boolean> {
    try {
      return await this.readMore();
    } catch (err) {
      throw new TableReadError(`${this.file}: ${describe(err)}`);
    }
  }

  /** Parses every complete record buffered (at the end of the file, all of them); stops after the header. */
  async drainOrThrow(sink: RowSink): Promise<void> {
    try {
      this.drain(sink);
    } catch (err) {
      if (err instanceof CsvSyntaxError)
        throw new TableReadError(`${this.file}: ${await csvParseMessage(this.file, err.message)}`);
      throw err;
    }
  }

  private drain(sink: RowSink): void {
    const noHeader = this.header === undefined;
    while (this.pos < this.len) {
      const next = this.header && this.delim !== Delim.Unknown ? this.fastRow(sink) : NEED_MORE;
      if (next !== NEED_MORE) {
        this.pos = next;
        continue;
      }
      const after = this.slowRow(sink);
      if (after === NEED_MORE) return;
      this.pos = after;
      if (noHeader && this.header) return;
    }
  }

  /** The ASCII fast path: the end of the row, or NEED_MORE to hand the row to `slowRow`. */
  private fastRow(sink: RowSink): number {
    const { buf, json, bounds, len } = this;
    const last = bounds.length - 2;
    const start = this.pos;
    let i = start;
    let j = 2;
    let n = 0;
    bounds[0] = start - 1;
    for (; i < len; i++) {
      const b = buf[i]!;
      const k = BYTE_CLASS[b]!;
      if (k === 0) {
        json[j++] = b;
        continue;
      }
      if (k !== 1 || n === last) break;
      bounds[++n] = i;
      json[j] = QUOTE;
      json[j + 1] = COMMA;
      json[j + 2] = QUOTE;
      j += 3;
    }
    if (i >= len || n !== last) return NEED_MORE;
    let end: number;
    if (this.delim === Delim.Lf && buf[i] === LF) end = i + 1;
    else if (this.delim === Delim.CrLf && buf[i] === CR && i + 1 < len && buf[i + 1] === LF) end = i + 2;
    else if (this.delim === Delim.Cr && buf[i] === CR) end = i + 1;
    else return NEED_MORE;
    bounds[n + 1] = i;
    json[0] = 0x5b;
    json[1] = QUOTE;
    json[j] = QUOTE;
    json[j + 1] = 0x5d;
    sink.asciiRow(buf, bounds, json, j + 2);
    return end;
  }

  /** Length of the record delimiter at `i` (discovering it if still unknown), 0 if none, NEED_MORE to wait. */
  private delimiterAt(i: number): number {
    const { buf, len } = this;
    const c = buf[i];
    if (this.delim === Delim.Unknown) {
      if (c === CR) {
        if (i + 1 >= len && !this.eof) return NEED_MORE;
        this.delim = buf[i + 1] === LF && i + 1 < len ? Delim.CrLf : Delim.Cr;
      } else if (c === LF) this.delim = Delim.Lf;
      else return 0;
    }
    switch (this.delim) {
      case Delim.Lf:
        return c === LF ? 1 : 0;
      case Delim.Cr:
        return c === CR ? 1 : 0;
      default:
        if (c !== CR) return 0;
        if (i + 1 >= len) return this.eof ? 0 : NEED_MORE;
        return buf[i + 1] === LF ? 2 : 0;
    }
  }

  private pushByte(fl: number, b: number): void {
    if (fl === this.field.length) {
      const grown = Buffer.allocUnsafe(this.field.length * 2);
      this.field.copy(grown);
      this.field = grown;
    }
    this.field[fl] = b;
  }

  /**
   * One record by csv-parse's rules (its `parse` loop with quote = escape = '"', no trimming, comments or
   * relaxing): returns the position after it, or NEED_MORE if the buffer ends first (and it is not the end).
   * Delimiter discovery happens as a side effect, as in csv-parse; a call that returns NEED_MORE is repeated
   * from the same start with more data, which discovers the same delimiter.
   */
  private slowRow(sink: RowSink): number {
    const { buf, len, eof } = this;
    const cells: string[] = [];
    let fl = 0;
    let quoting = false;
    let wasQuoting = false;
    let i = this.pos;
    for (;;) {
      if (i >= len) {
        if (!eof) return NEED_MORE;
        if (quoting) throw new CsvSyntaxError(`Quote Not Closed: the parsing is finished with an opening quote`);
        if (!wasQuoting && cells.length === 0 && fl === 0) return len; // nothing after the last delimiter
        cells.push(this.field.toString('utf8', 0, fl));
        this.emit(sink, cells);
        return len;
      }
      const c = buf[i]!;
      if (quoting) {
        if (c === QUOTE) {
          if (i + 1 >= len && !eof) return NEED_MORE;
          if (i + 1 < len && buf[i + 1] === QUOTE) {
            this.pushByte(fl++, QUOTE);
            i += 2;
            continue;
          }
          // As in csv-parse, a NUL byte after the quote (falsy there) also closes it; the NUL then starts field text.
          let closes = i + 1 >= len || buf[i + 1] === COMMA || buf[i + 1] === 0;
          if (!closes) {
            const d = this.delimiterAt(i + 1);
            if (d === NEED_MORE) return NEED_MORE;
            closes = d > 0;
          }
          if (!closes) throw new CsvSyntaxError(`Invalid Closing Quote: got "${String.fromCharCode(buf[i + 1]!)}"`);
          quoting = false;
          wasQuoting = true;
          i += 1;
          continue;
        }
        this.pushByte(fl++, c);
        i += 1;
        continue;
      }
      const d = this.delimiterAt(i);
      if (d === NEED_MORE) return NEED_MORE;
      if (c === QUOTE) {
        if (fl !== 0) throw new CsvSyntaxError('Invalid Opening Quote: a quote is found inside a field');
        quoting = true;
        i += 1;
        continue;
      }
      if (d > 0) {
        cells.push(this.field.toString('utf8', 0, fl));
        this.emit(sink, cells);
        return i + d;
      }
      if (c === COMMA) {
        cells.push(this.field.toString('utf8', 0, fl));
        fl = 0;
        wasQuoting = false;
        i += 1;
        continue;
      }
      this.pushByte(fl++, c);
      i += 1;
    }
  }

  private emit(sink: RowSink, cells: string[]): void {
    if (!this.header) {
      this.header = checkHeader(cells, this.file);
      this.bounds = new Int32Array(cells.length + 1);
      return;
    }
    if (cells.length !== this.header.length) {
      throw new CsvSyntaxError(`Invalid Record Length: expect ${this.header.length}, got ${cells.length}`);
    }
    sink.cellsRow(cells);
  }
}

/** csv-parse's message for a malformed file (errors are rare, so re-reading the file for it is fine). */
async function csvParseMessage(file: string, fallback: string): Promise<string> {
  try {
    const table = await openCsvWithCsvParse(file);
    for await (const batch of table.batches) void batch;
  } catch (err) {
    const message = describe(err);
    return message.startsWith(`${file}: `) ? message.slice(file.length + 2) : message;
  }
  return fallback;
}
