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
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../logging/logger';
import { CaseIdHasher, type PredictionBatchLine, type Route } from './events';
import { HmacSha256x4 } from './hmac-sha256-x4';
import {
  encodeRowBatch,
  expandRows,
  packRowBatch,
  unpackRowBatch,
  type PackedRowBatch,
  type PredictionRecord,
  type RowBatch,
} from './row-batch';
import type { WriteAheadLog } from './wal';

// Defined beside the row batches that expand into it (imports go one way: no cycle); re-exported for callers.
export type { PredictionRecord };

export interface PredictionRecorderOptions {
  wal: WriteAheadLog;
  caseIdKey: string;
  log?: Logger;
  /** Records are gathered this long (ms), or until `maxBatch` are waiting, then encoded and appended together (default 5 ms, 128: a batch is encoded in one go, so it is kept small enough not to hold up requests). */
  batchWindowMs?: number;
  maxBatch?: number;
  /**
   * Row batches of at least this many rows (a batch request's rows) are hashed and encoded on a worker
   * thread (default 64; Infinity: never). Below it the per-thread costs are not worth it: with one-row
   * requests a worker measured slower on the 2-vCPU machine (above); at 1,000 rows hashing and
   * encoding were a third of the request thread's time (docs/benchmarks.md).
   */
  workerMinRows?: number;
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

/** Rows handed to the encoder thread and not yet appended, at most (then encoding happens in-thread). */
const MAX_THREAD_BACKLOG_ROWS = 100_000;

export class PredictionRecorder {
  private queue: PredictionRecord[] = [];
  private timer: NodeJS.Timeout | null = null;
  private readonly encoder: PredictionEncoder;
  private readonly batchWindowMs: number;
  private readonly maxBatch: number;
  private readonly counts = { recorded: 0, written: 0, failed: 0 };
  private readonly workerMinRows: number;
  private worker: EncoderThread | null = null;
  private workerFailed = false;
  /** Large batches encoded here (the thread far behind or dead): as the thread does, four ids at a time. */
  private hmac4: HmacSha256x4 | null = null;

  constructor(private readonly opts: PredictionRecorderOptions) {
    this.encoder = new PredictionEncoder(opts.caseIdKey);
    this.batchWindowMs = opts.batchWindowMs ?? 5;
    this.maxBatch = opts.maxBatch ?? 128;
    this.workerMinRows = opts.workerMinRows ?? 64;
  }

  /**
   * Every row of a served request (or its mirror) as a prediction: large batches are encoded as one line
   * (null returned), on the encoder thread unless it is far behind or dead; small ones are recorded here one
   * record per row (returned).
   */
  recordRows(b: RowBatch): PredictionRecord[] | null {
    const n = b.caseIds.length;
    if (n < this.workerMinRows) {
      const records = expandRows(b);
      for (const r of records) this.record(r);
      return records;
    }
    this.counts.recorded += n;
    if (!this.workerFailed && (this.worker?.pendingRows ?? 0) < MAX_THREAD_BACKLOG_ROWS) {
      const w = (this.worker ??= this.startWorker());
      w.post(b, n);
      return null;
    }
    // Past the thread's backlog bound (or with the thread dead) the batch is encoded here, as the thread does it
    // (one line, four HMACs at a time; not one record object and scalar HMAC per row, which measured as
    // event-loop stalls of ~400 ms at 1,000-row batches): memory stays bounded and the request thread slows
    // down instead of the backlog growing without end.
    let line: Uint8Array;
    try {
      line = encodeRowBatch(b, (this.hmac4 ??= new HmacSha256x4(this.opts.caseIdKey)));
    } catch (err) {
      this.lost(n, err);
      return null;
    }
    this.opts.wal.appendEncoded(line, n, { relaxed: true }).then(
      () => (this.counts.written += n),
      (err: unknown) => this.lost(n, err),
    );
    return null;
  }

  /** Resolves once every batch handed to the encoder thread is appended to the WAL (or counted lost). */
  drain(): Promise<void> {
    return this.worker ? this.worker.drain() : Promise.resolve();
  }

