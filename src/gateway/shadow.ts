import type { ScoringInput } from '../models';
import type { Backend } from './backends';

/**
 * Shadow mirroring with a hard bound: at most `maxInFlight` mirrored cases queued or being scored;
 * beyond that a mirror is dropped and counted, never queued. Mirrors start after the production
 * response was handed to the socket, are scored in micro-batches (one backend call for the cases that
 * arrived within `batchWindowMs`, or as soon as `maxBatch` are waiting, so a shadow costs far less
 * than a second request), and every batch has a deadline, so a slow or dead shadow backend frees its
 * slots instead of piling up.
 */
export interface ShadowStats {
  inFlight: number;
  started: number;
  completed: number;
  failed: number;
  dropped: number;
  batches: number;
}

interface Item {
  input: ScoringInput;
  onScored: (scores: Float64Array, latencyMs: number) => void;
}

export class ShadowMirror {
  private inFlight = 0;
  private readonly counts = { started: 0, completed: 0, failed: 0, dropped: 0, batches: 0 };
  private readonly queues = new Map<Backend, Item[]>();
  private scheduled = false;
  private timer: NodeJS.Timeout | null = null;
  private queued = 0;

  constructor(
    readonly maxInFlight = 256,
    readonly timeoutMs = 2000,
    readonly maxBatch = 64,
    /** How long the first queued mirror waits for others to share its backend call (0: next loop turn). */
    readonly batchWindowMs = 2,
  ) {}

  /** Returns false (and counts a drop) when the mirror is full. */
  submit(backend: Backend, input: ScoringInput, onScored: Item['onScored']): boolean {
    if (this.inFlight >= this.maxInFlight) {
      this.counts.dropped++;
      return false;
    }
    this.inFlight++;
    this.counts.started++;
    const q = this.queues.get(backend);
    if (q) q.push({ input, onScored });
    else this.queues.set(backend, [{ input, onScored }]);
    this.queued++;
    if (this.queued >= this.maxBatch || this.batchWindowMs <= 0) {
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.dispatch());
      }
    } else if (!this.timer && !this.scheduled) {
      this.timer = setTimeout(() => this.dispatch(), this.batchWindowMs);
    }
    return true;
  }

  stats(): ShadowStats {
    return { inFlight: this.inFlight, ...this.counts };
  }

  private dispatch(): void {
    this.scheduled = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.queued = 0;
    for (const [backend, items] of this.queues) {
      this.queues.delete(backend);
      for (let i = 0; i < items.length; i += this.maxBatch) void this.run(backend, items.slice(i, i + this.maxBatch));
    }
  }

  private async run(backend: Backend, items: Item[]): Promise<void> {
    this.counts.batches++;
    const t0 = process.hrtime.bigint();
    let timer: NodeJS.Timeout | undefined;
    try {
      const groups = groupByLayout(items);
      const controller = new AbortController();
      // The deadline also covers backends that ignore the signal.
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          controller.abort();
          reject(new Error('shadow deadline'));
        }, this.timeoutMs);
      });
      await Promise.race([
        Promise.all(
          groups.map(async (group) => {
            const scores = await backend.score(concat(group.map((g) => g.input)), controller.signal);
            const ms = Number(process.hrtime.bigint() - t0) / 1e6;
            let offset = 0;
            for (const g of group) {
              g.onScored(scores.subarray(offset, offset + g.input.rows), ms);
              offset += g.input.rows;
            }
          }),
        ),
        deadline,
      ]);
      this.counts.completed += items.length;
    } catch {
      this.counts.failed += items.length;
    } finally {
      clearTimeout(timer);
      this.inFlight -= items.length;
    }
  }
}

/** Cases whose inputs list the same features in the same order can share one matrix. */
function groupByLayout(items: Item[]): Item[][] {
  if (items.length === 1) return [items];
  const groups = new Map<string, Item[]>();
  for (const it of items) {
    const key = layoutKey(it.input.featureNames);
    const g = groups.get(key);
    if (g) g.push(it);
    else groups.set(key, [it]);
  }
  return [...groups.values()];
}

/** Feature lists are usually the model's own array, shared by every request: key it once. */
const layoutKeys = new WeakMap<readonly string[], string>();
function layoutKey(names: readonly string[]): string {
  let k = layoutKeys.get(names);
  if (k === undefined) {
    k = names.join('\u0000');
    layoutKeys.set(names, k);
  }
  return k;
}

function concat(inputs: ScoringInput[]): ScoringInput {
  if (inputs.length === 1) return inputs[0]!;
  const rows = inputs.reduce((a, x) => a + x.rows, 0);
  const features = new Float32Array(rows * inputs[0]!.featureNames.length);
  const caseIds: string[] = [];
  let off = 0;
  for (const x of inputs) {
    features.set(x.features, off);
    off += x.features.length;
    for (let i = 0; i < x.caseIds.length; i++) caseIds.push(x.caseIds[i]!);
  }
  return { featureNames: inputs[0]!.featureNames, features, rows, caseIds };
}
