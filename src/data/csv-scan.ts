/**
 * The one byte-level, streaming CSV tokenizer (RFC 4180), used by the dataset reader, prediction files and the
 * dataset manifest: it hands each record over as byte ranges, so a reader converts numbers, interns strings or
 * builds row digests straight from the bytes, with no string per cell.
 *
 * Two dialects, both exactly csv-parse's records for the options named (test/unit/csv-tokenizer-dialects and
 * provenance-csv-scanner pin them to csv-parse):
 * - `trimmed` (`bom, trim, skip_empty_lines`: the data readers): ASCII whitespace (tab, LF, VT, FF, CR, space)
 *   around a field and around a quoted field is trimmed, and empty lines are skipped;
 * - `exact` (`bom` only: manifests, whose row digests need the field text as written): no trimming, an empty
 *   line is a record of one empty field, a quote opens only at the start of a field and must be followed by a
 *   delimiter (or, as csv-parse has it, a NUL byte, which then starts more field text).
 * Both: a UTF-8 BOM is dropped; the record delimiter is the first CRLF, LF or CR outside quotes; `""` inside
 * quotes is a quote. A quote inside an unquoted field, text after a closing quote, or an unclosed quote is a
 * CsvSyntaxError naming the line.
 */

/** Line breaks in `bytes`: sizes the columns once instead of growing them. */
export function lineCount(bytes: Uint8Array): number {
  let n = 1;
  for (let i = bytes.indexOf(0x0a); i >= 0; i = bytes.indexOf(0x0a, i + 1)) n++;
  return n;
}

/** Receives records in file order; buffers are reused, so read them before returning. */
export interface RecordSink {
  /**
   * Cell `i` of the record is `buf[starts[i], ends[i])`, unquoted (and trimmed in the `trimmed` dialect).
   * Returning `false` pauses the tokenizer after this record: the rest stays buffered until `resume`.
   */
  record(buf: Uint8Array, starts: Int32Array, ends: Int32Array, cells: number): boolean | void;
}

/** `trimmed`: csv-parse's `bom, trim, skip_empty_lines`; `exact`: csv-parse's `bom` (see the module comment). */
export type CsvDialect = 'trimmed' | 'exact';

export class CsvSyntaxError extends Error {
  override readonly name = 'CsvSyntaxError';
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(`${message} (line ${line})`);
  }
}

const QUOTE = 0x22;
const COMMA = 0x2c;
const LF = 0x0a;
const CR = 0x0d;
/** 1: ASCII whitespace csv-parse's trim removes; 2: comma; 3: quote; 4: CR or LF. */
const CLASS = new Uint8Array(256);
for (const b of [0x09, 0x0b, 0x0c, 0x20]) CLASS[b] = 1;
CLASS[COMMA] = 2;
CLASS[QUOTE] = 3;
CLASS[LF] = 4;
CLASS[CR] = 4;

const enum Delim {
  Unknown,
  Lf,
  CrLf,
  Cr,
}

/** `a` then `b` in a new Buffer (so a sink may read text with Buffer's methods). */
function joined(a: Uint8Array, b: Uint8Array): Buffer {
  const buf = Buffer.allocUnsafe(a.length + b.length);
  buf.set(a);
  buf.set(b, a.length);
  return buf;
}

const isSpace = (b: number) => b === 0x09 || b === 0x0b || b === 0x0c || b === 0x20 || b === LF || b === CR;

/** Feed chunks with `push`, then call `end`; each complete record goes to the sink as soon as it is seen. */
export class CsvTokenizer {
  private carry: Uint8Array | null = null;
  private first = true;
  private delim = Delim.Unknown;
  private starts = new Int32Array(64);
  private ends = new Int32Array(64);
  private scratch: Uint8Array = Buffer.allocUnsafe(1 << 12);
  /** 1-based line of the record being read (for error messages). */
  private line = 1;
  private readonly trim: boolean;
  private paused = false;
  private ended = false;

  constructor(
    private readonly sink: RecordSink,
    dialect: CsvDialect = 'trimmed',
  ) {
    this.trim = dialect === 'trimmed';
  }

  /** Whether a record asked to pause (see RecordSink.record); `resume` or `push` goes on. */
  get isPaused(): boolean {
    return this.paused;
  }

  push(chunk: Uint8Array): void {
    if (!this.carry) return this.run(chunk, false);
    // The record cut by the last block usually ends at the chunk's first LF: join only that much to the carry,
    // then read the rest of the chunk in place, instead of copying the whole chunk behind the carry.
    const nl = chunk.indexOf(LF);
    if (nl < 0 || nl + 1 >= chunk.length) {
      const buf = joined(this.carry, chunk);
      this.carry = null;
      return this.run(buf, false);
    }
    const head = joined(this.carry, chunk.subarray(0, nl + 1));
    this.carry = null;
    this.run(head, false);
    const rest = chunk.subarray(nl + 1);
    if (!this.carry && !this.paused) return this.run(rest, false);
    // not a record's end (a quoted line break, a CR-delimited file), or a pause: the rest joins what is left
    const buf = joined(this.carry ?? Buffer.alloc(0), rest);
    this.carry = null;
    if (this.paused) this.carry = buf;
    else this.run(buf, false);
  }

