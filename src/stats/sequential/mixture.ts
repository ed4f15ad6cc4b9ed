/**
 * The one-sided normal-mixture uniform boundary (Robbins 1970; in the form of Howard, Ramdas, McAuliffe & Sekhon
 * 2021, "Time-uniform, nonparametric, nonasymptotic confidence sequences", Ann. Statist. 49(2):1055–1080, §3,
 * "normal mixture" boundaries; the same formulas as their reference implementation `confseq`).
 *
 * For a process S with intrinsic time ("information") V such that exp(λS − λ²V/2) is a nonnegative
 * supermartingale for every λ ≥ 0 — exactly so for Brownian motion S = W(V), asymptotically for the sums that
 * the sequential tests here feed it — mix λ over a half-normal with precision ρ:
 *
 *   M(S, V) = 2 ∫₀^∞ exp(λS − λ²V/2) N(λ; 0, 1/ρ) dλ = sqrt(4ρ / (V + ρ)) · exp(S² / (2(V + ρ))) · Φ(S / sqrt(V + ρ)).
 *
 * M starts at 1 (at S = V = 0) and stays a nonnegative supermartingale, so by Ville's inequality
 * P(∃ time: M ≥ 1/α) ≤ α — however often, and however irregularly, it is looked at. The boundary u(V) is the S
 * with log M(S, V) = log(1/α); M is increasing in S, so the crossing event {S ≥ u(V)} is {M ≥ 1/α}.
 *
 * ρ sets where the boundary is tightest: Howard et al.'s choice for a target intrinsic time V* is
 * ρ = V* / (2 log(1/(2α)) + log(1 + 2 log(1/(2α)))) (the two-sided optimum at 2α, as `confseq` does for one side).
 * ρ must be fixed before the data are seen; any fixed ρ > 0 gives a valid boundary.
 */
import { normalCdf } from '../normal';

/** log Φ(z), accurate far into the lower tail (where Φ itself underflows). */
export function logNormalCdf(z: number): number {
  if (z > -30) return Math.log(normalCdf(z));
  // Φ(z) = φ(z)/(−z) · (1 − 1/z² + 3/z⁴ − 15/z⁶ + …) for z → −∞
  const z2 = z * z;
  return (
    -0.5 * z2 - 0.5 * Math.log(2 * Math.PI) - Math.log(-z) + Math.log1p(-1 / z2 + 3 / (z2 * z2) - 15 / (z2 * z2 * z2))
  );
}

/** ρ that makes the one-sided boundary at level α tightest near intrinsic time `targetV` (Howard et al. 2021). */
export function mixturePrecision(targetV: number, alpha: number): number {
  if (!(targetV > 0 && Number.isFinite(targetV)))
    throw new RangeError(`mixturePrecision: target information must be positive and finite, got ${targetV}`);
  assertAlpha(alpha);
  const l = 2 * Math.log(1 / (2 * alpha));
  return targetV / (l + Math.log(1 + l));
}

/** log M(S, V) of the one-sided normal mixture with precision ρ: the log e-value of the sequential test. */
export function oneSidedNormalMixtureLog(s: number, v: number, rho: number): number {
  if (!(v >= 0) || !(rho > 0)) throw new RangeError(`normal mixture needs V ≥ 0 and ρ > 0 (V=${v}, ρ=${rho})`);
  const vr = v + rho;
  return 0.5 * Math.log((4 * rho) / vr) + (s * s) / (2 * vr) + logNormalCdf(s / Math.sqrt(vr));
}

/** The boundary u(V): the S at which log M(S, V) = log(1/α). Bisection; M is increasing in S. */
export function oneSidedNormalMixtureBoundary(v: number, alpha: number, rho: number): number {
  assertAlpha(alpha);
  const target = Math.log(1 / alpha);
  const f = (s: number) => oneSidedNormalMixtureLog(s, v, rho) - target;
  // At S = 0, log M = ½ log(ρ/(V+ρ)) ≤ 0 < log(1/α), so the root is positive.
  let lo = 0;
  let hi = Math.sqrt((v + rho) * (2 * target + Math.log(1 + v / rho))) + 1; // the two-sided boundary, always above
  while (f(hi) < 0) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-12 * Math.max(1, hi); i++) {
    const mid = (lo + hi) / 2;
    if (f(mid) < 0) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

function assertAlpha(alpha: number): void {
  if (!(alpha > 0 && alpha < 0.5)) throw new RangeError(`alpha must be in (0, 0.5), got ${alpha}`);
}