  /** Stops the encoder thread after draining it. */
  async close(): Promise<void> {
    this.flush();
    if (!this.worker) return;
    await this.worker.drain();
    await this.worker.terminate();
    this.worker = null;
  }

  private startWorker(): EncoderThread {
    return new EncoderThread(
      this.opts.caseIdKey,
      (text, n) =>
        this.opts.wal.appendEncoded(text, n, { relaxed: true }).then(
          () => (this.counts.written += n),
          (err: unknown) => this.lost(n, err),
        ),
      (n, err) => this.lost(n, err),
      (err, orphans) => {
        // A dead thread: its unencoded batches and every later one are encoded here.
        this.workerFailed = true;
        this.worker = null;
        this.opts.log?.error({ err, batches: orphans.length }, 'prediction encoder thread failed; encoding in-thread');
        for (const b of orphans) {
          this.counts.recorded -= b.caseIds.length;
          this.recordRows(b);
        }
      },
    );
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

/**
 * The encoder worker thread and its in-flight batches. The worker is the compiled `.js` next to this
 * file, or under tsx the `.ts` (the worker inherits the process's `--import tsx`).
 */
class EncoderThread {
  private readonly worker: Worker;
  /** Batches posted and not yet encoded, with their row counts (re-encoded in-thread if the thread dies). */
  /** Kept packed: a waiting batch is a few objects, not one string per row, when the garbage collector copies it. */
  private readonly pending = new Map<number, { batch: PackedRowBatch; n: number }>();
  /** Encoded batches whose WAL append has not settled (drain waits for them too). */
  private appending = 0;
  private next = 0;
  private dead = false;
  /** Rows posted and not yet encoded: the thread's backlog (the WAL's group commit is not counted). */
  pendingRows = 0;
  private idle: Array<() => void> = [];

  constructor(
    caseIdKey: string,
    private readonly encoded: (text: Uint8Array, n: number) => Promise<unknown>,
    private readonly lost: (n: number, err: unknown) => void,
    /** The thread failed: the batches it had not encoded are handed back. */
    private readonly died: (err: unknown, orphans: RowBatch[]) => void,
  ) {
    const ext = path.extname(__filename);
    const file = path.join(__dirname, `prediction-encoder-worker${ext}`);
    // Under tsx (tests, benches) the worker registers tsx's CommonJS hook itself: loader hooks given
    // with --import do not reach worker threads on Node 20.
    this.worker =
      ext === '.ts'
        ? new Worker(`require('tsx/cjs/api').register(); require(${JSON.stringify(file)});`, {
            eval: true,
            workerData: { caseIdKey },
          })
        : new Worker(file, { workerData: { caseIdKey } });
    this.worker.unref();
    this.worker.on('message', (m: { id: number; text?: Uint8Array; n?: number; error?: string }) => {
      const n = this.pending.get(m.id)?.n ?? 0;
      this.pending.delete(m.id);
      this.pendingRows -= n;
      if (m.text === undefined) {
        this.lost(n, new Error(m.error));
        return this.settled();
      }
      this.appending++;
      void this.encoded(m.text, n).finally(() => {
        this.appending--;
        this.settled();
      });
    });
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', (code) => {
      if (this.pending.size > 0) this.fail(new Error(`encoder thread exited with ${code}`));
    });
  }

  post(batch: RowBatch, n: number): void {
    const id = this.next++;
    // Case ids joined in one string: one copy across threads instead of one string per row.
    const packed = packRowBatch(batch);
    this.pending.set(id, { batch: packed, n });
    this.pendingRows += n;
    this.worker.postMessage({ id, batch: packed });
  }

  drain(): Promise<void> {
    return this.pending.size === 0 && this.appending === 0 ? Promise.resolve() : new Promise((r) => this.idle.push(r));
  }

  terminate(): Promise<number> {
    return this.worker.terminate();
  }

  private settled(): void {
    if (this.pending.size === 0 && this.appending === 0) for (const r of this.idle.splice(0)) r();
  }

  private fail(err: unknown): void {
    if (this.dead) return;
    this.dead = true;
    const orphans = [...this.pending.values()].map((p) => unpackRowBatch(p.batch));
    this.pending.clear();
    this.pendingRows = 0;
    this.died(err, orphans);
    this.settled();
  }
}
