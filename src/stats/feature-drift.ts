/**
 * Drift of one input feature, by the feature's type (docs/statistics.md):
 *
 *   discrete (binary, count, categorical codes): exact counts per value; Pearson χ² homogeneity of the reference and
 *     window counts, and PSI on the same counts. Decile bins are meaningless here: a 0/1 feature has one decile edge
 *     at 1 and every "1" of a sketch falls below it (PSI 2.5–2.8 with no drift, issue #22).
 *   continuous: two-sample KS, PSI on the reference's declared decile bins, and Pearson χ² on those bins.
 *
 * The PSI bound becomes a rule with a controlled false-alarm rate: PSI > maxPsi alarms only when the Pearson χ² on
 * the PSI's own bins also rejects in the window's Holm family. Under no shift PSI · nN/(n+N) and Pearson's χ² share
 * the χ²_{B−1} limit (Yurdakul 2018), and Pearson's is the better calibrated at small n (PSI's log ratio and ε floor
 * make an empty bin cost ~0.7); every alarm is then a Holm rejection, so the window's family-wise false-alarm rate
 * is at most α. Bins (or values) whose expected window count is below 5 are merged with a neighbour first
 * (Cochran's rule), so the χ² p-values hold at the window sizes the policy accepts.
 */
import { chiSquareHomogeneity, chiSquareSf, type ChiSquareResult } from './chi-square';
import { StatsInputError } from './errors';
import { conditionalChiSquarePValue } from './conditional-chi-square';
import { fisherExact2x2 } from './fisher-exact';
import { ks2Sample } from './ks';
import { binCounts, DEFAULT_PSI_EPSILON, psiFromCounts } from './psi';

export type FeatureType = 'continuous' | 'binary' | 'count' | 'categorical';

/** Distinct values beyond which a numeric column is treated as continuous when its type is not declared. */
export const MAX_DISCRETE_VALUES = 32;
/** Smallest expected window count per χ² cell (Cochran 1954). */
export const MIN_EXPECTED = 5;

/**
 * The type a numeric column looks like (the locked reference decides, the same for every window): only 0 and 1 →
 * binary; at most MAX_DISCRETE_VALUES distinct non-negative integers → count; that many integers with negatives →
 * categorical (codes); any non-integer value or more distinct values → continuous.
 */
export function inferFeatureType(values: readonly number[]): FeatureType {
  const distinct = new Set<number>();
  let nonNegative = true;
  for (const v of values) {
    distinct.add(v);
    // Non-integer values are measurements, not codes (the gateway counts only integer codes exactly).
    if (!Number.isInteger(v)) return 'continuous';
    if (v < 0) nonNegative = false;
    if (distinct.size > MAX_DISCRETE_VALUES) return 'continuous';
  }
  if ([...distinct].every((v) => v === 0 || v === 1)) return 'binary';
  return nonNegative ? 'count' : 'categorical';
}

/** How often each value occurs. */
export function valueCounts(values: readonly number[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const v of values) out.set(v, (out.get(v) ?? 0) + 1);
  return out;
}

/**
 * Adjacent cells merged until every cell's expected window count n·(r+c)/(N+n) is ≥ MIN_EXPECTED (the smallest
 * cell joins its smaller neighbour). Returns the merged counts and, per merged cell, the first original index.
 */
export function mergeSparseCells(
  reference: readonly number[],
  current: readonly number[],
): { reference: number[]; current: number[]; starts: number[] } {
  const N = reference.reduce((a, b) => a + b, 0);
  const n = current.reduce((a, b) => a + b, 0);
  const r = [...reference];
  const c = [...current];
  const starts = r.map((_, i) => i);
  const expected = (i: number) => (n * (r[i]! + c[i]!)) / (N + n);
  for (;;) {
    if (r.length < 2) break;
    let min = 0;
    for (let i = 1; i < r.length; i++) if (expected(i) < expected(min)) min = i;
    if (expected(min) >= MIN_EXPECTED) break;
    const left = min - 1;
    const right = min + 1;
    const j = left < 0 ? right : right >= r.length ? left : expected(left) <= expected(right) ? left : right;
    const [a, b] = j < min ? [j, min] : [min, j];
    r[a]! += r[b]!;
    c[a]! += c[b]!;
    r.splice(b, 1);
    c.splice(b, 1);
    starts.splice(b, 1);
  }
  return { reference: r, current: c, starts };
}

export interface TypedFeatureDrift {
  type: FeatureType;
  psi: number;
  /** Continuous: KS; discrete: χ² on the value counts (Fisher's exact test when two cells). Joins the Holm family. */
  test: 'ks' | 'chi-square' | 'fisher-exact';
  statistic: number;
  pValue: number;
  df?: number;
  /**
   * Pearson χ² on the PSI's cells (after merging sparse ones): the significance PSI must reach to alarm. Discrete
   * features: the same test as `test`. Null when fewer than two cells are left (the window is too small to judge).
   */
  psiTest: ChiSquareResult | null;
  /** The cells the PSI and χ² were computed on (values or bins after merging), for the evidence record. */
  cells: { labels: string[]; reference: number[]; current: number[] };
}

