/**
 * Records the gateway's prediction events without spending the request thread on them: records gathered
 * over a short window go to an encoder thread as one compact batch (./prediction-batch.ts), which hashes
 * the case ids and writes the WAL lines; the bytes come back and are appended to the WAL in order.
 *
 * Bounded: when more than `maxPendingEvents` are with the encoder (it has fallen behind, or is starting),
 * a batch is encoded on this thread instead — requests slow down, nothing queues without bound and
 * nothing is dropped. If the encoder thread dies, its in-flight batches are counted as failed and a new
 * one is started. Prediction events are acknowledged to no one, so none of this changes what a client is
 * told; outcome and feedback ingest still append straight to the WAL and wait for the fsync.
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../logging/logger';
import { PredictionEncoder, packPredictions, type PredictionRecord } from './prediction-batch';
import type { EncodeReply, EncodeRequest } from './prediction-encoder.worker';
import type { WriteAheadLog } from './wal';

export interface PredictionRecorderOptions {
  wal: WriteAheadLog;
  caseIdKey: string;
  log?: Logger;
  /** Events with the encoder thread beyond which batches are encoded in this thread (default 20,000). */
  maxPendingEvents?: number;
  /** false: encode every batch in this thread (no worker). */
  thread?: boolean;
  /**
   * Records are gathered this long (ms) before they go to the encoder as one batch, or until `maxBatch`
   * are waiting: each message wakes a thread, so fewer, larger batches cost far less (default 10 ms, 1024).
   */
  batchWindowMs?: number;
  maxBatch?: number;
}

export interface PredictionRecorderStats {
  recorded: number;
  /** Written and synced by the WAL. */
  written: number;
  /** Of those, encoded on the request thread (encoder behind, starting, or disabled). */
  encodedInline: number;
  /** Lost: the encoder failed or died with them, or the WAL write failed. */
  failed: number;
  /** With the encoder thread right now. */
  pending: number;
  encoderRestarts: number;
}

export class PredictionRecorder {
  private queue: PredictionRecord[] = [];
  private worker: Worker | null = null;
  private readonly inFlight = new Map<number, number>();
  private seq = 0;
  private pending = 0;
  private closed = false;
  private idle: Array<() => void> = [];
  private readonly inline: PredictionEncoder;
  private readonly maxPending: number;
  private readonly batchWindowMs: number;
  private readonly maxBatch: number;
  private timer: NodeJS.Timeout | null = null;
  private readonly counts = { recorded: 0, written: 0, encodedInline: 0, failed: 0, encoderRestarts: 0 };

  constructor(private readonly opts: PredictionRecorderOptions) {
    this.inline = new PredictionEncoder(opts.caseIdKey);
    this.maxPending = opts.maxPendingEvents ?? 20_000;
    this.batchWindowMs = opts.batchWindowMs ?? 10;
    this.maxBatch = opts.maxBatch ?? 1024;
    if (opts.thread !== false) this.startWorker();
  }

  /** Queue one prediction; it is encoded and appended within the batch window. */
  record(r: PredictionRecord): void {
    this.queue.push(r);
    this.counts.recorded++;
    if (this.queue.length >= this.maxBatch) this.flush();
    else if (this.timer === null) this.timer = setTimeout(this.flush, this.batchWindowMs);
  }

  stats(): PredictionRecorderStats {
    return { ...this.counts, pending: this.pending };
  }

  /** Resolves once everything recorded so far has been handed to the WAL (or counted as failed). */
  drain(): Promise<void> {
    this.flush();
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  async close(): Promise<void> {
    await this.drain();
    this.closed = true;
    const w = this.worker;
    this.worker = null;
    await w?.terminate();
  }

  private readonly flush = (): void => {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const batch = this.queue;
    if (batch.length === 0) return;
    this.queue = [];
    const w = this.worker;
    if (!w || this.pending + batch.length > this.maxPending) {
      this.counts.encodedInline += batch.length;
      let text: string;
      try {
        text = this.inline.encode(batch);
      } catch (err) {
        this.lost(batch.length, err);
        return;
      }
      this.append(text, batch.length);
      return;
    }
    const packed = packPredictions(batch);
    const seq = ++this.seq;
    if (this.pending === 0) w.ref();
    this.inFlight.set(seq, batch.length);
    this.pending += batch.length;
    const request: EncodeRequest = { seq, batch: packed };
    w.postMessage(request, [packed.caseIdEnds.buffer as ArrayBuffer, packed.refs.buffer as ArrayBuffer, packed.nums.buffer as ArrayBuffer]);
  };

  private readonly onReply = (reply: EncodeReply): void => {
    if (!this.inFlight.delete(reply.seq)) return;
    this.settle(reply.events);
    if ('error' in reply) this.lost(reply.events, new Error(reply.error));
    else this.append(reply.bytes, reply.events);
  };

  private append(chunk: string | Uint8Array, events: number): void {
    this.opts.wal.appendEncoded(chunk, events, { relaxed: true }).then(
      () => (this.counts.written += events),
      (err: unknown) => this.lost(events, err),
    );
  }

  private lost(events: number, err: unknown): void {
    this.counts.failed += events;
    this.opts.log?.error({ err, events }, 'prediction telemetry lost');
  }

  private settle(events: number): void {
    this.pending -= events;
    if (this.pending > 0) return;
    this.worker?.unref();
    const waiting = this.idle;
    this.idle = [];
    for (const resolve of waiting) resolve();
  }

  private startWorker(): void {
    const w = encoderThread(this.opts.caseIdKey);
    w.unref();
    w.on('message', this.onReply);
    // 'error' is followed by 'exit': the batches it held are lost either way, so count them once, there.
    w.on('error', (err) => this.opts.log?.error({ err }, 'prediction encoder thread failed'));
    w.on('exit', (code) => {
      if (this.worker !== w) return;
      this.worker = null;
      for (const [seq, events] of this.inFlight) {
        this.inFlight.delete(seq);
        this.settle(events);
        this.lost(events, new Error(`prediction encoder thread exited (${code})`));
      }
      if (this.closed) return;
      this.counts.encoderRestarts++;
      this.startWorker();
    });
    this.worker = w;
  }
}

/**
 * The encoder thread. Run from TypeScript sources (tsx), the worker registers tsx's CommonJS hook itself:
 * a worker does not inherit the parent's `--import tsx` loader for its entry file. No execArgv is passed
 * on, so test-runner preloads stay out of the thread.
 */
function encoderThread(caseIdKey: string): Worker {
  const ext = path.extname(__filename);
  const file = path.join(__dirname, `prediction-encoder.worker${ext}`);
  const workerData = { caseIdKey };
  if (ext !== '.ts') return new Worker(file, { workerData, execArgv: [] });
  const tsx = require.resolve('tsx/cjs');
  return new Worker(`require(${JSON.stringify(tsx)}); require(${JSON.stringify(file)});`, { eval: true, workerData, execArgv: [] });
}
