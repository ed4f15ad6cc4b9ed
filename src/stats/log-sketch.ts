/**
 * Per-feature summaries of served inputs, so input drift can be measured without keeping the values (they are
 * patient data): a DDSketch-style relative-accuracy log-bucket sketch (Masson, Rim & Lee, "DDSketch: A Fast and
 * Fully-Mergeable Quantile Sketch with Relative-Error Guarantees", PVLDB 12(12), 2019).
 *
 * With γ = (1 + α)/(1 − α), positive bucket i holds (γ^(i−1), γ^i]; its representative 2γ^i/(γ + 1) is within
 * relative error α of every value in it. A negative v goes to the bucket of |v| in a mirrored store, |v| below
 * MIN_INDEXABLE to one zero bucket. Sketches of the same α merge by adding counts, so time buckets roll up into
 * any window. Drift against the locked reference (raw values, ./drift):
 *   PSI  each bucket goes whole to the bin holding its representative: only buckets straddling an edge misplace
 *        mass, at most their own.
 *   KS   D over the bucket boundaries only, where the sketch's ECDF is exact: a lower bound of the raw D, short
 *        of it by at most the largest share of either sample inside one bucket.
 * Accuracy is relative to |v|: a feature far from zero for its spread (sodium ≈ 140 ± 3 mmol/L; buckets ≈ 2.8
 * wide at α = 0.01) is resolved too coarsely for decile PSI, as several edges share a bucket and bins go empty
 * (N(140, 3) vs N(141, 3): PSI 4.8 from the sketch, 0.11 from the values). So a sketch may have a `centre` c:
 * it holds v − c, and every function here takes raw-scale references and edges and shifts them itself. With c
 * near the reference median the same feature is resolved as a standardised one is (`sketchResolves`).
 */
import {
  binCounts,
  DEFAULT_PSI_EPSILON,
  kolmogorovSf,
  psiOfBinCounts,
  quantileEdges,
  type KsResult,
  type PsiResult,
} from './drift';
import { StatsInputError } from './errors';
import { logBucketIndex, type LogBucketIndex } from './log-bucket-index';
import { quantile } from './ranks-and-quantiles';

export const DEFAULT_SKETCH_ALPHA = 0.01;
/** |v| below this counts as zero: log buckets never reach 0. */
export const MIN_INDEXABLE = 1e-9;
/** |v| above this is clamped into the top bucket (no relative-accuracy guarantee for it): keeps the store dense and bounded. */
export const MAX_INDEXABLE = 1e9;

/** Sparse, JSON-safe summary. Keys of positive/negative are integer bucket indexes written as strings. */
export interface LogSketch {
  /** Relative accuracy. */
  alpha: number;
  /** Finite values added (zero + positive + negative buckets). */
  count: number;
  /** null / NaN / ±Infinity values: counted, never binned. */
  missing: number;
  /** |v| < MIN_INDEXABLE. */
  zero: number;
  positive: Record<string, number>;
  /** Bucket of |v| for v < 0. */
  negative: Record<string, number>;
  /** The buckets hold v − centre (absent: 0). Only sketches of the same α and centre merge. */
  centre?: number;
}

/** A sketch's centre (absent: 0). */
export const centreOf = (s: Pick<LogSketch, 'centre'>): number => s.centre ?? 0;
/** The `centre` field of a sketch around c: written only when it is not 0, so uncentred sketches keep their old form. */
const centreField = (c: number): Pick<LogSketch, 'centre'> => (c !== 0 ? { centre: c } : {});

function gammaOf(alpha: number): number {
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`sketch alpha must be in (0, 1), got ${alpha}`);
  return (1 + alpha) / (1 - alpha);
}

/**
 * Dense builder for the gateway's hot path: add() is O(1) and allocates nothing (two typed arrays over the
 * indexes of [MIN_INDEXABLE, MAX_INDEXABLE], ~2,100 buckets each at α = 0.01). Values beyond MAX_INDEXABLE clamp
 * into the top bucket.
 */
export class LogSketchBuilder {
  readonly alpha: number;
  private readonly logGamma: number;
  /** ⌈ln |x| / ln γ⌉ from tables, equal to the formula (no logarithm per value on the hot path). */
  private readonly index: LogBucketIndex;
  private readonly minIndex: number;
  private readonly maxIndex: number;
  private readonly pos: Float64Array;
  private readonly neg: Float64Array;
  private finite = 0;
  private missing = 0;
  private zero = 0;

