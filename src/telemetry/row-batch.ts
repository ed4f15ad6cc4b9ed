/**
 * A served request's rows as columns: what the gateway records for a batch request (every row a
 * prediction) without one object per row on the request thread. `expandRows` turns it into the
 * recorder's records; the encoder worker does the same on its own thread.
 */
import { randomUUID } from 'node:crypto';
import type { Route } from './events';

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

/** A number as JSON.stringify writes it. */
function num(x: number): string {
  return Number.isFinite(x) ? String(x) : 'null';
}

/** A row batch as the encoder thread receives it: the case ids joined in one string (one copy, not one per id). */
export interface PackedRowBatch extends Omit<RowBatch, 'caseIds'> {
  ids: string;
  /** Where each row's id ends in `ids` (row i is ids.slice(idEnds[i - 1] ?? 0, idEnds[i])). */
  idEnds: Uint32Array;
}

/** The batch with its case ids joined, and its own scores only (posting a view would copy the buffer behind it). */
export function packRowBatch(b: RowBatch): PackedRowBatch {
  const { caseIds, ...rest } = b;
  const n = caseIds.length;
  const idEnds = new Uint32Array(n);
  let end = 0;
  for (let i = 0; i < n; i++) idEnds[i] = end += caseIds[i]!.length;
  return { ...rest, ids: caseIds.join(''), idEnds, scores: b.scores.slice(b.offset, b.offset + n), offset: 0 };
}

/** The batch `packRowBatch` packed, with its case ids as strings again. */
export function unpackRowBatch(p: PackedRowBatch): RowBatch {
  const { ids, idEnds, ...rest } = p;
  const caseIds = Array.from(idEnds, (end, i) => ids.slice(i === 0 ? 0 : idEnds[i - 1]!, end));
  return { ...rest, caseIds };
}

/** The hex digest writer `encodeRowBatch` needs (HmacSha256, or HmacSha256x4 four ids at a time). */
export interface HexDigestWriter {
  /** The HMAC of each id k in [first, first + count) of the joined `ids`, as 64 hex digits at out[at[k]]. */
  writeHexRange(ids: string, ends: Uint32Array, first: number, count: number, out: Uint8Array, at: Uint32Array): void;
  /** All n HMACs as a JSON list's body, `"<hex>","<hex>",…` (67n − 1 bytes), at out[at] (HmacSha256x4). */
  writeQuotedHexList?(ids: string, ends: Uint32Array, n: number, out: Uint8Array, at: number): void;
}

/**
 * The batch as one `PredictionBatchLine` (UTF-8, with its newline): the events `PredictionEncoder` writes for
 * `expandRows(b)`, but the columns every row shares (instant, model, version, route, latency, site, and quality when
 * no row has a flag) are written once under `same` (about half the bytes at 1,000 rows), no object is made per row,
 * and each case id's HMAC is written as hex straight into the line's bytes (the encoder thread's path; tests
 * compare the two).
 */
export function encodeRowBatch(b: RowBatch | PackedRowBatch, hmac: HexDigestWriter): Buffer {
  const p = 'ids' in b ? b : packRowBatch(b);
  const n = p.idEnds.length;
  if (n === 0) throw new RangeError('encodeRowBatch: no rows');
  const t = p.threshold;
  const own = p.scores.subarray(p.offset, p.offset + n);
  let finite = true;
  for (let i = 0; i < n && finite; i++) finite = Number.isFinite(own[i]!);
  // TypedArray join writes each score as String(score), i.e. as JSON.stringify for a finite one, natively.
  let scores = finite ? own.join(',') : '';
  let decisions = '';
  let quality = '';
  for (let i = 0; i < n; i++) {
    const sep = i === 0 ? '' : ',';
    const score = own[i]!;
    if (!finite) scores += sep + num(score);
    decisions += sep + (t === undefined ? 'null' : score >= t ? 'true' : 'false');
    if (p.quality) quality += sep + JSON.stringify(p.quality[i]!);
  }
  const same =
    `{"at":${JSON.stringify(new Date(p.atMs).toISOString())},"model":${JSON.stringify(p.model)}` +
    `,"modelVersion":${JSON.stringify(p.modelVersion)},"route":${JSON.stringify(p.route)}` +
    `,"routeVersion":${num(p.routeVersion)},"latencyMs":${num(Math.round(p.latencyMs * 1000) / 1000)}` +
    `${p.quality ? '' : ',"quality":[]'},"site":${JSON.stringify(p.site)}}`;
  const head = `{"kind":"predictions","eventId":"${randomUUID()}","same":${same},"caseIdHash":[`;
  const tail = `],"score":[${scores}],"decision":[${decisions}]${p.quality ? `,"quality":[${quality}]` : ''}}\n`;
  const headBytes = Buffer.byteLength(head, 'utf8');
  // Its own memory (not the shared pool): the encoder thread hands the buffer over without a copy.
  const out = Buffer.allocUnsafeSlow(headBytes + 67 * n - 1 + Buffer.byteLength(tail, 'utf8'));
  let at = out.write(head, 0, 'utf8');
  if (hmac.writeQuotedHexList) {
    hmac.writeQuotedHexList(p.ids, p.idEnds, n, out, at);
    at += 67 * n - 1;
  } else {
    const hexAt = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      if (i > 0) out[at++] = 44; // ,
      out[at++] = 34; // "
      hexAt[i] = at;
      at += 64;
      out[at++] = 34;
    }
    hmac.writeHexRange(p.ids, p.idEnds, 0, n, out, hexAt);
  }
  out.write(tail, at, 'utf8');
  return out;
}
