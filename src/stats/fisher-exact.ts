/**
 * Fisher's exact test of a 2×2 table, two-sided as R's fisher.test: the probability, given both margins, of every
 * table no more probable than the observed one (relative tolerance 1e-7). Exact, hence never above α under the null.
 */
import { logGamma } from './beta';
import { StatsInputError } from './errors';

const logChoose = (n: number, k: number) => logGamma(n + 1) - logGamma(k + 1) - logGamma(n - k + 1);

/** Two-sided p-value of the table [[a, b], [c, d]] (non-negative integer counts). */
export function fisherExact2x2(a: number, b: number, c: number, d: number): number {
  for (const [name, v] of Object.entries({ a, b, c, d }))
    if (!Number.isInteger(v) || v < 0) throw new StatsInputError(`${name} must be a non-negative integer count`, name);
  const r1 = a + b;
  const r2 = c + d;
  const c1 = a + c;
  const n = r1 + r2;
  const lo = Math.max(0, c1 - r2);
  const hi = Math.min(r1, c1);
  if (lo === hi) return 1;
  const logP = (x: number) => logChoose(r1, x) + logChoose(r2, c1 - x) - logChoose(n, c1);
  const observed = logP(a);
  let p = 0;
  for (let x = lo; x <= hi; x++) {
    const l = logP(x);
    if (l <= observed + 1e-7) p += Math.exp(l);
  }
  return Math.min(1, p);
}
