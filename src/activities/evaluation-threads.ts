/**
 * The acceptance evaluation on two threads: the candidate on the calling thread, the incumbent on a worker
 * thread, each sorting its scores and measuring every slice group; the paired DeLong test and the judging
 * follow on the calling thread as each group's incumbent measures arrive. The stages are the pure ones
 * `evaluateAcceptance` runs in sequence (src/evaluation), on the same rows in the same order, so the report
 * is the same object — only the wall time differs. Inputs under `minRows` are evaluated on the calling
 * thread: a worker's start and the copies cost more than they save there.
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import {
  evaluateAcceptance,
  finishEvaluation,
  measureModelGroup,
  pairGroup,
  planEvaluation,
  startModel,
  type AcceptanceReport,
  type EvaluationInput,
  type EvaluationPlan,
  type ModelGroupResult,
  type SliceRaw,
} from '../evaluation/evaluate';

type Outbound =
  | { type: 'group'; g: number; result: ModelGroupResult; placement: Float64Array }
  | { type: 'done' }
  | { type: 'error'; message: string };

/** Rows below which a worker is not worth starting. */
export const PARALLEL_MIN_ROWS = 200_000;

// the worker runs the same source as this module: .js when built, .ts through tsx's require hook otherwise
// (a test runner's child does not pass its loader on to worker threads)
const WORKER_FILE = path.join(__dirname, `evaluation-worker${path.extname(__filename)}`);
const startWorker = () =>
  WORKER_FILE.endsWith('.ts')
    ? new Worker(`require('tsx/cjs/api').register(); require(${JSON.stringify(WORKER_FILE)});`, { eval: true })
    : new Worker(WORKER_FILE);

/**
 * A worker thread for one evaluation. Start it early (before reading the data) so its start-up overlaps the
 * reading; `close()` it when done (also after a failure).
 */
export class EvaluationThreads {
  private readonly worker: Worker;
  private readonly inbox: Outbound[] = [];
  private waiting: ((m: Outbound) => void) | null = null;
  private failure: Error | null = null;
  private used = false;

  constructor(private readonly minRows = PARALLEL_MIN_ROWS) {
    this.worker = startWorker();
    this.worker.on('message', (m: Outbound) => this.deliver(m));
    this.worker.on('error', (e) => this.fail(e));
    this.worker.on('exit', (code) => this.fail(new Error(`evaluation worker exited with code ${code}`)));
    this.worker.unref();
  }

  private deliver(m: Outbound): void {
    if (m.type === 'error') return this.fail(new Error(`evaluation worker failed: ${m.message}`));
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = null;
      w(m);
    } else this.inbox.push(m);
  }

  private fail(e: Error): void {
    this.failure ??= e;
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = null;
      w({ type: 'error', message: e.message });
    }
  }

  private next(): Promise<Outbound> {
    const m = this.inbox.shift();
    if (m) return Promise.resolve(m);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<Outbound>((resolve) => (this.waiting = resolve)).then((m) => {
      if (m.type === 'error') throw this.failure ?? new Error(m.message);
      return m;
    });
  }

  /** `evaluateAcceptance(input)`, the incumbent measured on the worker. One evaluation per instance. */
  async evaluate(input: EvaluationInput): Promise<AcceptanceReport> {
    if (this.used) throw new Error('EvaluationThreads evaluates once; start another');
    this.used = true;
    this.worker.ref(); // an unreferenced worker would let the process exit while we wait for it
    try {
      return await this.run(input);
    } finally {
      this.worker.unref();
    }
  }

  private async run(input: EvaluationInput): Promise<AcceptanceReport> {
    // validation errors surface here, on the calling thread, exactly as from evaluateAcceptance
    const plan = planEvaluation(input);
    if (plan.n < this.minRows || this.failure) return evaluateAcceptance(input);
    try {
      return await this.onTwoThreads(plan);
    } catch (e) {
      // a worker that died (out of memory, terminated) costs time, never the evaluation: run it here
      if (this.failure) return evaluateAcceptance(input);
      throw e;
    }
  }

  private async onTwoThreads(plan: EvaluationPlan): Promise<AcceptanceReport> {
    this.worker.postMessage({ type: 'model', work: plan.incumbent });
    const candidate = startModel(plan.candidate);
    this.worker.postMessage({ type: 'order', order: candidate.model.order });
    const raws: SliceRaw[] = [];
    for (let g = 0; g < plan.groups.length; g++) {
      const c = measureModelGroup(candidate, g, null);
      const m = await this.next();
      if (m.type !== 'group' || m.g !== g) throw new Error(`evaluation worker: expected group ${g}, got ${m.type}`);
      raws.push(...pairGroup(plan, g, candidate, c, m.result, m.placement));
      // hand the buffer back for group g + 2 (the worker fills g + 1 in the other one meanwhile)
      if (g + 2 < plan.groups.length)
        this.worker.postMessage({ type: 'placement', placement: m.placement }, [m.placement.buffer as ArrayBuffer]);
    }
    const done = await this.next();
    if (done.type !== 'done') throw new Error(`evaluation worker: expected the end, got ${done.type}`);
    return finishEvaluation(plan, raws);
  }

  /** Stops the worker. */
  async close(): Promise<void> {
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
  }
}
