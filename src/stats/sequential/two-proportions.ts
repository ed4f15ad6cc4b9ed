/**
 * Anytime-valid one-sided test that a canary arm's sensitivity is lower than the concurrent control arm's:
 * an asymptotic confidence sequence for the difference of two binomial proportions, monitored every interval.
 *
 * Method. Let Δ = p_C − p_T (control minus canary sensitivity: positive = harm) and, after look k with
 * cumulative positives n_T, n_C and true positives x_T, x_C,
 *
 *   Δ̂_k = x_C/n_C − x_T/n_T,   V_k = 1 / (σ̂²_T/n_T + σ̂²_C/n_C)   (the Fisher information for Δ),
 *   S_k(δ) = (Δ̂_k − δ) · V_k.
 *
 * Δ̂ is the efficient estimate on nested cumulative samples, so Cov(Δ̂_j, Δ̂_k) = Var(Δ̂_k) for j ≤ k and S_k(Δ)
 * is asymptotically Brownian motion observed at the times V_k — whatever the allocation between arms does from
 * look to look (the "canonical joint distribution": Jennison & Turnbull 2000, Group Sequential Methods, §3.4 and
 * ch. 11; Scharfstein, Tsiatis & Robins 1997, JASA 92:1342). Against that we put the one-sided normal-mixture
 * boundary u(V) of Howard, Ramdas, McAuliffe & Sekhon (2021, Ann. Statist. 49(2):1055–1080) — see ./mixture.ts —
 * which Brownian motion crosses with probability ≤ α over all time (Ville's inequality), not just at
 * pre-planned looks. Plugging the estimated variance into a boundary built for known variance is the
 * asymptotic confidence sequence of Waudby-Smith, Arbour, Sinha, Kennedy & Ramdas (2024, "Time-uniform central
 * limit theory and asymptotic confidence sequences", Ann. Statist. 52(6); arXiv:2103.06476).
 *
 * The running intersection of the per-look bounds [Δ̂_k − u(V_k)/V_k, Δ̂_k + u(V_k)/V_k] gives, for each side,
 * a (1 − α) confidence sequence for Δ. "Harm" is declared at the first look whose lower bound exceeds the
 * harm margin δ_h (equivalently S_k(δ_h) ≥ u(V_k), or e-value M_k ≥ 1/α); it is sticky — a later look cannot
 * undo it. "Non-inferior" is declared when the upper bound falls below the non-inferiority margin δ_ni.
 *
 * Assumptions (state them with any figure this produces):
 *   - positives are independent; each is routed to canary or control at random, independently of its outcome
 *     (so both arms see the same case mix) and their labels are obtained the same way in both arms;
 *   - sensitivities are constant over the canary (no drift within it; drift is a separate guardrail);
 *   - the guarantee is asymptotic (normal approximation and plug-in variance): with few positives per arm it can
 *     be off, which is why the guardrail holds (inconclusive) below a minimum count. The simulation tests in
 *     test/unit/sequential-*.test.ts measure the realised false-alarm rate at realistic counts.
 *   - the variance uses p̃ = (x + 1)/(n + 2) in σ̂² = p̃(1 − p̃), which keeps it positive at x = 0 or x = n and
 *     only widens the boundary (p̃ is pulled towards ½).
 *   - ρ (where the boundary is tightest) comes from the planned positives, fixed before the canary starts; so does
 *     the planned mixture's λ (`mixture: 'planned'`), which puts 0.9 of the weight on the one drop whose boundary
 *     is the lowest possible at half the planned information (./mixture.ts) — more power from a quarter of the
 *     plan to its end for every true drop, the same α.
 */
import { StatsInputError } from '../errors';
import {
  mixturePrecision,
  oneSidedNormalMixtureBoundary,
  oneSidedNormalMixtureLog,
  plannedMixture,
  plannedMixtureBoundary,
  plannedMixtureLog,
} from './mixture';

export const SEQUENTIAL_METHOD =
  'one-sided normal-mixture confidence sequence for the difference of two proportions (Howard et al. 2021, Ann. Statist. 49(2); asymptotic CS, Waudby-Smith et al. 2024, Ann. Statist. 52(6))';

