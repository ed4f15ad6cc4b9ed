/**
 * Records the gateway's prediction events off the request path. A request leaves a record (raw case id,
 * numbers, a few shared strings) and nothing else; records gathered over a short window are encoded as one
 * batch line (case ids HMAC'ed, one column per field: `PredictionBatchLine`) and appended to the WAL in one piece. Prediction
 * events are acknowledged to no one, so the window changes nothing a client is told; outcome and feedback
 * ingest still append straight to the WAL and wait for its fsync.
 *
 * Measured and left out: encoding in a worker thread took ~3 µs of CPU per request off the request thread
 * but added ~2.5 µs in total (batch packing, messages, copies), and on the 2-vCPU benchmark machine —
 * where the load generator needs the other core — it lowered throughput (docs/benchmarks.md).
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '../logging/logger';
import { CaseIdHasher, type PredictionBatchLine, type Route } from './events';
import type { WriteAheadLog } from './wal';

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

export interface PredictionRecorderOptions {
  wal: WriteAheadLog;
  caseIdKey: string;
  log?: Logger;
  /** Records are gathered this long (ms), or until `maxBatch` are waiting, then encoded and appended together (default 5 ms, 128: a batch is encoded in one go, so it is kept small enough not to hold up requests). */
  batchWindowMs?: number;
  maxBatch?: number;
}

export interface PredictionRecorderStats {
  recorded: number;
  /** Written and synced by the WAL. */
  written: number;
  /** Lost: encoding or the WAL write failed. */
  failed: number;
}

/**
 * Turns records into WAL text: one `PredictionBatchLine` per batch (columns, one JSON.stringify, a newline),
 * case ids HMAC'ed, latency to the microsecond.
 */
export class PredictionEncoder {
  private readonly hasher: CaseIdHasher;
  private lastMs = NaN;
  private lastAt = '';

  constructor(caseIdKey: string) {
    this.hasher = new CaseIdHasher(caseIdKey);
  }

  encode(records: readonly PredictionRecord[]): string {
    const n = records.length;
    const line: PredictionBatchLine = {
      kind: 'predictions',
      eventId: randomUUID(),
      at: new Array<string>(n),
      model: new Array<string>(n),
      modelVersion: new Array<string>(n),
      route: new Array<Route>(n),
      routeVersion: new Array<number>(n),
      caseIdHash: new Array<string>(n),
      score: new Array<number>(n),
      decision: new Array<boolean | null>(n),
      latencyMs: new Array<number>(n),
      quality: new Array<string[]>(n),
      site: new Array<string | null>(n),
    };
    for (let i = 0; i < n; i++) {
      const r = records[i]!;
      if (r.atMs !== this.lastMs) {
        this.lastMs = r.atMs;
        this.lastAt = new Date(r.atMs).toISOString();
      }
      const owner = r.mirrorOf ?? r;
      line.at[i] = this.lastAt;
      line.model[i] = r.model;
      line.modelVersion[i] = r.modelVersion;
      line.route[i] = r.route;
      line.routeVersion[i] = r.routeVersion;
      line.caseIdHash[i] = owner.caseIdHash ??= this.hasher.hash(owner.caseId);
      line.score[i] = r.score;
      line.decision[i] = r.decision;
      line.latencyMs[i] = Math.round(r.latencyMs * 1000) / 1000;
      line.quality[i] = r.quality as string[];
      line.site![i] = r.site;
    }
    return JSON.stringify(line) + '\n';
  }
}

export class PredictionRecorder {
  private queue: PredictionRecord[] = [];
  private timer: NodeJS.Timeout | null = null;
  private readonly encoder: PredictionEncoder;
  private readonly batchWindowMs: number;
  private readonly maxBatch: number;
  private readonly counts = { recorded: 0, written: 0, failed: 0 };

  constructor(private readonly opts: PredictionRecorderOptions) {
    this.encoder = new PredictionEncoder(opts.caseIdKey);
    this.batchWindowMs = opts.batchWindowMs ?? 5;
    this.maxBatch = opts.maxBatch ?? 128;
  }

  /** Queue one prediction; it is encoded and appended within the batch window. */
  record(r: PredictionRecord): void {
    this.queue.push(r);
    this.counts.recorded++;
    if (this.queue.length >= this.maxBatch) this.flush();
    else if (this.timer === null) this.timer = setTimeout(this.flush, this.batchWindowMs);
  }

  stats(): PredictionRecorderStats {
    return { ...this.counts };
  }

  /** Everything recorded so far handed to the WAL now (durable at its next group commit). */
  readonly flush = (): void => {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const batch = this.queue;
    if (batch.length === 0) return;
    this.queue = [];
    const n = batch.length;
    let text: string;
    try {
      text = this.encoder.encode(batch);
    } catch (err) {
      return this.lost(n, err);
    }
    // The callbacks hold the count, not the batch: the records (case ids, hashes) die now instead of
    // living, and being copied by every scavenge, until the relaxed group commit up to 50 ms later.
    this.opts.wal.appendEncoded(text, n, { relaxed: true }).then(
      () => (this.counts.written += n),
      (err: unknown) => this.lost(n, err),
    );
  };

  private lost(events: number, err: unknown): void {
    this.counts.failed += events;
    this.opts.log?.error({ err, events }, 'prediction telemetry lost');
  }
}
