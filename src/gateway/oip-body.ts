/**
 * The Open Inference Protocol request body read from its bytes. The tensors' `data` arrays are nearly all of
 * the body and are flat lists of numbers: JSON.parse makes a heap number of each (at 1,000 rows × 8 features,
 * 8,000 objects for the garbage collector) only for `toFeatureMatrix` to copy them into a Float32Array. Here
 * each `inputs[i].data` that is a flat list of plain JSON numbers is scanned straight into a Float64Array
 * and the rest of the body (names, shapes, parameters, case ids) goes through JSON.parse with `[]` in its
 * place. Anything unusual (no such array, nulls, nested lists, a duplicated key, a non-numeric datatype) is
 * left to JSON.parse: the result, and every refusal, is the same as `JSON.parse` of the whole body
 * (test/unit/gateway-oip-body.test.ts checks both on random bodies).
 */

/** Thrown when the body is not JSON (the caller answers 400 "body is not valid JSON"). */
export class BodyNotJsonError extends Error {
  override name = 'BodyNotJsonError';
}

/** The schema's bound on a tensor's values (`InferRequestSchema`): longer lists are left to JSON.parse and refused there. */
const MAX_VALUES = 1_000_000;
const NUMERIC = new Set([
  'FP32',
  'FP64',
  'FP16',
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'UINT8',
  'UINT16',
  'UINT32',
  'UINT64',
]);

/** Exact powers of ten (10^22 is the largest a double holds exactly). */
const POW10 = Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;

interface Extracted {
  /** Byte range of the `[...]` in the body. */
  start: number;
  end: number;
  input: number;
  values: Float64Array;
}

/**
 * The body as `JSON.parse` reads it, numeric `inputs[i].data` lists as Float64Arrays when the body has at least
 * `minBytes` (smaller ones, whose few numbers cost JSON.parse little, are parsed whole); BodyNotJsonError if it
 * is not JSON.
 */
export function readInferBody(buf: Buffer, minBytes = 4096): unknown {
  if (buf.length < minBytes) return parseAll(buf);
  let found: Extracted[] | null;
  try {
    found = scan(buf);
  } catch {
    found = null; // anything the scanner does not expect: the whole body to JSON.parse
  }
  if (found === null || found.length === 0) return parseAll(buf);
  let text = '';
  let at = 0;
  for (const e of found) {
    // Ranges start and end at ASCII brackets: no UTF-8 sequence is split.
    text += buf.toString('utf8', at, e.start) + '[]';
    at = e.end;
  }
  text += buf.toString('utf8', at, buf.length);
  let body: unknown;
  try {
    // A list of numbers in a value's place swapped for another list: valid exactly when the whole body is.
    body = JSON.parse(text);
  } catch {
    throw new BodyNotJsonError('body is not valid JSON');
  }
  const inputs = (body as { inputs?: unknown }).inputs;
  for (const e of found) {
    const t: unknown = Array.isArray(inputs) ? inputs[e.input] : undefined;
    if (
      typeof t !== 'object' ||
      t === null ||
      !Array.isArray((t as { data?: unknown }).data) ||
      (t as { data: unknown[] }).data.length !== 0 ||
      !NUMERIC.has((t as { datatype?: unknown }).datatype as string)
    )
      return parseAll(buf); // e.g. a BYTES tensor of numbers: its data as JSON.parse gives it
    (t as { data: unknown }).data = e.values;
  }
  return body;
}

function parseAll(buf: Buffer): unknown {
  try {
    return JSON.parse(buf.toString('utf8'));
  } catch {
    throw new BodyNotJsonError('body is not valid JSON');
  }
}

/** Scratch space for the values of one list (grown as needed, copied out per list). */
let scratch = new Float64Array(8192);

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/**
 * The numeric `inputs[i].data` lists of a body whose root is an object, or null (leave it all to JSON.parse).
 * Strict on the structure it walks (a surprise throws or returns null); values it does not look into are
 * skipped by bracket depth outside strings, which is exact for valid JSON, and JSON.parse judges the rest.
 */