/** The method under the planned mixture (`mixture: 'planned'`, ./mixture.ts `plannedMixture`). */
export const PLANNED_SEQUENTIAL_METHOD =
  'one-sided planned-mixture confidence sequence for the difference of two proportions: 0.9 on the drop best detected at half the planned information, 0.1 on a half-normal (Howard et al. 2021, Ann. Statist. 49(2); Wald SPRT; asymptotic CS, Waudby-Smith et al. 2024, Ann. Statist. 52(6))';

/**
 * How the likelihood ratios are mixed over the size of the harm: `half-normal` (the test's first form) or
 * `planned` (most of the weight on the one drop the plan detects best; ./mixture.ts). Both are anytime-valid at α.
 */
export type HarmMixture = 'half-normal' | 'planned';

/** Labelled positives in one arm over one interval (increments, not running totals). */
export interface PositiveCounts {
  positives: number;
  truePositives: number;
}

/** One look: what each arm added in this interval. */
export interface IntervalCounts {
  treatment: PositiveCounts;
  comparator: PositiveCounts;
}

export interface SequentialHarmOptions {
  /** One-sided error: the chance of ever declaring harm when the true drop is ≤ harmMargin. */
  alpha: number;
  /** δ_h: harm is a drop (control − canary sensitivity) larger than this. Default 0. */
  harmMargin?: number;
  /** δ_ni: declare non-inferiority when the upper confidence bound on the drop is below this. Optional. */
  nonInferiorityMargin?: number;
  /**
   * The plan, fixed before the canary: expected total labelled positives per arm over the whole canary and the
   * anticipated sensitivity. Sets ρ so the boundary is tightest at the planned end; validity does not depend on it.
   */
  planned: { treatmentPositives: number; comparatorPositives: number; sensitivity?: number };
  /** The mixing distribution, fixed before the canary. Default `half-normal`. */
  mixture?: HarmMixture;
}

export interface SequentialLook {
  /** 1-based look number. */
  look: number;
  /** Cumulative counts after this look. */
  treatment: { positives: number; truePositives: number; sensitivity: number | null };
  comparator: { positives: number; truePositives: number; sensitivity: number | null };
  /** Δ̂ = comparator − treatment sensitivity (null until both arms have a positive). */
  drop: number | null;
  /** V, the information (1/variance) for Δ. 0 until both arms have a positive. */
  information: number;
  /** S = (Δ̂ − δ_h)·V. */
  statistic: number;
  /** u(V): harm when statistic ≥ boundary. */
  boundary: number;
  /** log M, the log e-value against "drop ≤ δ_h". */
  logEValue: number;
  /**
   * Running (1 − α) lower / upper confidence-sequence bounds on the drop (−1 / +1 before any information). An empty
   * intersection (lower > upper) is itself evidence that the sensitivities were not constant over the canary.
   */
  lower: number;
  upper: number;
  crossed: boolean;
}

export interface SequentialHarmResult {
  method: string;
  alpha: number;
  harmMargin: number;
  nonInferiorityMargin: number | null;
  rho: number;
  /** The planned mixture's point mass (absent under the half-normal, whose results predate it). */
  mixture?: { kind: 'planned'; lambda: number; weight: number };
  /** 'harm' is sticky: once the boundary is crossed the verdict stays. */
  verdict: 'harm' | 'non-inferior' | 'no-evidence-yet';
  /** 1-based look at which harm was first declared, or null. */
  firstCrossing: number | null;
  /** min(1, 1/max_k M_k): an anytime-valid p-value for "drop ≤ δ_h". */
  anytimePValue: number;
  looks: SequentialLook[];
}

function checkCounts(c: PositiveCounts, where: string): void {
  if (
    !Number.isInteger(c.positives) ||
    c.positives < 0 ||
    !Number.isInteger(c.truePositives) ||
    c.truePositives < 0 ||
    c.truePositives > c.positives
  ) {
    throw new StatsInputError(
      `${where}: need integers 0 ≤ truePositives ≤ positives (got ${c.truePositives}/${c.positives})`,
      where,
    );
  }
}

/** σ̂²/n for one arm with p̃ = (x + 1)/(n + 2). */
function armVariance(x: number, n: number): number {
  const p = (x + 1) / (n + 2);
  return (p * (1 - p)) / n;
}

