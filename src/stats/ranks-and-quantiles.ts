/**
 * Statistics of the shadow comparison beyond those in drift.ts (agreement, κ, Pearson, PSI, KS, χ²):
 *   Spearman ρ  Pearson correlation of the two samples' ranks, ties given their average rank (mid-ranks), as
 *               scipy.stats.spearmanr and R's cor(method = "spearman") compute it.
 *   Percentiles linear interpolation between order statistics (Hyndman & Fan 1996 type 7; numpy's default,
 *               R's quantile(type = 7)): the q-quantile of x_(1) ≤ … ≤ x_(n) is x_(⌊h⌋) + (h − ⌊h⌋)(x_(⌊h⌋+1) − x_(⌊h⌋))
 *               with h = (n − 1)q + 1.
 */
import { scoreCorrelation } from './agreement';
import { StatsInputError } from './errors';

/** Mid-ranks (1-based; tied values share the mean of the ranks they span). */
export function midRanks(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => values[a]! - values[b]!);
  const ranks = new Float64Array(n);
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && values[order[j + 1]!] === values[order[i]!]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k]!] = rank;
    i = j + 1;
  }
  return ranks;
}

/** Spearman's rank correlation (mid-ranks for ties); null when either sample is constant. */
export function spearmanCorrelation(a: ArrayLike<number>, b: ArrayLike<number>): number | null {
  if (a.length !== b.length || a.length < 2)
    throw new StatsInputError('rank correlation needs two equal-length samples of ≥ 2', 'scores');
  for (const [name, xs] of [
    ['a', a],
    ['b', b],
  ] as const) {
    for (let i = 0; i < xs.length; i++)
      if (!Number.isFinite(xs[i]!)) throw new StatsInputError(`${name}: non-finite value at row ${i}`, name, i);
  }
  return scoreCorrelation(Array.from(midRanks(a)), Array.from(midRanks(b)));
}

/** The q-quantile (0 ≤ q ≤ 1) by linear interpolation (type 7) of finite values. */
export function quantile(values: ArrayLike<number>, q: number): number {
  if (values.length === 0) throw new StatsInputError('quantile of an empty sample', 'values');
  if (!(q >= 0 && q <= 1)) throw new StatsInputError(`quantile level ${q} is outside [0, 1]`, 'q');
  const sorted = Float64Array.from(values).sort();
  if (!Number.isFinite(sorted[0]!) || !Number.isFinite(sorted[sorted.length - 1]!) || sorted.some(Number.isNaN)) {
    throw new StatsInputError('quantile needs finite values', 'values');
  }
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

/** p50 / p95 / p99 / max of measured durations (one per call); zeros when nothing was measured. */
export function latencySummary(
  durations: ArrayLike<number>,
  batchSize: number,
): { calls: number; batchSize: number; p50: number; p95: number; p99: number; max: number } {
  if (durations.length === 0) return { calls: 0, batchSize, p50: 0, p95: 0, p99: 0, max: 0 };
  return {
    calls: durations.length,
    batchSize,
    p50: quantile(durations, 0.5),
    p95: quantile(durations, 0.95),
    p99: quantile(durations, 0.99),
    max: quantile(durations, 1),
  };
}