  /** Goes on after a pause with the buffered bytes (and, after `end`, to the end). */
  resume(): void {
    const buf = this.carry ?? Buffer.alloc(0);
    this.carry = null;
    this.run(buf, this.ended);
  }

  end(): void {
    this.ended = true;
    this.resume();
  }

  private run(buf: Uint8Array, eof: boolean): void {
    this.paused = false;
    const used = this.scan(buf, eof);
    // a pause keeps the rest; otherwise only an incomplete record is carried (none at the end)
    if (used < buf.length && (this.paused || !eof)) this.carry = Buffer.from(buf.subarray(used));
  }

  /** Tokenizes every complete record in `buf`; returns how many bytes were consumed. */
  private scan(buf: Uint8Array, eof: boolean): number {
    let pos = 0;
    if (this.first) {
      if (buf.length < 3 && !eof) return 0;
      this.first = false;
      if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) pos = 3;
    }
    const len = buf.length;
    while (pos < len && !this.paused) {
      const next = this.plainRecord(buf, pos, eof);
      if (next >= 0) {
        pos = next;
        continue;
      }
      const after = this.trim ? this.quotedRecord(buf, pos, eof) : this.exactRecord(buf, pos, eof);
      if (after < 0) return pos; // record continues in the next chunk
      pos = after;
    }
    return pos;
  }

  private grow(cells: number): void {
    if (cells < this.starts.length) return;
    const s = new Int32Array(this.starts.length * 2);
    s.set(this.starts);
    const e = new Int32Array(this.ends.length * 2);
    e.set(this.ends);
    this.starts = s;
    this.ends = e;
  }

  /** Length of the record delimiter at `i` (learning it on first sight), 0 if none, -1 to wait for more. */
  private delimiterAt(buf: Uint8Array, i: number, eof: boolean): number {
    const c = buf[i];
    if (this.delim === Delim.Unknown) {
      if (c === CR) {
        if (i + 1 >= buf.length && !eof) return -1;
        this.delim = buf[i + 1] === LF ? Delim.CrLf : Delim.Cr;
      } else if (c === LF) this.delim = Delim.Lf;
      else return 0;
    }
    if (this.delim === Delim.Lf) return c === LF ? 1 : 0;
    if (this.delim === Delim.Cr) return c === CR ? 1 : 0;
    if (c !== CR) return 0;
    if (i + 1 >= buf.length) return eof ? 0 : -1;
    return buf[i + 1] === LF ? 2 : 0;
  }

  /**
   * A record without quotes, cells as ranges of `buf`: the position after it, -1 to hand the record to
   * `quotedRecord` (it has a quote, or it is cut by the end of the chunk).
   */
  private plainRecord(buf: Uint8Array, start: number, eof: boolean): number {
    const len = buf.length;
    let n = 0;
    let cellStart = start;
    let i = start;
    for (;;) {
      // skip to the next comma, quote or line break
      while (i < len && CLASS[buf[i]!]! < 2) i++;
      if (i >= len) {
        if (!eof) return -1;
        this.emitCell(buf, n++, cellStart, i);
        return this.finishRecord(buf, n, start, i, len);
      }
      const k = CLASS[buf[i]!]!;
      if (k === 3) return -1;
      if (k === 2) {
        this.emitCell(buf, n++, cellStart, i);
        cellStart = ++i;
        continue;
      }
      const d = this.delimiterAt(buf, i, eof);
      if (d < 0) return -1;
      if (d === 0) {
        i++; // a CR or LF that is not the delimiter is field text (trimmed at the ends like csv-parse)
        continue;
      }
      this.emitCell(buf, n++, cellStart, i);
      return this.finishRecord(buf, n, start, i, i + d);
    }
  }

  private emitCell(buf: Uint8Array, n: number, s: number, e: number): void {
    this.grow(n + 1);
    if (this.trim) {
      while (s < e && isSpace(buf[s]!)) s++;
      while (e > s && isSpace(buf[e - 1]!)) e--;
    }
    this.starts[n] = s;
    this.ends[n] = e;
  }

  private finishRecord(buf: Uint8Array, n: number, start: number, end: number, next: number): number {
    // A line with no bytes at all is skipped when trimmed (skip_empty_lines); in the exact dialect it is a
    // record of one empty field, except after the last delimiter (nothing follows it).
    if (!(n === 1 && end === start) || (!this.trim && next > end))
      if (this.sink.record(buf, this.starts, this.ends, n) === false) this.paused = true;
    this.line++;
    return next;
  }

  private put(at: number, b: number): void {
    if (at >= this.scratch.length) {
      const grown = Buffer.allocUnsafe(this.scratch.length * 2);
      grown.set(this.scratch);
      this.scratch = grown;
    }
    this.scratch[at] = b;
  }

  /** Any record, decoded into the scratch buffer; -1 when the chunk ends first (and it is not the end). */
  private quotedRecord(buf: Uint8Array, start: number, eof: boolean): number {
    const len = buf.length;
    let n = 0;
    let w = 0; // write position in scratch
    let cellStart = 0;
    let quoted = false; // the current cell was quoted (its content is final: trailing space is not trimmed)
    let i = start;
    let line = this.line;
    const close = (): void => {
      this.grow(n + 1);
      let s = cellStart;
      let e = w;
      if (!quoted) {
        while (s < e && isSpace(this.scratch[s]!)) s++;
        while (e > s && isSpace(this.scratch[e - 1]!)) e--;
      }
      this.starts[n] = s;
      this.ends[n] = e;
      n++;
    };
    for (;;) {
      if (i >= len) {
        if (!eof) return -1;
        close();
        return this.finishQuoted(n, line, len);
      }
      const c = buf[i]!;
      if (c === QUOTE) {
        // only whitespace may come before an opening quote
        for (let k = cellStart; k < w; k++)
          if (!isSpace(this.scratch[k]!)) throw new CsvSyntaxError('a quote inside an unquoted field', line);
        if (quoted) throw new CsvSyntaxError('text after a closing quote', line);
        w = cellStart;
        i++;
        for (;;) {
          if (i >= len) {
            if (!eof) return -1;
            throw new CsvSyntaxError('a quoted field is not closed at the end of the file', line);
          }
          const q = buf[i]!;
          if (q === QUOTE) {
            if (i + 1 >= len && !eof) return -1;
            if (buf[i + 1] === QUOTE) {
              this.put(w++, QUOTE);
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (q === LF) line++;
          this.put(w++, q);
          i++;
        }
        quoted = true;
        // trailing whitespace, then a comma, the record delimiter or the end
        while (i < len && (buf[i] === 0x20 || buf[i] === 0x09)) i++;
        continue;
      }
      if (c === COMMA) {
        close();
        cellStart = w;
        quoted = false;
        i++;
        continue;
      }
      const d = c === CR || c === LF ? this.delimiterAt(buf, i, eof) : 0;
      if (d < 0) return -1;
      if (d > 0) {
        close();
        return this.finishQuoted(n, line, i + d);
      }
      if (quoted && !isSpace(c)) throw new CsvSyntaxError('text after a closing quote', line);
      if (quoted) {
        i++;
        continue;
      }
      this.put(w++, c);
      i++;
    }
  }

  private finishQuoted(n: number, line: number, next: number): number {
    if (this.sink.record(this.scratch, this.starts, this.ends, n) === false) this.paused = true;
    this.line = line + 1;
    return next;
  }

  /**
   * Any record in the exact dialect (csv-parse's parse loop with quote = escape = '"', no trimming), decoded
   * into the scratch buffer; -1 when the chunk ends first (and it is not the end). Delimiter discovery happens
   * as a side effect, as in csv-parse; a call that returns -1 is repeated from the same start with more data.
   */
  private exactRecord(buf: Uint8Array, start: number, eof: boolean): number {
    const len = buf.length;
    let n = 0;
    let w = 0;
    let cellStart = 0;
    let quoting = false;
    let wasQuoting = false;
    let i = start;
    let line = this.line;
    const close = (): void => {
      this.grow(n + 1);
      this.starts[n] = cellStart;
      this.ends[n] = w;
      n++;
    };
    for (;;) {
      if (i >= len) {
        if (!eof) return -1;
        if (quoting) throw new CsvSyntaxError('Quote Not Closed: the parsing is finished with an opening quote', line);
        if (!wasQuoting && n === 0 && w === 0) return len; // nothing after the last delimiter
        close();
        return this.finishQuoted(n, line, len);
      }
      const c = buf[i]!;
      if (quoting) {
        if (c === QUOTE) {
          if (i + 1 >= len && !eof) return -1;
          if (i + 1 < len && buf[i + 1] === QUOTE) {
            this.put(w++, QUOTE);
            i += 2;
            continue;
          }
          // As in csv-parse, a NUL byte after the quote (falsy there) also closes it; the NUL then starts field text.
          let closes = i + 1 >= len || buf[i + 1] === COMMA || buf[i + 1] === 0;
          if (!closes) {
            const d = this.delimiterAt(buf, i + 1, eof);
            if (d < 0) return -1;
            closes = d > 0;
          }
          if (!closes) throw new CsvSyntaxError('Invalid Closing Quote: text after a closing quote', line);
          quoting = false;
          wasQuoting = true;
          i++;
          continue;
        }
        if (c === LF) line++;
        this.put(w++, c);
        i++;
        continue;
      }
      const d = this.delimiterAt(buf, i, eof);
      if (d < 0) return -1;
      if (c === QUOTE) {
        if (w !== cellStart) throw new CsvSyntaxError('Invalid Opening Quote: a quote inside an unquoted field', line);
        quoting = true;
        i++;
        continue;
      }
      if (d > 0) {
        close();
        return this.finishQuoted(n, line, i + d);
      }
      if (c === COMMA) {
        close();
        cellStart = w;
        wasQuoting = false;
        i++;
        continue;
      }
      this.put(w++, c);
      i++;
    }
  }
}
