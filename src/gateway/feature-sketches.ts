import { randomUUID } from 'node:crypto';
import { LogSketchBuilder } from '../stats/log-sketch';
import { MAX_SKETCH_SITES, MAX_SKETCH_VALUES, type SketchEvent } from '../telemetry';
import type { FeatureMatrix } from './oip';

/**
 * The gateway's default sketch accuracy (VIGIL_GATEWAY_SKETCH_ALPHA): 1 % relative resolves the decile bins of
 * standardised features (`sketchResolves`). Features far from zero for their spread (sodium 140 ± 3, age 60 ± 15)
 * get a centre in the models file (`sketchCentres`, e.g. the reference median) rather than a smaller α, which is
 * paid when a bucket is emitted: at 30k requests/s and 8 features, building and encoding one bucket takes ~3 ms at
 * 0.01 and ~15 ms at 0.001 (a pause of the gateway's event loop every bucket).
 */
export const GATEWAY_SKETCH_ALPHA = 0.01;

export interface FeatureSketcherOptions {
  /** Length of a bucket (ms); buckets are aligned to multiples of it since the epoch. */
  bucketMs?: number;
  alpha?: number;
  /** Called with each closed bucket that saw rows (the gateway appends it to the WAL). */
  emit: (e: SketchEvent) => void;
  /** Per model, per feature: the value its sketch is taken around (LogSketch.centre; default 0). */
  centres?: ReadonlyMap<string, Readonly<Record<string, number>>>;
}

/** What a sketch reads of a request's feature matrix. */
export type SketchedMatrix = Pick<FeatureMatrix, 'featureNames' | 'features' | 'rows' | 'missing'> &
  Partial<Pick<FeatureMatrix, 'quality'>>;

/** A feature's exact value counts in a bucket; `counts` null once it has shown too many distinct values. */
interface ValueCounts {
  counts: Map<number, number> | null;
}

interface ModelBucket {
  /** One builder per feature name, whatever the layout of the request that brought it. */
  byName: Map<string, LogSketchBuilder>;
  /** The builders in the last request's column order (the usual case: every request has the same layout). */
  lastNames: readonly string[] | null;
  lastBuilders: LogSketchBuilder[];
  /** Exact counts per integer value of each feature, until it shows a non-integer or more than MAX_SKETCH_VALUES values (then null). */
  values: Map<string, ValueCounts>;
  lastValues: ValueCounts[];
  rows: number;
  /** Rows per site; rows of sites beyond MAX_SKETCH_SITES in siteOverflow. */
  sites: Map<string, number>;
  siteOverflow: number;
}

/**
 * Summarises the inputs the gateway serves, per model and per aligned time bucket, as one relative-accuracy
 * sketch per feature: input drift (PSI, KS against the locked validation reference) is measured from these,
 * so no feature value of any case is written. Adding a request costs one log per value and no allocation; a
 * bucket is emitted by the first add or `rollover` after it ends, stamped with its end.
 */
export class FeatureSketcher {
  readonly bucketMs: number;
  private readonly alpha: number;
  private bucketEnd = 0;
  private readonly models = new Map<string, ModelBucket>();
  emitted = 0;

  constructor(private readonly opts: FeatureSketcherOptions) {
    this.bucketMs = opts.bucketMs ?? 10_000;
    this.alpha = opts.alpha ?? GATEWAY_SKETCH_ALPHA;
  }

