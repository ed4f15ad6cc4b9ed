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
  // At S = 0, log M = ½ log(ρ/(V+ρ)) ≤ 0 < log(1/α), so the root is positive; the two-sided boundary is above it.
  const hi = Math.sqrt((v + rho) * (2 * target + Math.log(1 + v / rho))) + 1;
  return bisect((s) => oneSidedNormalMixtureLog(s, v, rho) - target, hi);
}

/**
 * Weight of the point mass in the planned mixture. The remaining 10 % stays on the half-normal, so the test keeps
 * power one (any harm is caught eventually) if a canary runs far past its plan, at a cost of log(1/0.9) ≈ 0.11 in
 * the log threshold where the point mass is best (docs/benchmarks.md, Session 8).
 */
export const PLANNED_POINT_WEIGHT = 0.9;

/**
 * Where the point mass is tuned, as a fraction of the planned information V*. A point mass tuned at V_t has a
 * boundary (√(V_t/V) + √(V/V_t))/2 times the lowest possible at V (below). At V_t = V* / 2 the mixture (weight
 * included) is at most 7 % above that lowest boundary from V* / 4 to V* (a first step of a quarter of the plan to
 * its end) and about 25 % from V* / 8 to 2V*; the half-normal tuned at V* is 13 % above it at V* and 23 % at V* / 4,
 * and is the tighter of the two only past about 1.3 V* (α ≈ 0.05; test/unit/sequential-planned-mixture.test.ts).
 */
export const PLANNED_POINT_AT = 0.5;

/**
 * The planned mixture: weight w on one λ, the rest on the half-normal above.
 *
 *   M(S, V) = w · exp(λS − λ²V/2) + (1 − w) · M_half-normal(S, V; ρ),   λ = sqrt(2 log(1/(wα)) / V_t).
 *
 * A convex combination of nonnegative supermartingales that start at 1 is one too, so Ville's inequality gives
 * P(∃ time: M ≥ 1/α) ≤ α exactly as for the half-normal. Why a point mass: for any mixing distribution
 * M(S, V) ≤ sup_λ exp(λS − λ²V/2) = exp(S²/(2V)), so no anytime-valid boundary at V is below sqrt(2V log(1/α)),
 * and the point mass at λ = sqrt(2 log(1/α)/V_t) attains it at V_t, whatever the true harm; the half-normal pays a
 * mixing cost of about ½ log(V/ρ) instead. Alone, the point mass is Wald's SPRT boundary S ≥ log(1/α)/λ + λV/2, a
 * line that Brownian motion crosses with probability exactly e^(−2·(log(1/α)/λ)·(λ/2)) = α (the linear-boundary
 * first-passage law), so Ville is tight for it. λ and ρ come from the plan, fixed before the canary, never the data.
 */
export interface PlannedMixture {
  /** λ of the point mass, in units of the drop (the likelihood ratio for a drop of λ above the margin). */
  lambda: number;
  /** w, its weight. */
  weight: number;
  /** ρ of the half-normal part (as `mixturePrecision`). */
  rho: number;
}

/**
 * The planned mixture for planned information V* at level α: the point mass tuned at `pointAt`·V*, its weight
 * `weight`, the half-normal's ρ tuned at V* (as `mixturePrecision`).
 */
export function plannedMixture(
  targetV: number,
  alpha: number,
  { pointAt = PLANNED_POINT_AT, weight = PLANNED_POINT_WEIGHT }: { pointAt?: number; weight?: number } = {},
): PlannedMixture {
  const rho = mixturePrecision(targetV, alpha);
  if (!(weight > 0 && weight <= 1)) throw new RangeError(`plannedMixture: weight must be in (0, 1], got ${weight}`);
  if (!(pointAt > 0 && Number.isFinite(pointAt)))
    throw new RangeError(`plannedMixture: pointAt must be positive, got ${pointAt}`);
  return { lambda: Math.sqrt((2 * Math.log(1 / (weight * alpha))) / (pointAt * targetV)), weight, rho };
}

/** log M(S, V) of the planned mixture: the log e-value of the sequential test under it. */
export function plannedMixtureLog(s: number, v: number, m: PlannedMixture): number {
  if (!(v >= 0)) throw new RangeError(`planned mixture needs V ≥ 0 (V=${v})`);
  const point = Math.log(m.weight) + m.lambda * s - (m.lambda * m.lambda * v) / 2;
  if (m.weight === 1) return point;
  const spread = Math.log1p(-m.weight) + oneSidedNormalMixtureLog(s, v, m.rho);
  const top = Math.max(point, spread);
  return top + Math.log(Math.exp(point - top) + Math.exp(spread - top));
}

/** The boundary u(V) of the planned mixture: the S at which its log M = log(1/α). */
export function plannedMixtureBoundary(v: number, alpha: number, m: PlannedMixture): number {
  assertAlpha(alpha);
  const target = Math.log(1 / alpha);
  // The point mass alone reaches 1/α at S = (log(1/(wα)) + λ²V/2)/λ, so M ≥ 1/α there; at S = 0, M ≤ 1 < 1/α.
  const hi = (Math.log(1 / (m.weight * alpha)) + (m.lambda * m.lambda * v) / 2) / m.lambda + 1;
  return bisect((s) => plannedMixtureLog(s, v, m) - target, hi);
}

/** The root in (0, hi] of an increasing f with f(0) < 0, by bisection. */
function bisect(f: (s: number) => number, start: number): number {
  let lo = 0;
  let hi = start;
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