/** The information V* expected at the planned end of the canary. */
export function plannedInformation(planned: SequentialHarmOptions['planned']): number {
  const { treatmentPositives: nT, comparatorPositives: nC } = planned;
  const p = planned.sensitivity ?? 0.8;
  if (!(nT > 0 && nC > 0)) throw new StatsInputError('planned positives must be positive in both arms', 'planned');
  if (!(p > 0 && p < 1)) throw new StatsInputError('planned sensitivity must be in (0, 1)', 'planned.sensitivity');
  return 1 / (p * (1 - p) * (1 / nT + 1 / nC));
}

/** ρ for a plan: tightest at the information expected at the planned end of the canary. */
export function plannedRho(planned: SequentialHarmOptions['planned'], alpha: number): number {
  return mixturePrecision(plannedInformation(planned), alpha);
}

/**
 * Run the sequential harm test over every look so far (per-interval increments, oldest first). Pure and
 * deterministic: the same history always gives the same verdict, so a recorded decision can be recomputed.
 */
export function sequentialHarmTest(
  history: readonly IntervalCounts[],
  options: SequentialHarmOptions,
): SequentialHarmResult {
  const { alpha } = options;
  const harmMargin = options.harmMargin ?? 0;
  const ni = options.nonInferiorityMargin ?? null;
  if (!(harmMargin >= 0 && harmMargin < 1)) throw new StatsInputError('harmMargin must be in [0, 1)', 'harmMargin');
  if (ni !== null && !(ni > 0 && ni < 1))
    throw new StatsInputError('nonInferiorityMargin must be in (0, 1)', 'nonInferiorityMargin');
  const rho = plannedRho(options.planned, alpha);
  const mix = options.mixture === 'planned' ? plannedMixture(plannedInformation(options.planned), alpha) : null;
  const logM = mix
    ? (s: number, v: number) => plannedMixtureLog(s, v, mix)
    : (s: number, v: number) => oneSidedNormalMixtureLog(s, v, rho);
  const boundaryAt = mix
    ? (v: number) => plannedMixtureBoundary(v, alpha, mix)
    : (v: number) => oneSidedNormalMixtureBoundary(v, alpha, rho);
  const threshold = Math.log(1 / alpha);

  let nT = 0;
  let xT = 0;
  let nC = 0;
  let xC = 0;
  let lower = -1;
  let upper = 1;
  let maxLogE = 0;
  let firstCrossing: number | null = null;
  const looks: SequentialLook[] = [];
  history.forEach((h, i) => {
    checkCounts(h.treatment, `look ${i + 1} treatment`);
    checkCounts(h.comparator, `look ${i + 1} comparator`);
    nT += h.treatment.positives;
    xT += h.treatment.truePositives;
    nC += h.comparator.positives;
    xC += h.comparator.truePositives;
    const sensT = nT > 0 ? xT / nT : null;
    const sensC = nC > 0 ? xC / nC : null;
    let drop: number | null = null;
    let information = 0;
    let statistic = 0;
    let boundary = boundaryAt(0);
    let logE = 0;
    if (sensT !== null && sensC !== null) {
      drop = sensC - sensT;
      information = 1 / (armVariance(xT, nT) + armVariance(xC, nC));
      statistic = (drop - harmMargin) * information;
      boundary = boundaryAt(information);
      logE = logM(statistic, information);
      const half = boundary / information;
      lower = Math.max(lower, drop - half);
      upper = Math.min(upper, drop + half);
    }
    maxLogE = Math.max(maxLogE, logE);
    const crossed = logE >= threshold;
    if (crossed && firstCrossing === null) firstCrossing = i + 1;
    looks.push({
      look: i + 1,
      treatment: { positives: nT, truePositives: xT, sensitivity: sensT },
      comparator: { positives: nC, truePositives: xC, sensitivity: sensC },
      drop,
      information,
      statistic,
      boundary,
      logEValue: logE,
      lower,
      upper,
      crossed,
    });
  });
  const verdict = firstCrossing !== null ? 'harm' : ni !== null && upper < ni ? 'non-inferior' : 'no-evidence-yet';
  return {
    method: mix ? PLANNED_SEQUENTIAL_METHOD : SEQUENTIAL_METHOD,
    alpha,
    harmMargin,
    nonInferiorityMargin: ni,
    rho,
    ...(mix ? { mixture: { kind: 'planned' as const, lambda: mix.lambda, weight: mix.weight } } : {}),
    verdict,
    firstCrossing,
    anytimePValue: Math.min(1, Math.exp(-maxLogE)),
    looks,
  };
}