  constructor(
    alpha = DEFAULT_SKETCH_ALPHA,
    /** Values are sketched as v − centre (see LogSketch.centre). */
    readonly centre = 0,
  ) {
    if (!Number.isFinite(centre)) throw new RangeError(`sketch centre must be finite, got ${centre}`);
    this.alpha = alpha;
    this.logGamma = Math.log(gammaOf(alpha));
    this.index = logBucketIndex(this.logGamma, alpha);
    this.minIndex = Math.ceil(Math.log(MIN_INDEXABLE) / this.logGamma);
    this.maxIndex = Math.ceil(Math.log(MAX_INDEXABLE) / this.logGamma);
    this.pos = new Float64Array(this.maxIndex - this.minIndex + 1);
    this.neg = new Float64Array(this.maxIndex - this.minIndex + 1);
  }

  add(v: number | null): void {
    if (v === null || !Number.isFinite(v)) {
      this.missing++;
      return;
    }
    this.finite++;
    const x = v - this.centre;
    const a = Math.abs(x);
    if (a < MIN_INDEXABLE) {
      this.zero++;
      return;
    }
    let i = this.index.of(a);
    if (i > this.maxIndex) i = this.maxIndex;
    else if (i < this.minIndex) i = this.minIndex; // rounding at MIN_INDEXABLE only
    (x > 0 ? this.pos : this.neg)[i - this.minIndex]! += 1;
  }

  /** Finite values added. */
  get count(): number {
    return this.finite;
  }

  /** The sparse summary (only non-zero buckets, ascending index); reset() clears for reuse. */
  toSketch(): LogSketch {
    const sparse = (store: Float64Array) => {
      const out: Record<string, number> = {};
      store.forEach((c, k) => {
        if (c > 0) out[String(k + this.minIndex)] = c;
      });
      return out;
    };
    return {
      alpha: this.alpha,
      count: this.finite,
      missing: this.missing,
      zero: this.zero,
      positive: sparse(this.pos),
      negative: sparse(this.neg),
      ...centreField(this.centre),
    };
  }

  reset(): void {
    this.pos.fill(0);
    this.neg.fill(0);
    this.finite = 0;
    this.missing = 0;
    this.zero = 0;
  }
}

export function emptySketch(alpha = DEFAULT_SKETCH_ALPHA, centre = 0): LogSketch {
  gammaOf(alpha);
  return { alpha, count: 0, missing: 0, zero: 0, positive: {}, negative: {}, ...centreField(centre) };
}

const isCount = (c: unknown): c is number => typeof c === 'number' && Number.isInteger(c) && c >= 0;

/** A sketch's buckets as [index, count] ascending, after checking what storage handed back is consistent. */
function buckets(s: LogSketch): { positive: [number, number][]; negative: [number, number][] } {
  gammaOf(s.alpha);
  if (s.centre !== undefined && !Number.isFinite(s.centre))
    throw new StatsInputError(`sketch centre ${s.centre} is not a finite number`, 'centre');
  const side = (name: 'positive' | 'negative') =>
    Object.entries(s[name])
      .map(([k, c]): [number, number] => {
        const i = Number(k);
        if (!Number.isInteger(i) || String(i) !== k || !isCount(c))
          throw new StatsInputError(`sketch ${name} bucket "${k}": ${c} is not a count at an integer index`, name);
        return [i, c];
      })
      .sort((x, y) => x[0] - y[0]);
  const positive = side('positive');
  const negative = side('negative');
  if (![s.count, s.missing, s.zero].every(isCount))
    throw new StatsInputError('sketch count, missing and zero must be non-negative integers', 'count');
  const total = [...positive, ...negative].reduce((t, [, c]) => t + c, s.zero);
  if (total !== s.count)
    throw new StatsInputError(`sketch count ${s.count} differs from its buckets' total ${total}`, 'count');
  return { positive, negative };
}

