/**
 * An exactly valid p-value for the homogeneity of a reference and a window of counts over k ≥ 3 cells: Pearson's χ²
 * compared with its distribution under random splits of the pooled counts (the window a uniform random subset of the
 * pooled cases, as the null hypothesis makes it), by Besag & Clifford's (1991) sequential Monte Carlo — draw until
 * `h` simulated statistics reach the observed one (p = h / L after L draws) or `maxDraws` are made
 * (p = (G + 1) / (maxDraws + 1)). Either way P(p ≤ t) ≤ t under the null, for every t.
 *
 * Pearson's asymptotic p-value is used as it is when it is ≥ SCREEN (0.25, above any α a policy allows): for every
 * threshold t < SCREEN, P(p ≤ t) = P(asymptotic p < SCREEN and Monte Carlo p ≤ t) ≤ t, so the screen keeps the
 * guarantee and spares the simulation in three windows of four. Draws come from a generator seeded by the counts:
 * the same table always gets the same p-value.
 */
import { logGamma } from './beta';

export const SCREEN = 0.25;
const H = 20;
const MAX_DRAWS = 9_999;

/** log k! for k = 0…max, as logGamma gives it: the draws look these up instead of evaluating logGamma each time. */
function logFactorials(max: number): Float64Array {
  const lf = new Float64Array(max + 1);
  for (let k = 0; k <= max; k++) lf[k] = logGamma(k + 1);
  return lf;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function seedOf(reference: readonly number[], current: readonly number[]): number {
  let h = 2166136261;
  for (const v of [...reference, -1, ...current]) {
    h ^= v & 0xffff;
    h = Math.imul(h, 16777619);
    h ^= v >>> 16;
    h = Math.imul(h, 16777619);
  }
  return h >>> 0;
}

/**
 * One hypergeometric draw: successes among `draws` taken without replacement from `total` items of which `good` are
 * successes; exact inversion over the support ordered outward from the mode (O(standard deviation) steps).
 */
function hypergeometric(total: number, good: number, draws: number, u: number, lf: Float64Array): number {
  const lo = Math.max(0, draws - (total - good));
  const hi = Math.min(good, draws);
  if (lo === hi) return lo;
  const mode = Math.min(hi, Math.max(lo, Math.floor(((draws + 1) * (good + 1)) / (total + 2))));
  // No closures in here: this runs millions of times per window, and per-call closures (named by tsx) cost ~half.
  const logNorm = lf[total]! - lf[draws]! - lf[total - draws]!;
  const bad = total - good;
  const pm = Math.exp(
    lf[good]! - lf[mode]! - lf[good - mode]! + (lf[bad]! - lf[draws - mode]! - lf[bad - draws + mode]!) - logNorm,
  );
  let l = mode;
  let r = mode;
  let pl = pm;
  let pr = pm;
  let acc = pm;
  if (u <= acc) return mode;
  for (;;) {
    // Ratios p(x−1)/p(x) and p(x+1)/p(x) keep the walk cheap.
    const nextL = l > lo ? pl * ((l * (bad - draws + l)) / ((good - l + 1) * (draws - l + 1))) : -1;
    const nextR = r < hi ? pr * (((good - r) * (draws - r)) / ((r + 1) * (bad - draws + r + 1))) : -1;
    if (nextL < 0 && nextR < 0) return nextR >= nextL ? r : l; // rounding left u above the total mass
    if (nextR >= nextL) {
      r++;
      pr = nextR;
      acc += pr;
      if (u <= acc) return r;
    } else {
      l--;
      pl = nextL;
      acc += pl;
      if (u <= acc) return l;
    }
  }
}

function pearson(reference: readonly number[], current: readonly number[], N: number, n: number): number {
  let x2 = 0;
  for (let j = 0; j < reference.length; j++) {
    const col = reference[j]! + current[j]!;
    if (col === 0) continue;
    const er = (N * col) / (N + n);
    const ec = (n * col) / (N + n);
    x2 += (reference[j]! - er) ** 2 / er + (current[j]! - ec) ** 2 / ec;
  }
  return x2;
}

/**
 * The p-value of the observed Pearson statistic: the asymptotic one when ≥ SCREEN, otherwise the sequential Monte
 * Carlo one under random splits of the pooled counts.
 */
export function conditionalChiSquarePValue(
  reference: readonly number[],
  current: readonly number[],
  asymptotic: number,
): number {
  if (asymptotic >= SCREEN) return asymptotic;
  const N = reference.reduce((a, b) => a + b, 0);
  const n = current.reduce((a, b) => a + b, 0);
  const pooled = reference.map((r, j) => r + current[j]!);
  const observed = pearson(reference, current, N, n) * (1 - 1e-12);
  const rand = mulberry32(seedOf(reference, current));
  const lf = logFactorials(N + n);
  const sim = new Array<number>(pooled.length).fill(0);
  const ref = new Array<number>(pooled.length).fill(0);
  let exceed = 0;
  for (let draw = 1; draw <= MAX_DRAWS; draw++) {
    let totalLeft = N + n;
    let drawsLeft = n;
    for (let j = 0; j < pooled.length; j++) {
      const x = j === pooled.length - 1 ? drawsLeft : hypergeometric(totalLeft, pooled[j]!, drawsLeft, rand(), lf);
      sim[j] = x;
      ref[j] = pooled[j]! - x;
      totalLeft -= pooled[j]!;
      drawsLeft -= x;
    }
    if (pearson(ref, sim, N, n) >= observed) exceed++;
    if (exceed === H) return H / draw;
  }
  return (exceed + 1) / (MAX_DRAWS + 1);
}
