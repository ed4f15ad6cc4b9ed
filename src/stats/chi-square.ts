/**
 * Pearson chi-square for categorical features: goodness of fit against expected counts, or homogeneity of the
 * reference and current category counts (2 × k table, no continuity correction); p-value Q(df/2, χ²/2), the
 * regularized upper incomplete gamma function (Numerical Recipes §6.2: series for x < a + 1, Lentz continued
 * fraction otherwise).
 */
import { logGamma } from './beta';
import { StatsInputError } from './errors';
import { DEFAULT_PSI_EPSILON, psiFromCounts } from './psi';

function gammaSeries(a: number, x: number): number {
  // P(a, x) = e^{−x} x^a / Γ(a) Σ_{n≥0} x^n / (a (a+1) ··· (a+n))
  let ap = a;
  let del = 1 / a;
  let sum = del;
  for (let n = 0; n < 100000; n++) {
    ap += 1;
    del *= x / ap;
    sum += del;
    if (Math.abs(del) < Math.abs(sum) * 1e-16) return sum * Math.exp(-x + a * Math.log(x) - logGamma(a));
  }
  throw new Error(`incomplete gamma series did not converge (a=${a}, x=${x})`);
}

function gammaContinuedFraction(a: number, x: number): number {
  // Q(a, x) = e^{−x} x^a / Γ(a) · 1/(x + 1 − a − 1·(1 − a)/(x + 3 − a − 2·(2 − a)/(x + 5 − a − …))), modified Lentz
  const FPMIN = 1e-300;
  let b = x + 1 - a;
  let c = 1 / FPMIN;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 100000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < FPMIN) d = FPMIN;
    c = b + an / c;
    if (Math.abs(c) < FPMIN) c = FPMIN;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-16) return Math.exp(-x + a * Math.log(x) - logGamma(a)) * h;
  }
  throw new Error(`incomplete gamma continued fraction did not converge (a=${a}, x=${x})`);
}

/** P(a, x) = γ(a, x)/Γ(a), the regularized lower incomplete gamma function (scipy.special.gammainc). */
export function regularizedGammaP(a: number, x: number): number {
  if (!(a > 0) || !(x >= 0)) throw new RangeError(`incomplete gamma needs a > 0 and x ≥ 0 (a=${a}, x=${x})`);
  if (x === 0) return 0;
  if (x === Infinity) return 1;
  return x < a + 1 ? gammaSeries(a, x) : 1 - gammaContinuedFraction(a, x);
}

/** Q(a, x) = 1 − P(a, x), computed without cancellation in the upper tail (scipy.special.gammaincc). */
export function regularizedGammaQ(a: number, x: number): number {
  if (!(a > 0) || !(x >= 0)) throw new RangeError(`incomplete gamma needs a > 0 and x ≥ 0 (a=${a}, x=${x})`);
  if (x === 0) return 1;
  if (x === Infinity) return 0;
  return x < a + 1 ? 1 - gammaSeries(a, x) : gammaContinuedFraction(a, x);
}

/** P(χ²_df > x). */
export function chiSquareSf(x: number, df: number): number {
  if (!(df > 0)) throw new RangeError(`chi-square needs df > 0, got ${df}`);
  if (x <= 0) return 1;
  return regularizedGammaQ(df / 2, x / 2);
}

export interface ChiSquareResult {
  statistic: number;
  df: number;
  pValue: number;
}

/**
 * Pearson goodness of fit, Σ (O − E)²/E with df = k − 1 − ddof (scipy.stats.chisquare). Expected counts default
 * to uniform; given ones are rescaled to the observed total only if they differ from it by < 1e-8 relative.
 */