function scan(b: Buffer): Extracted[] | null {
  const n = b.length;
  let p = 0;
  const ws = (): void => {
    while (p < n && isSpace(b[p]!)) p++;
  };
  /** Past a string starting at p (a quote); returns its raw bytes' end (exclusive of the closing quote). */
  const skipString = (): number => {
    let q = p + 1;
    for (;;) {
      const close = b.indexOf(QUOTE, q);
      if (close < 0) throw new Error('unterminated string');
      // An odd run of backslashes before the quote escapes it.
      let k = close - 1;
      while (k >= q && b[k] === BACKSLASH) k--;
      if ((close - 1 - k) % 2 === 0) {
        p = close + 1;
        return close;
      }
      q = close + 1;
    }
  };
  /** A key's text when it is plain ASCII of at most 16 bytes (the keys that matter), else '' (some other key). */
  const key = (): string => {
    if (b[p] !== QUOTE) throw new Error('key expected');
    const start = p + 1;
    const end = skipString();
    // An escaped key may spell "data" or "inputs" (a duplicate JSON.parse would keep): left to JSON.parse.
    for (let i = start; i < end; i++) if (b[i] === BACKSLASH) throw new Error('escaped key');
    if (end - start > 16) return '';
    let s = '';
    for (let i = start; i < end; i++) {
      const c = b[i]!;
      if (c >= 0x80) return '';
      s += String.fromCharCode(c);
    }
    return s;
  };
  const skipValue = (): void => {
    const c = b[p];
    if (c === QUOTE) return void skipString();
    if (c === LBRACE || c === LBRACKET) {
      let depth = 0;
      while (p < n) {
        const d = b[p]!;
        if (d === QUOTE) {
          skipString();
          continue;
        }
        if (d === LBRACE || d === LBRACKET) depth++;
        else if (d === RBRACE || d === RBRACKET) {
          depth--;
          if (depth === 0) {
            p++;
            return;
          }
        }
        p++;
      }
      throw new Error('unbalanced');
    }
    // A scalar: up to the next separator.
    while (p < n) {
      const d = b[p]!;
      if (d === COMMA || d === RBRACE || d === RBRACKET || isSpace(d)) return;
      p++;
    }
  };
  /** Walks an object at p ('{'), calling `onValue(key)` with p at each value; onValue leaves p after it. */
  const object = (onValue: (k: string) => void): void => {
    p++;
    ws();
    if (b[p] === RBRACE) return void p++;
    for (;;) {
      ws();
      const k = key();
      ws();
      if (b[p] !== COLON) throw new Error('colon expected');
      p++;
      ws();
      onValue(k);
      ws();
      const c = b[p];
      p++;
      if (c === RBRACE) return;
      if (c !== COMMA) throw new Error('comma expected');
    }
  };

  const found: Extracted[] = [];
  let inputsSeen = 0;
  ws();
  if (b[p] !== LBRACE) return null;
  object((k) => {
    if (k !== 'inputs') return skipValue();
    if (++inputsSeen > 1 || b[p] !== LBRACKET) throw new Error('inputs: not one list');
    p++;
    ws();
    if (b[p] === RBRACKET) return void p++;
    for (let i = 0; ; i++) {
      ws();
      if (b[p] === LBRACE) {
        let dataSeen = 0;
        object((tk) => {
          if (tk !== 'data') return skipValue();
          if (++dataSeen > 1) throw new Error('data twice');
          if (b[p] !== LBRACKET) return skipValue();
          const start = p;
          const values = numbers(b, p);
          if (values === null) return skipValue();
          p = values.end;
          found.push({ start, end: p, input: i, values: values.values });
        });
      } else skipValue();
      ws();
      const c = b[p];
      p++;
      if (c === RBRACKET) return;
      if (c !== COMMA) throw new Error('comma expected');
    }
  });
  ws();
  if (p !== n) return null;
  return found;
}

/**
 * A flat list of JSON numbers starting at `p` ('['): its values and the offset past its ']', or null for
 * anything else (nulls, strings, nested lists, malformed numbers, too many values, a number out of range).
 */
function numbers(b: Buffer, p: number): { values: Float64Array; end: number } | null {
  const n = b.length;
  p++;
  let count = 0;
  while (p < n && isSpace(b[p]!)) p++;
  if (b[p] === RBRACKET) return null; // nothing to gain
  for (;;) {
    while (p < n && isSpace(b[p]!)) p++;
    // -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
    const start = p;
    let neg = false;
    if (b[p] === MINUS) {
      neg = true;
      p++;
    }
    let c = b[p];
    if (c === undefined || c < ZERO || c > NINE) return null;
    let m = 0;
    let digits = 0; // significant digits in m
    let exp = 0;
    if (c === ZERO) {
      p++;
    } else {
      while (p < n && (c = b[p]!) >= ZERO && c <= NINE) {
        if (m !== 0 || c !== ZERO) digits++;
        m = m * 10 + (c - ZERO);
        p++;
      }
    }
    if (b[p] === DOT) {
      p++;
      const f = p;
      while (p < n && (c = b[p]!) >= ZERO && c <= NINE) {
        if (m !== 0 || c !== ZERO) digits++;
        m = m * 10 + (c - ZERO);
        exp--;
        p++;
      }
      if (p === f) return null;
    }
    c = b[p];
    if (c === 0x65 || c === 0x45) {
      p++;
      let eneg = false;
      if (b[p] === MINUS || b[p] === PLUS) {
        eneg = b[p] === MINUS;
        p++;
      }
      const f = p;
      let e = 0;
      while (p < n && (c = b[p]!) >= ZERO && c <= NINE) {
        if (e < 100_000) e = e * 10 + (c - ZERO);
        p++;
      }
      if (p === f) return null;
      exp += eneg ? -e : e;
    }
    let v: number;
    if (digits <= 15 && exp >= -22 && exp <= 22) {
      // m is exact (< 10^15 < 2^53) and so is 10^|exp|: one correctly rounded operation, as JSON.parse rounds.
      v = exp < 0 ? m / POW10[-exp]! : m * POW10[exp]!;
      if (neg) v = -v;
    } else {
      v = Number(b.toString('latin1', start, p));
      if (!Number.isFinite(v)) return null;
    }
    if (count === scratch.length) {
      if (count >= MAX_VALUES) return null;
      const grown = new Float64Array(Math.min(MAX_VALUES, count * 2));
      grown.set(scratch);
      scratch = grown;
    }
    scratch[count++] = v;
    while (p < n && isSpace(b[p]!)) p++;
    c = b[p];
    p++;
    if (c === RBRACKET) return { values: scratch.slice(0, count), end: p };
    if (c !== COMMA) return null;
  }
}
