/**
 * Population Stability Index: Σ (a_i − e_i) ln(a_i / e_i) over bins declared from the reference (its quantiles,
 * so each bin holds ~1/B of the reference), with empty shares floored at ε. PSI is the symmetrised
 * Kullback-Leibler (Jeffreys) divergence of the binned distributions. Conventional reading (Siddiqi 2006, Credit
 * Risk Scorecards; Yurdakul 2018, "Statistical properties of the population stability index"): < 0.1 stable,
 * 0.1–0.25 moderate shift, > 0.25 major shift.
 */
import { StatsInputError } from './errors';
import { finiteColumn } from './validate';

const ascending = (a: number, b: number) => a - b;

export const DEFAULT_PSI_EPSILON = 1e-4;

export interface PsiBin {
  /** [lower, upper): −Infinity / +Infinity at the ends. */
  lower: number;
  upper: number;
  reference: number;
  current: number;
  referenceShare: number;
  currentShare: number;
  /** (a − e) ln(a / e) after flooring the shares at ε. */
  contribution: number;
}

export interface PsiResult {
  psi: number;
  /** Interior cut points declared from the reference (ascending, distinct). */
  edges: number[];
  epsilon: number;
  bins: PsiBin[];
}

/**
 * Interior cut points at the reference's i/B quantiles (the order statistic at ⌊i·n/B⌋), duplicates dropped so
 * heavy ties give fewer, wider bins rather than empty ones. Declare these once from the locked reference and
 * store them with it: later windows are binned on the same edges.
 */
export function quantileEdges(reference: readonly number[], bins = 10): number[] {
  if (!Number.isInteger(bins) || bins < 2) throw new StatsInputError('PSI needs at least 2 bins', 'bins');
  if (reference.length === 0) throw new StatsInputError('reference is empty', 'reference');
  finiteColumn(reference, 'reference');
  const sorted = [...reference].sort(ascending);
  const edges: number[] = [];
  for (let i = 1; i < bins; i++) {
    const e = sorted[Math.floor((i * sorted.length) / bins)]!;
    if (e > sorted[0]! && (edges.length === 0 || e > edges[edges.length - 1]!)) edges.push(e);
  }
  return edges;
}

/** Counts per bin [e_{j−1}, e_j) for the given interior edges (bins = edges.length + 1). */
export function binCounts(values: readonly number[], edges: readonly number[]): number[] {
  const counts = new Array<number>(edges.length + 1).fill(0);
  for (const v of values) {
    let lo = 0;
    let hi = edges.length; // first edge > v
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (edges[mid]! <= v) lo = mid + 1;
      else hi = mid;
    }
    counts[lo]! += 1;
  }
  return counts;
}

/** PSI from counts per bin (or per category) of the reference and the current window. */
export function psiFromCounts(
  reference: readonly number[],
  current: readonly number[],
  epsilon = DEFAULT_PSI_EPSILON,
): { psi: number; contributions: number[] } {
  if (reference.length !== current.length || reference.length === 0)
    throw new StatsInputError('PSI needs the same non-empty bins for both samples', 'bins');
  if (!(epsilon > 0 && epsilon < 1)) throw new StatsInputError('epsilon must be in (0, 1)', 'epsilon');
  const total = (xs: readonly number[], name: string) => {
    let t = 0;
    xs.forEach((x, i) => {
      if (!(Number.isFinite(x) && x >= 0))
        throw new StatsInputError(`${name}: counts must be finite and non-negative`, name, i);
      t += x;
    });
    if (t === 0) throw new StatsInputError(`${name}: no observations`, name);
    return t;
  };
  const nr = total(reference, 'reference');
  const nc = total(current, 'current');
  const contributions = reference.map((r, i) => {
    const e = Math.max(r / nr, epsilon);
    const a = Math.max(current[i]! / nc, epsilon);
    return (a - e) * Math.log(a / e);
  });
  return { psi: contributions.reduce((s, c) => s + c, 0), contributions };
}

/** PSI of a numeric feature: bins from `edges` if given (declared earlier from the reference), else reference quantiles. */
export function psi(
  reference: readonly number[],
  current: readonly number[],
  options: { bins?: number; edges?: readonly number[]; epsilon?: number } = {},
): PsiResult {
  finiteColumn(reference, 'reference');
  finiteColumn(current, 'current');
  const edges = options.edges ? [...options.edges] : quantileEdges(reference, options.bins ?? 10);
  if (edges.some((e, i) => !Number.isFinite(e) || (i > 0 && e <= edges[i - 1]!)))
    throw new StatsInputError('edges must be finite and strictly increasing', 'edges');
  return psiOfBinCounts(
    binCounts(reference, edges),
    binCounts(current, edges),
    edges,
    options.epsilon ?? DEFAULT_PSI_EPSILON,
  );
}

/** The PSI result of counts per bin on `edges` (the raw-value PSI and the sketch PSI differ only in how they count). */
export function psiOfBinCounts(
  ref: readonly number[],
  cur: readonly number[],
  edges: number[],
  epsilon: number,
): PsiResult {
  const nRef = ref.reduce((a, b) => a + b, 0);
  const nCur = cur.reduce((a, b) => a + b, 0);
  const { psi: value, contributions } = psiFromCounts(ref, cur, epsilon);
  return {
    psi: value,
    edges,
    epsilon,
    bins: ref.map((r, j) => ({
      lower: j === 0 ? -Infinity : edges[j - 1]!,
      upper: j === edges.length ? Infinity : edges[j]!,
      reference: r,
      current: cur[j]!,
      referenceShare: r / nRef,
      currentShare: cur[j]! / nCur,
      contribution: contributions[j]!,
    })),
  };
}
