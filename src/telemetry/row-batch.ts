/**
 * A served request's rows as columns: what the gateway records for a batch request (every row a
 * prediction) without one object per row on the request thread. `expandRows` turns it into the
 * recorder's records; the encoder worker does the same on its own thread.
 */
import { randomUUID } from 'node:crypto';
import type { CaseIdHasher, Route } from './events';

/** One prediction as served: the raw case id is hashed when the record is encoded and never written. */
export interface PredictionRecord {
  atMs: number;
  model: string;
  modelVersion: string;
  route: Route;
  /** Route table version the assignment was made under. */
  routeVersion: number;
  caseId: string;
  score: number;
  decision: boolean | null;
  latencyMs: number;
  quality: readonly string[];
  /** The request's site parameter, or null. */
  site: string | null;
  /** Set by the encoder: the HMAC of caseId. */
  caseIdHash?: string;
  /** The production record this one mirrors (same case): its hash is reused, not recomputed. */
  mirrorOf?: PredictionRecord;
}

export interface RowBatch {
  atMs: number;
  model: string;
  modelVersion: string;
  route: Route;
  routeVersion: number;
  latencyMs: number;
  site: string | null;
  /** Decision threshold (undefined: no decision recorded). */
  threshold: number | undefined;
  caseIds: readonly string[];
  /** Row i's score is scores[offset + i]. */
  scores: Float64Array;
  offset: number;
  /** Per-row input-quality flags, or null when no row has any. */
  quality: ReadonlyArray<readonly string[]> | null;
}

const NO_FLAGS: readonly string[] = Object.freeze([]);

/** The batch's rows as prediction records (the in-thread path and the worker's). */
export function expandRows(b: RowBatch): PredictionRecord[] {
  const n = b.caseIds.length;
  const out = new Array<PredictionRecord>(n);
  const t = b.threshold;
  for (let i = 0; i < n; i++) {
    const score = b.scores[b.offset + i]!;
    out[i] = {
      atMs: b.atMs,
      model: b.model,
      modelVersion: b.modelVersion,
      route: b.route,
      routeVersion: b.routeVersion,
      caseId: b.caseIds[i]!,
      score,
      decision: t === undefined ? null : score >= t,
      latencyMs: b.latencyMs,
      quality: b.quality ? b.quality[i]! : NO_FLAGS,
      site: b.site,
    };
  }
  return out;
}

/** `s,` n times, without the last comma: a column whose rows all hold the same JSON value. */
function repeated(json: string, n: number): string {
  return (json + ',').repeat(n - 1) + json;
}

/** A number as JSON.stringify writes it. */
function num(x: number): string {
  return Number.isFinite(x) ? String(x) : 'null';
}

/**
 * The batch as one `PredictionBatchLine` text (with its newline): byte for byte what `PredictionEncoder`
 * writes for `expandRows(b)`, but the columns every row shares are written once and repeated, and no
 * object is made per row (the encoder thread's path; tests compare the two).
 */
export function encodeRowBatch(b: RowBatch, hasher: CaseIdHasher): string {
  const n = b.caseIds.length;
  if (n === 0) throw new RangeError('encodeRowBatch: no rows');
  const t = b.threshold;
  let hashes = '';
  let scores = '';
  let decisions = '';
  let quality = '';
  for (let i = 0; i < n; i++) {
    const sep = i === 0 ? '' : ',';
    const score = b.scores[b.offset + i]!;
    hashes += sep + '"' + hasher.hash(b.caseIds[i]!) + '"';
    scores += sep + num(score);
    decisions += sep + (t === undefined ? 'null' : score >= t ? 'true' : 'false');
    if (b.quality) quality += sep + JSON.stringify(b.quality[i]!);
  }
  return (
    `{"kind":"predictions","eventId":"${randomUUID()}"` +
    `,"at":[${repeated(JSON.stringify(new Date(b.atMs).toISOString()), n)}]` +
    `,"model":[${repeated(JSON.stringify(b.model), n)}]` +
    `,"modelVersion":[${repeated(JSON.stringify(b.modelVersion), n)}]` +
    `,"route":[${repeated(JSON.stringify(b.route), n)}]` +
    `,"routeVersion":[${repeated(num(b.routeVersion), n)}]` +
    `,"caseIdHash":[${hashes}],"score":[${scores}],"decision":[${decisions}]` +
    `,"latencyMs":[${repeated(num(Math.round(b.latencyMs * 1000) / 1000), n)}]` +
    `,"quality":[${b.quality ? quality : repeated('[]', n)}]` +
    `,"site":[${repeated(JSON.stringify(b.site), n)}]}\n`
  );
}
