/**
 * Standard normal distribution. Φ by its Taylor series (all terms positive, no cancellation) for |x| < 3 and
 * the Laplace continued fraction for the tail; Φ⁻¹ by Acklam's rational approximation polished with two
 * Halley steps against that Φ, so both are accurate to ~1e-15 relative over the range that matters.
 */
const SQRT_2PI = Math.sqrt(2 * Math.PI);

export function normalPdf(x: number): number {
  return Math.exp(-0.5 * x * x) / SQRT_2PI;
}

/** Q(x) = 1 − Φ(x) for x ≥ 3 by the continued fraction φ(x) / (x + 1/(x + 2/(x + 3/(x + …)))). */
function tailFraction(x: number): number {
  let t = x;
  for (let k = 200; k >= 1; k--) t = x + k / t;
  return normalPdf(x) / t;
}

/** Φ(x), the standard normal CDF. */
export function normalCdf(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  if (x >= 3) return x > 40 ? 1 : 1 - tailFraction(x);
  if (x <= -3) return x < -40 ? 0 : tailFraction(-x);
  // Φ(x) = 1/2 + φ(x) Σ x^(2k+1) / (1·3·5···(2k+1))
  const x2 = x * x;
  let term = x;
  let sum = x;
  for (let k = 1; k < 300; k++) {
    term *= x2 / (2 * k + 1);
    sum += term;
    if (Math.abs(term) <= 1e-17 * Math.abs(sum)) break;
  }
  return 0.5 + normalPdf(x) * sum;
}

/** 1 − Φ(x) without cancellation in the upper tail. */
export function normalUpperTail(x: number): number {
  return normalCdf(-x);
}

const A = [
  -3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1,
  2.506628277459239,
];
const B = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
const C = [
  -7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968,
  2.938163982698783,
];
const D = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];

/** Φ⁻¹(p). Returns ±Infinity at p = 1 / 0; throws on p outside [0, 1]. */
export function normalQuantile(p: number): number {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`normalQuantile: p must be in [0, 1], got ${p}`);
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  const pLow = 0.02425;
  let x: number;
  if (p < pLow) {
    const q = Math.sqrt(-2 * Math.log(p));
    x =
      (((((C[0]! * q + C[1]!) * q + C[2]!) * q + C[3]!) * q + C[4]!) * q + C[5]!) /
      ((((D[0]! * q + D[1]!) * q + D[2]!) * q + D[3]!) * q + 1);
  } else if (p <= 1 - pLow) {
    const q = p - 0.5;
    const r = q * q;
    x =
      ((((((A[0]! * r + A[1]!) * r + A[2]!) * r + A[3]!) * r + A[4]!) * r + A[5]!) * q) /
      (((((B[0]! * r + B[1]!) * r + B[2]!) * r + B[3]!) * r + B[4]!) * r + 1);
  } else {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    x =
      -(((((C[0]! * q + C[1]!) * q + C[2]!) * q + C[3]!) * q + C[4]!) * q + C[5]!) /
      ((((D[0]! * q + D[1]!) * q + D[2]!) * q + D[3]!) * q + 1);
  }
  for (let i = 0; i < 2; i++) {
    // Halley step on e = Φ(x) − p, evaluated in the smaller tail to keep the residual precise
    const e = x < 0 ? normalCdf(x) - p : 1 - p - normalUpperTail(x);
    const u = e * SQRT_2PI * Math.exp((x * x) / 2);
    x = x - u / (1 + (x * u) / 2);
  }
  return x;
}

/** Two-sided critical value z_{1−(1−level)/2}. */
export function twoSidedZ(level: number): number {
  return normalQuantile(1 - (1 - level) / 2);
}
