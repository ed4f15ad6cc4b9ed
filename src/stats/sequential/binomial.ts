/**
 * An exact, anytime-valid confidence sequence for one binomial proportion: the beta-binomial mixture martingale
 * (Robbins 1970, "Statistical methods related to the law of the iterated logarithm", Ann. Math. Statist. 41(5);
 * Howard, Ramdas, McAuliffe & Sekhon 2021, Ann. Statist. 49(2), §3 "beta-binomial" boundaries).
 *
 * For Bernoulli(p) outcomes, after n trials with x successes, mixing the likelihood ratio over a Beta(a, b) prior on
 * the alternative gives
 *
 *   M_n(p) = B(a + x, b + n − x) / B(a, b) / (p^x (1 − p)^(n − x)),
 *
 * a nonnegative martingale with M_0 = 1 under the true p. By Ville's inequality P(∃n: M_n(p) ≥ 1/α) ≤ α, so
 * {p : M_n(p) < 1/α} covers p at every n at once with probability ≥ 1 − α — exactly, not asymptotically, and
 * however often and irregularly it is looked at. Unlike the normal-mixture test it needs no minimum count: with
 * few trials the set is simply wide. Used by the catastrophic-failure floor (src/judging/cohort-guardrails.ts).
 */
import { StatsInputError } from '../errors';
import { logGamma } from '../beta';

const logBeta = (a: number, b: number): number => logGamma(a) + logGamma(b) - logGamma(a + b);

/** log M_n(p) of the Beta(a, b) mixture: the log e-value against "the proportion is p". */
export function betaBinomialLogE(x: number, n: number, p: number, a = 1, b = 1): number {
  checkCounts(x, n);
  if (!(p >= 0 && p <= 1)) throw new StatsInputError(`p must be in [0, 1], got ${p}`, 'p');
  const logLik = (x > 0 ? x * Math.log(p) : 0) + (n - x > 0 ? (n - x) * Math.log1p(-p) : 0);
  return logBeta(a + x, b + n - x) - logBeta(a, b) - logLik;
}

export interface ProportionBounds {
  /** Successes and trials the bounds are for. */
  x: number;
  n: number;
  lower: number;
  upper: number;
  /** Level: the bounds hold at every n simultaneously with probability ≥ 1 − alpha (two-sided set). */
  alpha: number;
}

/**
 * The (1 − α) confidence sequence {p : M_n(p) < 1/α} at (x, n): an interval, since log M_n(p) is convex in p
 * with its minimum at p = x/n. Bisection on each side to 1e-10. n = 0 gives [0, 1].
 */
export function binomialConfidenceSequence(x: number, n: number, alpha: number, a = 1, b = 1): ProportionBounds {
  checkCounts(x, n);
  if (!(alpha > 0 && alpha < 1)) throw new StatsInputError(`alpha must be in (0, 1), got ${alpha}`, 'alpha');
  if (n === 0) return { x, n, lower: 0, upper: 1, alpha };
  const target = Math.log(1 / alpha);
  const f = (p: number) => betaBinomialLogE(x, n, p, a, b) - target;
  const hat = x / n;
  // f(hat) ≤ 0 always (the mixture cannot beat the maximum likelihood); f → ∞ at 0 (x > 0) and 1 (x < n).
  const solve = (inside: number, outside: number): number => {
    let lo = inside;
    let hi = outside;
    for (let i = 0; i < 200 && Math.abs(hi - lo) > 1e-10; i++) {
      const mid = (lo + hi) / 2;
      if (f(mid) < 0) lo = mid;
      else hi = mid;
    }
    return lo;
  };
  const lower = x === 0 || f(0) < 0 ? 0 : solve(hat, 0);
  const upper = x === n || f(1) < 0 ? 1 : solve(hat, 1);
  return { x, n, lower, upper, alpha };
}

function checkCounts(x: number, n: number): void {
  if (!Number.isInteger(x) || !Number.isInteger(n) || x < 0 || n < 0 || x > n)
    throw new StatsInputError(`need integers 0 ≤ x ≤ n (got ${x}/${n})`, 'counts');
}
