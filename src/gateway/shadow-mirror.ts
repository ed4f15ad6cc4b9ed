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

/**
 * Called once per mirrored case with the batch's scores, the offset of the case's first row in them
 * and the batch latency; `ctx` and `version` are what was given to submit (one handler can serve
 * every case, so a mirror needs no closure of its own).
 */
export type ShadowScored<T> = (
  scores: Float64Array,
  offset: number,
  latencyMs: number,
  ctx: T,
  version: string,
) => void;

/** Called once per mirrored case whose batch failed or missed its deadline (none is called after that). */
export type ShadowFailed<T> = (reason: string, latencyMs: number, ctx: T, version: string) => void;

interface Item {
  input: ScoringInput;
  onScored: ShadowScored<never>;
  onFailed: ShadowFailed<never> | undefined;
  ctx: unknown;
  /** Its onScored has run: a later failure of the batch does not report it again. */
  scored: boolean;
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

  /**
   * Returns false (and counts a drop) when the mirror is full. The input is used as it is (not
   * copied): the caller must not change it afterwards.
   */
  submit<T>(
    backend: Backend,
    input: ScoringInput,
    onScored: ShadowScored<T>,
    ctx: T,
    onFailed?: ShadowFailed<T>,
  ): boolean {
    if (this.inFlight >= this.maxInFlight) {
      this.counts.dropped++;
      return false;
    }
    this.inFlight++;
    this.counts.started++;
    const item: Item = {
      input,
      onScored: onScored as ShadowScored<never>,
      onFailed: onFailed as ShadowFailed<never> | undefined,
      ctx,
      scored: false,
    };
    const q = this.queues.get(backend);
    if (q) q.push(item);
    else this.queues.set(backend, [item]);
    this.queued++;
    if (this.queued >= this.maxBatch || this.batchWindowMs <= 0) {
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(this.dispatch);
      }
    } else if (!this.timer && !this.scheduled) {
      this.timer = setTimeout(this.dispatch, this.batchWindowMs);
    }
    return true;
  }

  stats(): ShadowStats {
    return { inFlight: this.inFlight, ...this.counts };
  }

  private readonly dispatch = (): void => {
    this.scheduled = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.queued = 0;
    for (const [backend, items] of this.queues) {
      this.queues.delete(backend);
      if (items.length <= this.maxBatch) this.run(backend, items);
      else for (let i = 0; i < items.length; i += this.maxBatch) this.run(backend, items.slice(i, i + this.maxBatch));
    }
  };

  /**
   * One backend call per group of same-layout cases. The batch completes when every group has
   * answered, and fails (every case counted failed; each case not yet recorded gets its onFailed, and
   * none is recorded after that) if any group fails or the deadline passes first. Only remote backends get an abort signal (in-process ones ignore it).
   */
  private run(backend: Backend, items: Item[]): void {
    this.counts.batches++;
    const t0 = process.hrtime.bigint();
    const controller = backend.kind === 'remote' ? new AbortController() : undefined;
    let open = true;
    const settle = (ok: boolean, reason = ''): void => {
      if (!open) return;
      open = false;
      clearTimeout(timer);
      if (ok) this.counts.completed += items.length;
      else this.counts.failed += items.length;
      this.inFlight -= items.length;
      if (ok) return;
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      for (const it of items) {
        if (it.scored) continue;
        try {
          it.onFailed?.(reason, ms, it.ctx as never, backend.version);
        } catch {
          // a failing failure handler must not stop the others
        }
      }
    };
    const why = (err: unknown): string => (err instanceof Error ? err.message : String(err));
    // The deadline also covers backends that ignore the signal.
    const timer = setTimeout(() => {
      controller?.abort();
      settle(false, `no answer within ${this.timeoutMs} ms`);
    }, this.timeoutMs);
    let groups: Item[][];
    try {
      groups = groupByLayout(items);
    } catch (err) {
      return settle(false, why(err));
    }
    let waiting = groups.length;
    const version = backend.version;
    for (const group of groups) {
      let call: Promise<Float64Array>;
      try {
        call = backend.score(concat(group), controller?.signal);
      } catch (err) {
        return settle(false, why(err));
      }
      call.then(
        (scores) => {
          if (!open) return;
          const ms = Number(process.hrtime.bigint() - t0) / 1e6;
          try {
            let offset = 0;
            for (const g of group) {
              g.onScored(scores, offset, ms, g.ctx as never, version);
              g.scored = true;
              offset += g.input.rows;
            }
          } catch (err) {
            return settle(false, why(err));
          }
          if (--waiting === 0) settle(true);
        },
        (err: unknown) => settle(false, why(err)),
      );
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

function concat(items: readonly Item[]): ScoringInput {
  if (items.length === 1) return items[0]!.input;
  let rows = 0;
  for (const it of items) rows += it.input.rows;
  const first = items[0]!.input;
  const features = new Float32Array(rows * first.featureNames.length);
  const caseIds = new Array<string>(rows);
  let off = 0;
  let r = 0;
  for (const { input: x } of items) {
    features.set(x.features, off);
    off += x.features.length;
    for (let i = 0; i < x.caseIds.length; i++) caseIds[r++] = x.caseIds[i]!;
  }
  return { featureNames: first.featureNames, features, rows, caseIds };
}
