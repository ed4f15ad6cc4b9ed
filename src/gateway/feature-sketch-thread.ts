/**
 * Input sketches of large batch requests on a worker thread. At 1,000 rows per request sketching (a log and
 * a map lookup per value) was ~9 % of the request thread (docs/benchmarks.md); the thread sketches them into
 * its own buckets and hands each closed bucket back to be appended to the WAL. The reader merges every sketch
 * event of a bucket (`mergeWindowSketches`: buckets × gateways), so the request thread's own sketcher (small
 * requests) and this one's both count, each row once.
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { SketchEvent } from '../telemetry';
import type { SketchedMatrix } from './feature-sketches';

/** The worker's sketcher settings (plain data: they cross to the thread). */
export interface SketchThreadOptions {
  bucketMs: number;
  alpha: number | undefined;
  /** Per model, per feature: the sketch centre. */
  centres: Record<string, Readonly<Record<string, number>>>;
}

/** One request's rows as they cross to the thread; `names` only when they differ from the model's last ones. */
export interface SketchRows {
  model: string;
  names: readonly string[] | undefined;
  features: Float32Array;
  missing: Uint8Array | null;
  rows: number;
  atMs: number;
  site: string | null;
}

/** Rows posted and not yet sketched, at most (then the request thread sketches): memory stays bounded. */
const MAX_BACKLOG_ROWS = 200_000;

export class FeatureSketchThread {
  private readonly worker: Worker;
  private readonly lastNames = new Map<string, readonly string[]>();
  private nextFlush = 0;
  private readonly flushes = new Map<number, () => void>();
  /** Rows posted and not yet reported sketched (the thread reports them in lots of 10,000). */
  private backlogRows = 0;
  /** Set when the thread failed: the caller sketches in-thread from then on. */
  dead = false;

  constructor(
    opts: SketchThreadOptions,
    private readonly emit: (e: SketchEvent) => void,
    private readonly died: (err: unknown) => void,
  ) {
    const ext = path.extname(__filename);
    const file = path.join(__dirname, `feature-sketch-worker${ext}`);
    // Under tsx (tests, benches) the worker registers tsx's CommonJS hook itself (as the prediction encoder's).
    this.worker =
      ext === '.ts'
        ? new Worker(`require('tsx/cjs/api').register(); require(${JSON.stringify(file)});`, {
            eval: true,
            workerData: opts,
          })
        : new Worker(file, { workerData: opts });
    this.worker.unref();
    this.worker.on('message', (m: { event?: SketchEvent; sketched?: number; flushed?: number }) => {
      if (m.event !== undefined) return this.emit(m.event);
      if (m.sketched !== undefined) this.backlogRows -= m.sketched;
      if (m.flushed !== undefined) {
        this.flushes.get(m.flushed)?.();
        this.flushes.delete(m.flushed);
      }
    });
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', (code) => this.fail(new Error(`input sketch thread exited with ${code}`)));
  }

  /** False when the thread is dead or behind: the caller sketches these rows itself. */
  add(model: string, m: SketchedMatrix, atMs: number, site: string | null): boolean {
    if (this.dead || this.backlogRows >= MAX_BACKLOG_ROWS) return false;
    const last = this.lastNames.get(model);
    const same = last !== undefined && sameNames(last, m.featureNames);
    if (!same) this.lastNames.set(model, m.featureNames);
    const rows: SketchRows = {
      model,
      names: same ? undefined : m.featureNames,
      // Copied, not transferred: the shadow mirror still scores these features.
      features: m.features,
      missing: m.missing,
      rows: m.rows,
      atMs,
      site,
    };
    this.backlogRows += m.rows;
    this.worker.postMessage({ rows });
    return true;
  }

  /** The thread's current buckets emitted and handed to `emit`; resolves once they were. */
  flush(): Promise<void> {
    if (this.dead) return Promise.resolve();
    const id = this.nextFlush++;
    return new Promise((resolve) => {
      this.flushes.set(id, resolve);
      this.worker.postMessage({ flush: id });
    });
  }

  async close(): Promise<void> {
    await this.flush();
    this.dead = true;
    await this.worker.terminate();
  }

  private fail(err: unknown): void {
    if (this.dead) return;
    this.dead = true;
    for (const r of this.flushes.values()) r();
    this.flushes.clear();
    this.died(err);
  }
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