function chiOrNull(reference: readonly number[], current: readonly number[]): ChiSquareResult | null {
  try {
    const x = chiSquareHomogeneity(reference, current);
    return { statistic: x.statistic, df: x.df, pValue: x.pValue };
  } catch {
    return null;
  }
}

/**
 * Exactly valid p-values for discrete inputs, whose Pearson χ² has size α itself, not below it (1.05 % at 100 cases
 * over 20,000 no-shift windows, docs/benchmarks.md): two cells (a 0/1 input, or values merged down to two) get
 * Fisher's exact test; three or more the χ² referred to random splits of the pooled counts (conditional-chi-square.ts).
 * Both have size ≤ α, so a window's family-wise false-alarm rate stays ≤ α. The χ² statistic is kept for the record.
 */
function exactForTwoCells(
  reference: readonly number[],
  current: readonly number[],
  chi: ChiSquareResult | null,
): ChiSquareResult | null {
  if (!chi) return chi;
  if (reference.length !== 2) return { ...chi, pValue: conditionalChiSquarePValue(reference, current, chi.pValue) };
  return { ...chi, pValue: fisherExact2x2(reference[0]!, reference[1]!, current[0]!, current[1]!) };
}

/** Drift of a discrete feature from exact counts per value (reference and window). */
export function discreteDriftOfCounts(
  type: Exclude<FeatureType, 'continuous'>,
  reference: ReadonlyMap<number, number>,
  current: ReadonlyMap<number, number>,
  epsilon = DEFAULT_PSI_EPSILON,
): TypedFeatureDrift {
  const values = [...new Set([...reference.keys(), ...current.keys()])].sort((a, b) => a - b);
  if (values.length === 0) throw new StatsInputError('no values to compare', 'values');
  const merged = mergeSparseCells(
    values.map((v) => reference.get(v) ?? 0),
    values.map((v) => current.get(v) ?? 0),
  );
  const labels = merged.starts.map((s, i) => {
    const end = (merged.starts[i + 1] ?? values.length) - 1;
    return end === s ? String(values[s]) : `${values[s]}…${values[end]}`;
  });
  const chi = exactForTwoCells(merged.reference, merged.current, chiOrNull(merged.reference, merged.current));
  const psi = psiFromCounts(merged.reference, merged.current, epsilon).psi;
  return {
    type,
    psi,
    test: merged.reference.length === 2 ? 'fisher-exact' : 'chi-square',
    statistic: chi?.statistic ?? 0,
    pValue: chi?.pValue ?? 1,
    ...(chi ? { df: chi.df } : {}),
    psiTest: chi,
    cells: { labels, ...merged },
  };
}

/** Drift of a continuous feature on the reference's declared PSI edges: KS, PSI and Pearson χ² on merged bins. */
export function continuousDrift(
  reference: readonly number[],
  current: readonly number[],
  edges: readonly number[],
  epsilon = DEFAULT_PSI_EPSILON,
): TypedFeatureDrift {
  const ks = ks2Sample(reference, current);
  return {
    ...continuousDriftOfBins(binCounts(reference, edges), binCounts(current, edges), edges, epsilon),
    ...ksOf(ks),
  };
}

const ksOf = (ks: { statistic: number; pValue: number }) => ({
  test: 'ks' as const,
  statistic: ks.statistic,
  pValue: ks.pValue,
});

/**
 * The PSI part of a continuous feature's drift from counts per declared bin (the gateway's sketches give these);
 * the caller supplies the KS result.
 */
export function continuousDriftOfBins(
  reference: readonly number[],
  current: readonly number[],
  edges: readonly number[],
  epsilon = DEFAULT_PSI_EPSILON,
  ks: { statistic: number; pValue: number } = { statistic: 0, pValue: 1 },
): TypedFeatureDrift {
  const merged = mergeSparseCells(reference, current);
  const label = (j: number) => (j === 0 ? '-inf' : String(edges[j - 1]));
  const labels = merged.starts.map((s) => `[${label(s)}, …)`);
  return {
    type: 'continuous',
    psi: psiFromCounts(merged.reference, merged.current, epsilon).psi,
    ...ksOf(ks),
    psiTest: chiOrNull(merged.reference, merged.current),
    cells: { labels, ...merged },
  };
}

/** The χ² quantile q with P(χ²_df > q) = p (bisection on chiSquareSf). */
export function chiSquareQuantileUpper(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`p must be in (0, 1), got ${p}`);
  let lo = 0;
  let hi = df + 10 * Math.sqrt(2 * df) + 100;
  while (chiSquareSf(hi, df) > p) hi *= 2;
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (chiSquareSf(mid, df) > p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/**
 * The smallest window that can be judged against a PSI bound: every one of `bins` cells expects ≥ MIN_EXPECTED
 * cases, and a PSI of exactly maxPsi is significant at α (PSI · n ≈ χ²_{bins−1}, so n ≥ χ²_{bins−1, 1−α} / maxPsi).
 * Deciles, maxPsi 0.25, α 0.01: max(50, ⌈21.67 / 0.25⌉) = 87.
 */
export function minDriftWindow(maxPsi: number, alpha: number, bins = 10): number {
  return Math.max(MIN_EXPECTED * bins, Math.ceil(chiSquareQuantileUpper(alpha, bins - 1) / maxPsi));
}