/** Throws RangeError when alphas or centres differ. Pure: returns a new object. */
export function mergeSketches(a: LogSketch, b: LogSketch): LogSketch {
  if (a.alpha !== b.alpha)
    throw new RangeError(`cannot merge sketches of different alpha (${a.alpha} vs ${b.alpha}): their buckets differ`);
  if (centreOf(a) !== centreOf(b))
    throw new RangeError(
      `cannot merge sketches of different centres (${centreOf(a)} vs ${centreOf(b)}): their buckets differ`,
    );
  const ba = buckets(a);
  const bb = buckets(b);
  const sum = (x: [number, number][], y: [number, number][]) => {
    const m = new Map<number, number>();
    for (const [i, c] of [...x, ...y]) m.set(i, (m.get(i) ?? 0) + c);
    return Object.fromEntries([...m].sort((p, q) => p[0] - q[0]).map(([i, c]) => [String(i), c]));
  };
  return {
    alpha: a.alpha,
    count: a.count + b.count,
    missing: a.missing + b.missing,
    zero: a.zero + b.zero,
    positive: sum(ba.positive, bb.positive),
    negative: sum(ba.negative, bb.negative),
    ...centreField(centreOf(a)),
  };
}

/** Bucket i of positive values holds v in (γ^(i−1), γ^i], γ = (1+α)/(1−α); negatives mirrored. */
export function bucketUpperBound(alpha: number, index: number): number {
  return Math.pow(gammaOf(alpha), index);
}

const representative = (gamma: number, index: number) => (2 * Math.pow(gamma, index)) / (gamma + 1);

function checkEdges(edges: readonly number[]): void {
  if (edges.some((e, i) => !Number.isFinite(e) || (i > 0 && e <= edges[i - 1]!)))
    throw new StatsInputError('edges must be finite and strictly increasing', 'edges');
}

function requireFinite(values: readonly number[], column: string): void {
  values.forEach((v, i) => {
    if (!Number.isFinite(v))
      throw new StatsInputError(
        `${column}: non-finite value ${v} at row ${i}; count missing values separately`,
        column,
        i,
      );
  });
}

function requireObservations(s: LogSketch, test: string): void {
  if (s.count === 0)
    throw new StatsInputError(
      `${test} needs a non-empty current sample: the sketch holds no finite values (${s.missing} missing)`,
      'current',
    );
}

