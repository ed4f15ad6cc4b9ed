/**
 * Input drift and shadow agreement, judged against the locked validation reference.
 *
 *   PSI  Population Stability Index, Σ (a_i − e_i) ln(a_i / e_i) over bins declared from the reference (its
 *        quantiles, so each bin holds ~1/B of the reference), with empty shares floored at ε. PSI is the
 *        symmetrised Kullback-Leibler (Jeffreys) divergence of the binned distributions. Conventional reading
 *        (Siddiqi 2006, Credit Risk Scorecards; Yurdakul 2018, "Statistical properties of the population
 *        stability index"): < 0.1 stable, 0.1–0.25 moderate shift, > 0.25 major shift.
 *   KS   two-sample Kolmogorov-Smirnov D = sup_x |F_ref(x) − F_cur(x)| (ties handled: both ECDFs step at a value
 *        before they are compared), p-value from the Kolmogorov limit Q(√(nm/(n+m)) · D) with
 *        Q(λ) = 2 Σ_{k≥1} (−1)^{k−1} e^{−2k²λ²} (Kolmogorov 1933; Smirnov 1948) — R's ks.test(exact = FALSE)
 *        and scipy's kstwobign; conservative-ish for small samples, meant for the large samples of live traffic.
 *   χ²   Pearson chi-square for categorical features: goodness of fit against expected counts, or homogeneity
 *        of the reference and current category counts (2 × k table, no continuity correction); p-value
 *        Q(df/2, χ²/2), the regularized upper incomplete gamma function (Numerical Recipes §6.2: series for
 *        x < a + 1, Lentz continued fraction otherwise).
 *   κ    Cohen's kappa for the shadow stage's agreement at the operating threshold (src/provenance/kappa.ts).
 */
import { cohensKappaFromTable, KappaError } from '../provenance/kappa';
import { logGamma } from './beta';
import { StatsInputError } from './errors';

function finiteColumn(values: readonly number[], column: string): void {
  values.forEach((v, i) => {
    if (!Number.isFinite(v))
      throw new StatsInputError(
        `${column}: non-finite value ${v} at row ${i}; count missing values separately`,
        column,
        i,
      );
  });
}

const ascending = (a: number, b: number) => a - b;

// ---------------------------------------------------------------------------------------------------------------
// PSI

export const DEFAULT_PSI_EPSILON = 1e-4;

export interface PsiBin {
  /** [lower, upper): −Infinity / +Infinity at the ends. */
  lower: number;
  upper: number;
  reference: number;
  current: number;
  referenceShare: number;
  currentShare: number;
  /** (a − e) ln(a / e) after flooring the shares at ε. */
  contribution: number;
}

export interface PsiResult {
  psi: number;
  /** Interior cut points declared from the reference (ascending, distinct). */
  edges: number[];
  epsilon: number;
  bins: PsiBin[];
}

/**
 * Interior cut points at the reference's i/B quantiles (the order statistic at ⌊i·n/B⌋), duplicates dropped so
 * heavy ties give fewer, wider bins rather than empty ones. Declare these once from the locked reference and
 * store them with it: later windows are binned on the same edges.
 */
export function quantileEdges(reference: readonly number[], bins = 10): number[] {
  if (!Number.isInteger(bins) || bins < 2) throw new StatsInputError('PSI needs at least 2 bins', 'bins');
  if (reference.length === 0) throw new StatsInputError('reference is empty', 'reference');
  finiteColumn(reference, 'reference');
  const sorted = [...reference].sort(ascending);
  const edges: number[] = [];
  for (let i = 1; i < bins; i++) {
    const e = sorted[Math.floor((i * sorted.length) / bins)]!;
    if (e > sorted[0]! && (edges.length === 0 || e > edges[edges.length - 1]!)) edges.push(e);
  }
  return edges;
}

/** Counts per bin [e_{j−1}, e_j) for the given interior edges (bins = edges.length + 1). */
export function binCounts(values: readonly number[], edges: readonly number[]): number[] {
  const counts = new Array<number>(edges.length + 1).fill(0);
  for (const v of values) {
    let lo = 0;
    let hi = edges.length; // first edge > v
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (edges[mid]! <= v) lo = mid + 1;
      else hi = mid;
    }
    counts[lo]! += 1;
  }
  return counts;
}

/** PSI from counts per bin (or per category) of the reference and the current window. */
export function psiFromCounts(
  reference: readonly number[],
  current: readonly number[],
  epsilon = DEFAULT_PSI_EPSILON,
): { psi: number; contributions: number[] } {
  if (reference.length !== current.length || reference.length === 0)
    throw new StatsInputError('PSI needs the same non-empty bins for both samples', 'bins');
  if (!(epsilon > 0 && epsilon < 1)) throw new StatsInputError('epsilon must be in (0, 1)', 'epsilon');
  const total = (xs: readonly number[], name: string) => {
    let t = 0;
    xs.forEach((x, i) => {
      if (!(Number.isFinite(x) && x >= 0))
        throw new StatsInputError(`${name}: counts must be finite and non-negative`, name, i);
      t += x;
    });
    if (t === 0) throw new StatsInputError(`${name}: no observations`, name);
    return t;
  };
  const nr = total(reference, 'reference');
  const nc = total(current, 'current');
  const contributions = reference.map((r, i) => {
    const e = Math.max(r / nr, epsilon);
    const a = Math.max(current[i]! / nc, epsilon);
    return (a - e) * Math.log(a / e);
  });
  return { psi: contributions.reduce((s, c) => s + c, 0), contributions };
}

