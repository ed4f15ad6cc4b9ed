/**
 * Precomputed prediction files: a CSV `case_id,score` produced outside Vigil, pinned by its sha256.
 * Scores are joined to the evaluation rows by case id, and coverage must be exact: an evaluation row
 * without a score, or a score for a case the evaluation does not have, is an error — never a silent subset.
 */
import crypto from 'node:crypto';
import { ByteStrings } from './byte-strings';
import { CsvSyntaxError, CsvTokenizer, lineCount, type RecordSink } from './csv-scan';
import { parseDecimal } from './decimal';
import { DatasetError, type DatasetErrorCode } from './errors';

export const PREDICTIONS_HEADER = ['case_id', 'score'] as const;

/** A parsed prediction file: case id i (interned in file order, all distinct) has score `scores[i]`. */
export interface PredictionFile {
  sha256: string;
  /** Ids in file order, all distinct (checked while parsing); not indexed: joins look them up in the table. */
  ids: ByteStrings;
  scores: Float64Array;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;
const text = (buf: Uint8Array, s: number, e: number) =>
  Buffer.from(buf.buffer, buf.byteOffset + s, e - s).toString('utf8');

/** Rows of `case_id,score` straight into the interned ids and a float64 column. */
class PredictionSink implements RecordSink {
  header: string[] | undefined;
  readonly ids: ByteStrings;
  scores: Float64Array;
  private row = 0;

  constructor(
    private readonly fail: (code: DatasetErrorCode, msg: string, row?: number, column?: string) => DatasetError,
    expected: number,
  ) {
    this.ids = new ByteStrings(expected);
    this.scores = new Float64Array(Math.max(16, expected));
  }

  record(buf: Uint8Array, starts: Int32Array, ends: Int32Array, cells: number): void {
    if (!this.header) {
      this.header = Array.from({ length: cells }, (_, i) => text(buf, starts[i]!, ends[i]!));
      if (cells !== 2 || this.header[0] !== 'case_id' || this.header[1] !== 'score')
        throw this.fail('missing-column', `header must be exactly "case_id,score", got "${this.header.join(',')}"`);
      return;
    }
    const r = ++this.row;
    if (cells !== 2) throw this.fail('ragged-row', `row ${r} has ${cells} cells, expected 2`, r);
    const is = starts[0]!;
    const ie = ends[0]!;
    const ss = starts[1]!;
    const se = ends[1]!;
    if (is === ie) throw this.fail('missing-value', `row ${r}, column "case_id": empty case id`, r, 'case_id');
    const score = parseDecimal(buf, ss, se);
    if (!Number.isFinite(score)) {
      const t = text(buf, ss, se);
      const nonFinite = Number.isNaN(score) ? /^[+-]?(nan|inf|infinity)$/i.test(t) : true;
      throw this.fail(
        nonFinite ? 'non-finite' : 'type-mismatch',
        `row ${r}, column "score": ${nonFinite ? 'score is not finite' : 'expected a number'} ("${t.slice(0, 40)}")`,
        r,
        'score',
      );
    }
    if (score < 0 || score > 1)
      throw this.fail('type-mismatch', `row ${r}, column "score": score ${score} is outside [0, 1]`, r, 'score');
    const id = this.ids.intern(buf, is, ie);
    if (!this.ids.lastWasNew)
      throw this.fail(
        'duplicate-id',
        `row ${r}, column "case_id": case id "${this.ids.text(id)}" already scored in row ${id + 1}`,
        r,
        'case_id',
      );
    if (id >= this.scores.length) {
      const grown = new Float64Array(this.scores.length * 2);
      grown.set(this.scores);
      this.scores = grown;
    }
    this.scores[id] = score;
  }
}

/** Check the digest first (a swapped file is never parsed), then every row. */
export function parsePredictionFile(bytes: Uint8Array, expectedSha256: string, name = 'predictions'): PredictionFile {
  if (!SHA256_HEX.test(expectedSha256))
    throw new RangeError(`expected sha256 must be 64 lowercase hex characters, got "${expectedSha256}"`);
  const fail = (code: DatasetErrorCode, msg: string, row?: number, column?: string) =>
    new DatasetError(code, `prediction file ${name}: ${msg}`, row, column);
  const sha256 = crypto.createHash('sha256').update(bytes).digest('hex');
  if (sha256 !== expectedSha256) throw fail('digest-mismatch', `sha256 is ${sha256}, but ${expectedSha256} is pinned`);
  const sink = new PredictionSink(fail, lineCount(bytes));
  const tokenizer = new CsvTokenizer(sink);
  try {
    tokenizer.push(bytes); // whole: records are read in place (blocks would copy each block's start with its carry)
    tokenizer.end();
  } catch (e) {
    if (e instanceof CsvSyntaxError) throw fail('unreadable', `not valid CSV: ${e.message}`);
    throw e;
  }
  if (!sink.header) throw fail('empty', 'empty file');
  if (sink.ids.size === 0) throw fail('empty', 'no data rows');
  sink.ids.dropIndex();
  sink.ids.compact();
  return { sha256, ids: sink.ids, scores: sink.scores.subarray(0, sink.ids.size) };
}

/**
 * Scores in the order of `caseIds`. `excluded` are cases the evaluation deliberately left out (drop-row
 * policies); a score for one of them is allowed, any other score without a row is an error.
 */
export function joinPredictions(
  file: PredictionFile,
  caseIds: readonly string[] | ByteStrings,
  excluded: ReadonlySet<string> = new Set(),
): Float64Array {
  // Hash join on the ids' bytes: each score finds its row in the table's case-id index (a LockedTable's
  // caseIdColumn; plain strings are interned first), so there is no string per row and no second index.
  let index: ByteStrings;
  let rowId: Int32Array | null = null;
  if (caseIds instanceof ByteStrings) index = caseIds;
  else {
    index = new ByteStrings(caseIds.length);
    rowId = Int32Array.from(caseIds, (id) => index.internText(id));
  }
  // shared memory: an evaluation on two threads hands the column to the other thread without a copy
  const scoreOf = new Float64Array(new SharedArrayBuffer(8 * index.size));
  const seen = new Uint8Array(index.size);
  const extra: string[] = [];
  let extraCount = 0;
  for (let p = 0; p < file.ids.size; p++) {
    // a file in the table's row order (the usual export) joins by one comparison per row, without hashing
    const id = p < index.size && file.ids.sameAs(p, index, p) ? p : file.ids.findIn(index, p);
    if (id >= 0) {
      scoreOf[id] = file.scores[p]!;
      seen[id] = 1;
      continue;
    }
    const text = file.ids.text(p);
    if (excluded.has(text)) continue;
    extraCount++;
    if (extra.length < 5) extra.push(text);
  }
  const label = file.sha256.slice(0, 12);
  const missing: string[] = [];
  let missingCount = 0;
  for (let id = 0; id < index.size; id++) {
    if (seen[id]) continue;
    missingCount++;
    if (missing.length < 5) missing.push(index.text(id));
  }
  if (missingCount > 0) {
    throw new DatasetError(
      'coverage',
      `prediction file ${label}: ${missingCount} evaluation case(s) have no score, e.g. ${missing.map((m) => `"${m}"`).join(', ')}`,
    );
  }
  if (extraCount > 0) {
    throw new DatasetError(
      'coverage',
      `prediction file ${label}: ${extraCount} score(s) for cases not in the evaluation, e.g. ${extra.map((m) => `"${m}"`).join(', ')}`,
    );
  }
  return rowId ? Float64Array.from(rowId, (id) => scoreOf[id]!) : scoreOf;
}
