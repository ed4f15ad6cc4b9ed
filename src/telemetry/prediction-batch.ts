/**
 * Prediction events as the gateway's hot path leaves them, and their encoding into WAL lines. Shared by
 * the encoder thread (./prediction-encoder.worker.ts) and the in-thread fallback of PredictionRecorder, so
 * both write byte-for-byte the same kind of line.
 */
import { randomUUID, type KeyObject } from 'node:crypto';
import { caseIdKeyObject, hashCaseId, predictionLine, ROUTES, type Route } from './events';

/** One prediction as served: the raw case id is hashed by the encoder and never written. */
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
}

/**
 * A batch as it crosses to the encoder thread: the few distinct texts in a table and the numbers in typed
 * arrays, so posting it costs a small fraction of cloning one object per event.
 */
export interface PredictionBatch {
  n: number;
  /** The case ids end to end (one string is copied once; an array of strings is cloned string by string)… */
  caseIds: string;
  /** …and where each ends (UTF-16 code units). */
  caseIdEnds: Int32Array;
  /** Distinct model names, versions, routes and quality lists (JSON) of the batch. */
  strings: string[];
  /** Per event, REFS values: model, version, route, quality (-1: none) as indexes into strings, route version, decision (-1 null, 0, 1). */
  refs: Int32Array;
  /** Per event, NUMS values: atMs, score, latencyMs. */
  nums: Float64Array;
}

const REFS = 6;
const NUMS = 3;

export function packPredictions(records: readonly PredictionRecord[]): PredictionBatch {
  const n = records.length;
  let caseIds = '';
  const caseIdEnds = new Int32Array(n);
  const strings: string[] = [];
  const index = new Map<string, number>();
  const ref = (s: string): number => {
    let i = index.get(s);
    if (i === undefined) {
      i = strings.push(s) - 1;
      index.set(s, i);
    }
    return i;
  };
  const refs = new Int32Array(n * REFS);
  const nums = new Float64Array(n * NUMS);
  for (let i = 0; i < n; i++) {
    const r = records[i]!;
    caseIds += r.caseId;
    caseIdEnds[i] = caseIds.length;
    const o = i * REFS;
    refs[o] = ref(r.model);
    refs[o + 1] = ref(r.modelVersion);
    refs[o + 2] = ref(r.route);
    refs[o + 3] = r.quality.length === 0 ? -1 : ref(JSON.stringify(r.quality));
    refs[o + 4] = r.routeVersion;
    refs[o + 5] = r.decision === null ? -1 : r.decision ? 1 : 0;
    const p = i * NUMS;
    nums[p] = r.atMs;
    nums[p + 1] = r.score;
    nums[p + 2] = r.latencyMs;
  }
  return { n, caseIds, caseIdEnds, strings, refs, nums };
}

/**
 * Turns records into WAL text: one `predictionLine` per event, each followed by a newline. Case ids are
 * HMAC'ed with the gateway's key; a mirrored case arrives twice within milliseconds (production, then
 * shadow), so recent hashes are kept (a bounded map, emptied when full).
 */
export class PredictionEncoder {
  private readonly key: KeyObject;
  private readonly hashes = new Map<string, string>();

  constructor(
    caseIdKey: string,
    private readonly cacheSize = 4096,
  ) {
    this.key = caseIdKeyObject(caseIdKey);
  }

  encode(records: readonly PredictionRecord[]): string {
    let text = '';
    for (const r of records) text += this.line(r.atMs, r.model, r.modelVersion, r.route, r.routeVersion, r.caseId, r.score, r.decision, r.latencyMs, r.quality);
    return text;
  }

  /** As `encode` of the records packed into `b`, straight from the columns (no object per event). */
  encodeBatch(b: PredictionBatch): string {
    const flags = new Map<number, readonly string[]>();
    let text = '';
    let start = 0;
    for (let i = 0; i < b.n; i++) {
      const o = i * REFS;
      const p = i * NUMS;
      const end = b.caseIdEnds[i]!;
      const caseId = b.caseIds.slice(start, end);
      start = end;
      const route = b.strings[b.refs[o + 2]!] as Route;
      if (!ROUTES.includes(route)) throw new TypeError(`prediction batch: unknown route ${JSON.stringify(route)}`);
      const q = b.refs[o + 3]!;
      let quality = flags.get(q);
      if (quality === undefined) flags.set(q, (quality = q < 0 ? [] : (JSON.parse(b.strings[q]!) as string[])));
      const d = b.refs[o + 5]!;
      text += this.line(b.nums[p]!, b.strings[b.refs[o]!]!, b.strings[b.refs[o + 1]!]!, route, b.refs[o + 4]!, caseId, b.nums[p + 1]!, d < 0 ? null : d === 1, b.nums[p + 2]!, quality);
    }
    return text;
  }

  private lastMs = NaN;
  private lastAt = '';

  private line(atMs: number, model: string, modelVersion: string, route: Route, routeVersion: number, caseId: string, score: number, decision: boolean | null, latencyMs: number, quality: readonly string[]): string {
    if (atMs !== this.lastMs) {
      this.lastMs = atMs;
      this.lastAt = new Date(atMs).toISOString();
    }
    return predictionLine(randomUUID(), this.lastAt, { model, modelVersion, route, routeVersion, caseIdHash: this.hash(caseId), score, decision, latencyMs, quality }, true) + '\n';
  }

  private hash(caseId: string): string {
    let h = this.hashes.get(caseId);
    if (h === undefined) {
      h = hashCaseId(caseId, this.key);
      if (this.hashes.size >= this.cacheSize) this.hashes.clear();
      this.hashes.set(caseId, h);
    }
    return h;
  }
}