/** PSI of a numeric feature: bins from `edges` if given (declared earlier from the reference), else reference quantiles. */
export function psi(
  reference: readonly number[],
  current: readonly number[],
  options: { bins?: number; edges?: readonly number[]; epsilon?: number } = {},
): PsiResult {
  finiteColumn(reference, 'reference');
  finiteColumn(current, 'current');
  const edges = options.edges ? [...options.edges] : quantileEdges(reference, options.bins ?? 10);
  if (edges.some((e, i) => !Number.isFinite(e) || (i > 0 && e <= edges[i - 1]!)))
    throw new StatsInputError('edges must be finite and strictly increasing', 'edges');
  return psiOfBinCounts(
    binCounts(reference, edges),
    binCounts(current, edges),
    edges,
    options.epsilon ?? DEFAULT_PSI_EPSILON,
  );
}

/** The PSI result of counts per bin on `edges` (the raw-value PSI and the sketch PSI differ only in how they count). */
export function psiOfBinCounts(
  ref: readonly number[],
  cur: readonly number[],
  edges: number[],
  epsilon: number,
): PsiResult {
  const nRef = ref.reduce((a, b) => a + b, 0);
  const nCur = cur.reduce((a, b) => a + b, 0);
  const { psi: value, contributions } = psiFromCounts(ref, cur, epsilon);
  return {
    psi: value,
    edges,
    epsilon,
    bins: ref.map((r, j) => ({
      lower: j === 0 ? -Infinity : edges[j - 1]!,
      upper: j === edges.length ? Infinity : edges[j]!,
      reference: r,
      current: cur[j]!,
      referenceShare: r / nRef,
      currentShare: cur[j]! / nCur,
      contribution: contributions[j]!,
    })),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Kolmogorov-Smirnov

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

// ---------------------------------------------------------------------------------------------------------------
// Incomplete gamma and chi-square

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

// ---------------------------------------------------------------------------------------------------------------
// Shadow agreement at the operating threshold

export interface AgreementCounts {
  /** Both models alert. */
  both: number;
  candidateOnly: number;
  productionOnly: number;
  /** Neither alerts. */
  neither: number;
}

export interface ShadowAgreement {
  cases: number;
  agreement: number;
  /** Cohen's κ; null when undefined (both models made the same single call on every case). */
  kappa: number | null;
  kappaStandardError: number | null;
  expectedAgreement: number | null;
}

/** Agreement rate and Cohen's κ of candidate vs production alerts (rows: candidate, columns: production). */
export function shadowAgreement(c: AgreementCounts): ShadowAgreement {
  const table = [
    [c.both, c.candidateOnly],
    [c.productionOnly, c.neither],
  ];
  const cases = c.both + c.candidateOnly + c.productionOnly + c.neither;
  if (!(cases > 0)) throw new StatsInputError('no shadow cases', 'cases');
  try {
    const k = cohensKappaFromTable(table);
    return {
      cases,
      agreement: k.observedAgreement,
      kappa: k.kappa,
      kappaStandardError: k.standardError,
      expectedAgreement: k.expectedAgreement,
    };
  } catch (err) {
    if (err instanceof KappaError && /undefined/.test(err.message)) {
      return {
        cases,
        agreement: (c.both + c.neither) / cases,
        kappa: null,
        kappaStandardError: null,
        expectedAgreement: 1,
      };
    }
    throw new StatsInputError(err instanceof Error ? err.message : String(err), 'counts');
  }
}

/** Agreement counts from the two models' scores at one operating threshold (alert = score ≥ threshold). */
export function agreementAtThreshold(
  candidate: readonly number[],
  production: readonly number[],
  threshold: number,
): AgreementCounts {
  if (candidate.length !== production.length)
    throw new StatsInputError(`candidate has ${candidate.length} scores, production ${production.length}`, 'scores');
  const out: AgreementCounts = { both: 0, candidateOnly: 0, productionOnly: 0, neither: 0 };
  candidate.forEach((s, i) => {
    const p = production[i]!;
    if (!Number.isFinite(s) || !Number.isFinite(p)) throw new StatsInputError('scores must be finite', 'scores', i);
    const a = s >= threshold;
    const b = p >= threshold;
    if (a && b) out.both++;
    else if (a) out.candidateOnly++;
    else if (b) out.productionOnly++;
    else out.neither++;
  });
  return out;
}

/** Pearson correlation of the two models' scores (null when either is constant). */
export function scoreCorrelation(candidate: readonly number[], production: readonly number[]): number | null {
  const n = candidate.length;
  if (n !== production.length || n < 2)
    throw new StatsInputError('score correlation needs two equal-length samples of ≥ 2', 'scores');
  finiteColumn(candidate, 'candidate');
  finiteColumn(production, 'production');
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += candidate[i]!;
    mb += production[i]!;
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = candidate[i]! - ma;
    const db = production[i]! - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  if (saa === 0 || sbb === 0) return null;
  return Math.max(-1, Math.min(1, sab / Math.sqrt(saa * sbb)));
}
