/**
 * Precomputed prediction files: a CSV `case_id,score` produced outside Vigil, pinned by its sha256.
 * Scores are joined to the evaluation rows by case id, and coverage must be exact: an evaluation row
 * without a score, or a score for a case the evaluation does not have, is an error — never a silent subset.
 */
import crypto from 'node:crypto';
import { parse } from 'csv-parse/sync';
import { DatasetError } from './errors';

export const PREDICTIONS_HEADER = ['case_id', 'score'] as const;

export interface PredictionFile {
  sha256: string;
  scores: Map<string, number>;
}

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;

/** Check the digest first (a swapped file is never parsed), then every row. */
export function parsePredictionFile(bytes: Uint8Array, expectedSha256: string, name = 'predictions'): PredictionFile {
  if (!SHA256_HEX.test(expectedSha256))
    throw new RangeError(`expected sha256 must be 64 lowercase hex characters, got "${expectedSha256}"`);
  const fail = (code: ConstructorParameters<typeof DatasetError>[0], msg: string, row?: number, column?: string) =>
    new DatasetError(code, `prediction file ${name}: ${msg}`, row, column);
  const sha256 = crypto.createHash('sha256').update(bytes).digest('hex');
  if (sha256 !== expectedSha256) throw fail('digest-mismatch', `sha256 is ${sha256}, but ${expectedSha256} is pinned`);
  let records: string[][];
  try {
    records = parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), {
      bom: true,
      skip_empty_lines: true,
      trim: true,
      relax_column_count: true,
    });
  } catch (e) {
    throw fail('unreadable', `not valid CSV: ${(e as Error).message}`);
  }
  const header = records[0];
  if (!header) throw fail('empty', 'empty file');
  if (header.length !== 2 || header[0] !== 'case_id' || header[1] !== 'score') {
    throw fail('missing-column', `header must be exactly "case_id,score", got "${header.join(',')}"`);
  }
  if (records.length === 1) throw fail('empty', 'no data rows');
  const scores = new Map<string, number>();
  const rowOf = new Map<string, number>();
  for (let r = 1; r < records.length; r++) {
    const rec = records[r]!;
    if (rec.length !== 2) throw fail('ragged-row', `row ${r} has ${rec.length} cells, expected 2`, r);
    const [id, text] = rec as [string, string];
    if (id === '') throw fail('missing-value', `row ${r}, column "case_id": empty case id`, r, 'case_id');
    if (!DECIMAL.test(text)) {
      const nonFinite = /^[+-]?(nan|inf|infinity)$/i.test(text);
      throw fail(
        nonFinite ? 'non-finite' : 'type-mismatch',
        `row ${r}, column "score": ${nonFinite ? 'score is not finite' : 'expected a number'} ("${text.slice(0, 40)}")`,
        r,
        'score',
      );
    }
    const score = Number(text);
    if (!Number.isFinite(score))
      throw fail('non-finite', `row ${r}, column "score": score is not finite ("${text.slice(0, 40)}")`, r, 'score');
    if (score < 0 || score > 1)
      throw fail('type-mismatch', `row ${r}, column "score": score ${score} is outside [0, 1]`, r, 'score');
    const earlier = rowOf.get(id);
    if (earlier !== undefined)
      throw fail(
        'duplicate-id',
        `row ${r}, column "case_id": case id "${id}" already scored in row ${earlier}`,
        r,
        'case_id',
      );
    rowOf.set(id, r);
    scores.set(id, score);
  }
  return { sha256, scores };
}

/**
 * Scores in the order of `caseIds`. `excluded` are cases the evaluation deliberately left out (drop-row
 * policies); a score for one of them is allowed, any other score without a row is an error.
 */
export function joinPredictions(
  file: PredictionFile,
  caseIds: readonly string[],
  excluded: ReadonlySet<string> = new Set(),
): Float64Array {
  const out = new Float64Array(caseIds.length);
  const missing: string[] = [];
  let missingCount = 0;
  const used = new Set<string>();
  caseIds.forEach((id, i) => {
    const s = file.scores.get(id);
    if (s === undefined) {
      missingCount++;
      if (missing.length < 5) missing.push(id);
      return;
    }
    out[i] = s;
    used.add(id);
  });
  if (missingCount > 0) {
    throw new DatasetError(
      'coverage',
      `prediction file ${file.sha256.slice(0, 12)}: ${missingCount} evaluation case(s) have no score, e.g. ${missing.map((m) => `"${m}"`).join(', ')}`,
    );
  }
  const extra: string[] = [];
  let extraCount = 0;
  for (const id of file.scores.keys()) {
    if (used.has(id) || excluded.has(id)) continue;
    extraCount++;
    if (extra.length < 5) extra.push(id);
  }
  if (extraCount > 0) {
    throw new DatasetError(
      'coverage',
      `prediction file ${file.sha256.slice(0, 12)}: ${extraCount} score(s) for cases not in the evaluation, e.g. ${extra.map((m) => `"${m}"`).join(', ')}`,
    );
  }
  return out;
}
