/**
 * Two-sample Kolmogorov-Smirnov D = sup_x |F_ref(x) − F_cur(x)| (ties handled: both ECDFs step at a value before
 * they are compared), p-value from the Kolmogorov limit Q(√(nm/(n+m)) · D) with Q(λ) = 2 Σ_{k≥1} (−1)^{k−1}
 * e^{−2k²λ²} (Kolmogorov 1933; Smirnov 1948) — R's ks.test(exact = FALSE) and scipy's kstwobign;
 * conservative-ish for small samples, meant for the large samples of live traffic.
 */
import { StatsInputError } from './errors';
import { finiteColumn } from './validate';

const ascending = (a: number, b: number) => a - b;

/** Q(λ) = P(K > λ) for the Kolmogorov distribution (scipy.stats.kstwobign.sf). */
export function kolmogorovSf(lambda: number): number {
  if (Number.isNaN(lambda)) return Number.NaN;
  if (lambda <= 0) return 1;
  if (lambda < 1) {
    // K(λ) = √(2π)/λ Σ_{k≥1} exp(−(2k−1)²π²/(8λ²)): converges fast for small λ (no alternating cancellation)
    const c = (Math.PI * Math.PI) / (8 * lambda * lambda);
    let sum = 0;
    for (let k = 1; k <= 100; k++) {
      const term = Math.exp(-(2 * k - 1) * (2 * k - 1) * c);
      sum += term;
      if (term < 1e-17 * sum) break;
    }
    return 1 - (Math.sqrt(2 * Math.PI) / lambda) * sum;
  }
  let sum = 0;
  for (let k = 1; k <= 100; k++) {
    const term = Math.exp(-2 * k * k * lambda * lambda);
    sum += k % 2 === 1 ? term : -term;
    if (term < 1e-17 * Math.abs(sum)) break;
  }
  return Math.min(1, Math.max(0, 2 * sum));
}

export interface KsResult {
  /** D = sup |F_ref − F_cur|. */
  statistic: number;
  /** Asymptotic two-sided p-value Q(√(nm/(n+m))·D). */
  pValue: number;
  n: number;
  m: number;
  /** A value where the supremum is attained. */
  at: number;
}

/** Two-sample Kolmogorov-Smirnov test (two-sided, asymptotic p-value). */
export function ks2Sample(reference: readonly number[], current: readonly number[]): KsResult {
  if (reference.length === 0 || current.length === 0)
    throw new StatsInputError('KS needs two non-empty samples', reference.length === 0 ? 'reference' : 'current');
  finiteColumn(reference, 'reference');
  finiteColumn(current, 'current');
  const a = [...reference].sort(ascending);
  const b = [...current].sort(ascending);
  const n = a.length;
  const m = b.length;
  let i = 0;
  let j = 0;
  let d = 0;
  let at = a[0]!;
  while (i < n && j < m) {
    const x = Math.min(a[i]!, b[j]!);
    while (i < n && a[i]! === x) i++;
    while (j < m && b[j]! === x) j++;
    const diff = Math.abs(i / n - j / m);
    if (diff > d) {
      d = diff;
      at = x;
    }
  }
  // once one sample is exhausted its ECDF is 1 and the other's only rises towards 1: the gap only shrinks
  return { statistic: d, pValue: kolmogorovSf(Math.sqrt((n * m) / (n + m)) * d), n, m, at };
}