/** The bin [e_{j−1}, e_j) holding x: the first edge > x, as binCounts does (a value equal to an edge goes above it). */
function binOf(x: number, edges: readonly number[]): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (edges[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Counts per bin of `edges` (raw scale; same semantics as binCounts(values, edges)): each bucket goes whole to
 * the bin holding its representative value centre + 2γ^i/(γ+1) (zero bucket: the centre; negatives mirrored).
 */
export function sketchBinCounts(s: LogSketch, edges: readonly number[]): number[] {
  checkEdges(edges);
  const { positive, negative } = buckets(s);
  const gamma = gammaOf(s.alpha);
  const c0 = centreOf(s);
  const counts = new Array<number>(edges.length + 1).fill(0);
  if (s.zero > 0) counts[binOf(c0, edges)]! += s.zero;
  for (const [i, c] of positive) counts[binOf(c0 + representative(gamma, i), edges)]! += c;
  for (const [i, c] of negative) counts[binOf(c0 - representative(gamma, i), edges)]! += c;
  return counts;
}

/**
 * PSI of the sketched window vs the raw reference, as psi(reference, current, opts) computes it (decile edges of
 * the reference by default), with the window's counts per bin from sketchBinCounts.
 */
export function sketchPsi(
  reference: readonly number[],
  s: LogSketch,
  opts: { edges?: readonly number[]; bins?: number; epsilon?: number } = {},
): PsiResult {
  requireFinite(reference, 'reference');
  requireObservations(s, 'PSI');
  const edges = opts.edges ? [...opts.edges] : quantileEdges(reference, opts.bins ?? 10);
  checkEdges(edges);
  return psiOfBinCounts(
    binCounts(reference, edges),
    sketchBinCounts(s, edges),
    edges,
    opts.epsilon ?? DEFAULT_PSI_EPSILON,
  );
}

/**
 * Two-sample KS with the current sample known only by buckets. The reference is bucketed by the same function,
 * and D = max over every bucket boundary b of |F_ref(b) − F_sketch(b)|: both ECDFs are exact there (left limits
 * at the boundaries of the zero and negative buckets, which exclude their upper end), so D is a lower bound of the
 * raw values' D, short of it by at most the largest share of either sample inside one bucket. The p-value is
 * ks2Sample's, Q(√(nm/(n+m))·D) with n = reference.length, m = s.count: never below the raw-value p-value, so
 * the sketch rejects only where the raw asymptotic test would (it may lose power, never gain it). That is not a
 * guarantee of conservativeness: the asymptotic p-value itself is approximate. `at` is the boundary attaining D.
 */
export function sketchKs(reference: readonly number[], s: LogSketch): KsResult {
  if (reference.length === 0) throw new StatsInputError('KS needs two non-empty samples', 'reference');
  requireObservations(s, 'KS');
  requireFinite(reference, 'reference');
  const cur = buckets(s);
  const c0 = centreOf(s);
  const builder = new LogSketchBuilder(s.alpha, c0);
  for (const v of reference) builder.add(v);
  const refSketch = builder.toSketch();
  const ref = buckets(refSketch);
  const aligned = (r: [number, number][], c: [number, number][]) => {
    const m = new Map<number, [number, number]>(r.map(([i, n]) => [i, [n, 0]]));
    for (const [i, n] of c) {
      const e = m.get(i);
      if (e) e[1] = n;
      else m.set(i, [0, n]);
    }
    return [...m].sort((p, q) => p[0] - q[0]);
  };
  // Along the real line: negative buckets from the largest |v| down, the zero bucket, positive buckets upwards.
  // Boundaries on the sketch's scale (v − centre); `at` is shifted back at the end.
  const cells: [upper: number, ref: number, cur: number][] = [
    ...aligned(ref.negative, cur.negative)
      .reverse()
      .map(([i, [r, c]]): [number, number, number] => [-bucketUpperBound(s.alpha, i - 1), r, c]),
    [MIN_INDEXABLE, refSketch.zero, s.zero],
    ...aligned(ref.positive, cur.positive).map(([i, [r, c]]): [number, number, number] => [
      bucketUpperBound(s.alpha, i),
      r,
      c,
    ]),
  ];
  const n = reference.length;
  const m = s.count;
  let i = 0;
  let j = 0;
  let d = 0;
  let at = cells[0]![0];
  for (const [upper, r, c] of cells) {
    i += r;
    j += c;
    const diff = Math.abs(i / n - j / m);
    if (diff > d) {
      d = diff;
      at = upper;
    }
  }
  return { statistic: d, pValue: kolmogorovSf(Math.sqrt((n * m) / (n + m)) * d), n, m, at: at + c0 };
}

/**
 * Whether a sketch of accuracy `alpha` around `centre` resolves the reference's decile bins: every bin must span
 * at least `minBuckets` bucket widths (a bucket near x is about |x − centre|·(γ − 1) wide), so the mass misplaced
 * by buckets straddling an edge stays a small share of a bin. Features far from the centre for their spread fail
 * this (see the module comment); their PSI from a sketch would be wrong, so callers report them as not compared.
 */
export function sketchResolves(
  reference: readonly number[],
  alpha: number,
  opts: { bins?: number; minBuckets?: number; centre?: number } = {},
): boolean {
  const g = gammaOf(alpha);
  const c0 = opts.centre ?? 0;
  const edges = quantileEdges(reference, opts.bins ?? 10);
  const minBuckets = opts.minBuckets ?? 10;
  for (let i = 1; i < edges.length; i++) {
    const width = Math.max(Math.abs(edges[i - 1]! - c0), Math.abs(edges[i]! - c0)) * (g - 1);
    if (edges[i]! - edges[i - 1]! < minBuckets * width) return false;
  }
  return true;
}

/**
 * Why a window's sketch of a feature cannot be compared with the reference's decile bins, or null if it can:
 * the message names a centre that would resolve it (the reference median), for the gateway's models file.
 */
export function sketchTooCoarse(reference: readonly number[], s: LogSketch): string | null {
  if (sketchResolves(reference, s.alpha, { centre: centreOf(s) })) return null;
  const median = quantile(reference, 0.5);
  const resolves = sketchResolves(reference, s.alpha, { centre: median });
  return (
    `the gateway's sketch (relative accuracy ${s.alpha}, centre ${centreOf(s)}) is too coarse for its decile bins (values far from the centre for their spread)` +
    (resolves
      ? `; a sketch centre of ${Number(median.toPrecision(6))} (the reference median) in the gateway's models file would resolve it`
      : '')
  );
}