export function chiSquareGoodnessOfFit(
  observed: readonly number[],
  expected?: readonly number[],
  ddof = 0,
): ChiSquareResult {
  const k = observed.length;
  if (k < 2) throw new StatsInputError('chi-square needs at least two categories', 'observed');
  observed.forEach((o, i) => {
    if (!(Number.isFinite(o) && o >= 0))
      throw new StatsInputError('observed counts must be finite and non-negative', 'observed', i);
  });
  const total = observed.reduce((s, o) => s + o, 0);
  const exp = expected ? [...expected] : observed.map(() => total / k);
  if (exp.length !== k) throw new StatsInputError('expected and observed have different lengths', 'expected');
  if (exp.some((e) => !(e > 0 && Number.isFinite(e))))
    throw new StatsInputError('expected counts must be positive', 'expected');
  const expTotal = exp.reduce((s, e) => s + e, 0);
  if (Math.abs(expTotal - total) > 1e-8 * Math.max(total, expTotal)) {
    throw new StatsInputError(`expected counts sum to ${expTotal}, observed to ${total}`, 'expected');
  }
  const statistic = observed.reduce((s, o, i) => s + (o - exp[i]!) ** 2 / exp[i]!, 0);
  const df = k - 1 - ddof;
  if (df < 1) throw new StatsInputError(`no degrees of freedom left (k=${k}, ddof=${ddof})`, 'ddof');
  return { statistic, df, pValue: chiSquareSf(statistic, df) };
}

/**
 * Pearson chi-square test of homogeneity on the 2 × k table (reference counts, current counts) per category,
 * no continuity correction (scipy.stats.chi2_contingency(..., correction=False)). Categories empty in both
 * samples are dropped (they carry no information and would divide by zero); df = k' − 1.
 */
export function chiSquareHomogeneity(
  reference: readonly number[],
  current: readonly number[],
): ChiSquareResult & { categories: number } {
  if (reference.length !== current.length)
    throw new StatsInputError('reference and current need the same categories', 'categories');
  const keep = reference.map((r, i) => [r, current[i]!] as const).filter(([r, c]) => r + c > 0);
  keep.forEach(([r, c], i) => {
    if (!(Number.isFinite(r) && r >= 0 && Number.isFinite(c) && c >= 0))
      throw new StatsInputError('counts must be finite and non-negative', 'counts', i);
  });
  if (keep.length < 2) throw new StatsInputError('chi-square needs at least two non-empty categories', 'categories');
  const nr = keep.reduce((s, [r]) => s + r, 0);
  const nc = keep.reduce((s, [, c]) => s + c, 0);
  if (nr === 0 || nc === 0)
    throw new StatsInputError('both samples need observations', nr === 0 ? 'reference' : 'current');
  const n = nr + nc;
  let statistic = 0;
  for (const [r, c] of keep) {
    const col = r + c;
    const er = (nr * col) / n;
    const ec = (nc * col) / n;
    statistic += (r - er) ** 2 / er + (c - ec) ** 2 / ec;
  }
  const df = keep.length - 1;
  return { statistic, df, pValue: chiSquareSf(statistic, df), categories: keep.length };
}

export interface CategoricalDrift {
  categories: string[];
  reference: number[];
  current: number[];
  chiSquare: ChiSquareResult;
  psi: number;
}

/** Drift of a categorical feature: counts per category (union of both samples, sorted), chi-square and PSI. */
export function categoricalDrift(
  reference: readonly string[],
  current: readonly string[],
  epsilon = DEFAULT_PSI_EPSILON,
): CategoricalDrift {
  return categoricalDriftOfCounts(countCategories(reference), countCategories(current), epsilon);
}

/** How often each category occurs. */
export function countCategories(xs: readonly string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const x of xs) out.set(x, (out.get(x) ?? 0) + 1);
  return out;
}

/** categoricalDrift from counts per category (e.g. the gateway's site counts, which keep no case-level values). */
export function categoricalDriftOfCounts(
  reference: ReadonlyMap<string, number>,
  current: ReadonlyMap<string, number>,
  epsilon = DEFAULT_PSI_EPSILON,
): CategoricalDrift {
  const categories = [...new Set([...reference.keys(), ...current.keys()])].sort();
  const ref = categories.map((c) => reference.get(c) ?? 0);
  const cur = categories.map((c) => current.get(c) ?? 0);
  return {
    categories,
    reference: ref,
    current: cur,
    chiSquare: chiSquareHomogeneity(ref, cur),
    psi: psiFromCounts(ref, cur, epsilon).psi,
  };
}