  /**
   * The rows of one request, seen at `atMs`, from `site` (`siteParameter` of the request, null: none). Missing
   * (imputed) values are counted as missing, not as 0.
   */
  add(model: string, m: SketchedMatrix, atMs: number, site: string | null = null): void {
    if (atMs >= this.bucketEnd) this.rollover(atMs);
    let b = this.models.get(model);
    if (!b) {
      b = {
        byName: new Map(),
        lastNames: null,
        lastBuilders: [],
        values: new Map(),
        lastValues: [],
        rows: 0,
        sites: new Map(),
        siteOverflow: 0,
      };
      this.models.set(model, b);
    }
    if (site !== null) {
      const n = b.sites.get(site);
      if (n !== undefined) b.sites.set(site, n + m.rows);
      else if (b.sites.size < MAX_SKETCH_SITES) b.sites.set(site, m.rows);
      else b.siteOverflow += m.rows;
    }
    if (b.lastNames !== m.featureNames) {
      const byName = b.byName;
      const centres = this.opts.centres?.get(model);
      b.lastBuilders = m.featureNames.map(
        (f) => byName.get(f) ?? byName.set(f, new LogSketchBuilder(this.alpha, centres?.[f] ?? 0)).get(f)!,
      );
      const values = b.values;
      b.lastValues = m.featureNames.map(
        (f) => values.get(f) ?? values.set(f, { counts: new Map<number, number>() }).get(f)!,
      );
      b.lastNames = m.featureNames;
    }
    const sketches = b.lastBuilders;
    const exact = b.lastValues;
    const F = m.featureNames.length;
    const { features, missing } = m;
    for (let r = 0; r < m.rows; r++) {
      const base = r * F;
      for (let k = 0; k < F; k++) {
        if (missing !== null && missing[base + k] === 1) {
          sketches[k]!.add(null);
          continue;
        }
        const v = features[base + k]!;
        sketches[k]!.add(v);
        // Discrete inputs (binary, counts, codes) are counted exactly: decile bins of a sketch cannot split 0 from 1.
        const vc = exact[k]!.counts;
        if (vc !== null) {
          if (!Number.isInteger(v)) {
            exact[k]!.counts = null; // only integer codes are counted exactly: no measured value is written
            continue;
          }
          const c = vc.get(v);
          if (c !== undefined) vc.set(v, c + 1);
          else if (vc.size < MAX_SKETCH_VALUES) vc.set(v, 1);
          else exact[k]!.counts = null;
        }
      }
    }
    b.rows += m.rows;
  }

  /** Emit every bucket that ended before `nowMs` (called by add and by the gateway's timer). */
  rollover(nowMs: number): void {
    if (nowMs < this.bucketEnd) return;
    if (this.bucketEnd > 0) for (const [model, b] of this.models) if (b.rows > 0) this.emitModel(model, b);
    this.bucketEnd = (Math.floor(nowMs / this.bucketMs) + 1) * this.bucketMs;
  }

  /** Emit what the current bucket holds now, stamped now (shutdown, tests). */
  flush(): void {
    for (const [model, b] of this.models) if (b.rows > 0) this.emitModel(model, b);
  }

  private emitModel(model: string, b: ModelBucket): void {
    const features: SketchEvent['features'] = {};
    for (const [f, builder] of b.byName) {
      features[f] = builder.toSketch();
      builder.reset();
    }
    const values: NonNullable<SketchEvent['values']> = {};
    for (const [f, vc] of b.values) {
      values[f] = vc.counts === null ? null : Object.fromEntries([...vc.counts].map(([v, n]) => [String(v), n]));
      vc.counts = new Map();
    }
    // Stamped with the bucket's end, or now for a bucket emitted before its end (shutdown, a new feature layout).
    const end = Math.min(this.bucketEnd, Date.now());
    const seconds = Math.max(0, end - (this.bucketEnd - this.bucketMs)) / 1000;
    const sites = Object.fromEntries(b.sites);
    this.opts.emit({
      kind: 'sketch',
      eventId: randomUUID(),
      at: new Date(end).toISOString(),
      seconds,
      model,
      rows: b.rows,
      features,
      values,
      sites,
      ...(b.siteOverflow > 0 ? { siteOverflow: b.siteOverflow } : {}),
    });
    b.rows = 0;
    b.sites.clear();
    b.siteOverflow = 0;
    this.emitted++;
  }
}
