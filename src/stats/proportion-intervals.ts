import { betaQuantile } from './beta';
import { twoSidedZ } from './normal';
import { assertLevel } from './validate';

export type ProportionMethod = 'wilson' | 'clopper-pearson';

export interface Interval {
  lower: number;
  upper: number;
  /** Two-sided confidence level, e.g. 0.95. */
  level: number;
  method: string;
}

function checkCounts(x: number, n: number): void {
  if (!(Number.isInteger(x) && Number.isInteger(n) && n > 0 && x >= 0 && x <= n)) {
    throw new RangeError(`proportion interval needs integers 0 ≤ x ≤ n, n > 0 (x=${x}, n=${n})`);
  }
}

/** Wilson (1927) score interval without continuity correction (Newcombe 1998, method 3). */
export function wilsonInterval(x: number, n: number, level = 0.95): Interval {
  checkCounts(x, n);
  assertLevel(level);
  const z = twoSidedZ(level);
  const z2 = z * z;
  const center = (x + z2 / 2) / (n + z2);
  const half = (z / (n + z2)) * Math.sqrt((x * (n - x)) / n + z2 / 4);
  // at x = 0 or x = n the bound is exactly 0 or 1; don't let rounding leave 1e-17
  return {
    lower: x === 0 ? 0 : Math.max(0, center - half),
    upper: x === n ? 1 : Math.min(1, center + half),
    level,
    method: 'wilson',
  };
}

/** Clopper-Pearson (1934) "exact" interval from beta quantiles (Newcombe 1998, method 5). */
export function clopperPearsonInterval(x: number, n: number, level = 0.95): Interval {
  checkCounts(x, n);
  assertLevel(level);
  const alpha = 1 - level;
  return {
    lower: x === 0 ? 0 : betaQuantile(alpha / 2, x, n - x + 1),
    upper: x === n ? 1 : betaQuantile(1 - alpha / 2, x + 1, n - x),
    level,
    method: 'clopper-pearson',
  };
}

export function proportionInterval(x: number, n: number, level = 0.95, method: ProportionMethod = 'wilson'): Interval {
  return method === 'wilson' ? wilsonInterval(x, n, level) : clopperPearsonInterval(x, n, level);
}
