import { StatsInputError } from './errors';
import { normalQuantile, normalUpperTail, twoSidedZ } from './normal';
import type { Interval } from './proportion-intervals';
import { summarizeSorted } from './slice-summary';
import { argsortAscending } from './sort';
import { assertLevel, assertSameLength, toLabels, toScores } from './validate';

/** AUC with its DeLong variance. `auc` is null when a class is absent; `variance` also when a class has < 2 rows. */
export interface AucEstimate {
  auc: number | null;
  variance: number | null;
  positives: number;
  negatives: number;
}

export interface PairedAucTest {
  aucA: number;
  aucB: number;
  /** AUC_A − AUC_B. */
  difference: number;
  /** Var(AUC_A − AUC_B) = Var_A + Var_B − 2 Cov_AB from the structural components. */
  variance: number;
  varianceA: number;
  varianceB: number;
  covariance: number;
  /** Z = difference / √variance; 0 when both are 0 (a model against itself); null when only the variance is 0. */
  z: number | null;
  /** Two-sided p-value of H0: AUC_A = AUC_B. */
  pValue: number;
  interval: Interval;
  positives: number;
  negatives: number;
}

function prepare(scores: ArrayLike<number>, labels: ArrayLike<number>, column: string) {
  const s = toScores(scores, column);
  const y = toLabels(labels);
  assertSameLength(y.length, 'labels', s.length, column);
  let positives = 0;
  for (let i = 0; i < y.length; i++) positives += y[i]!;
  return { s, y, positives };
}

/** ROC AUC (Mann-Whitney, ties ½) and its DeLong variance, O(n log n). */
export function delongAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): AucEstimate {
  const { s, y, positives } = prepare(scores, labels, 'scores');
  const summary = summarizeSorted(argsortAscending(s), s.length, positives, s, y, Infinity, null);
  return { auc: summary.auc, variance: summary.aucVariance, positives, negatives: s.length - positives };
}

/** Wald interval AUC ± z·√Var, clipped to [0, 1] as pROC's ci.auc does. */
export function aucInterval(estimate: { auc: number | null; variance: number | null }, level = 0.95): Interval | null {
  assertLevel(level);
  if (estimate.auc === null || estimate.variance === null) return null;
  const half = twoSidedZ(level) * Math.sqrt(estimate.variance);
  return { lower: Math.max(0, estimate.auc - half), upper: Math.min(1, estimate.auc + half), level, method: 'delong' };
}

/**
 * Covariance pass shared by the evaluator: rows `members[0..len)` of one slice, with both models' placements
 * already written by summarizeSorted. Means of the placements are the AUCs, so one pass is exact.
 */
export function pairedFromPlacements(
  members: Uint32Array,
  len: number,
  labels: Uint8Array,
  placementA: Float64Array,
  placementB: Float64Array,
  aucA: number,
  aucB: number,
  level = 0.95,
): PairedAucTest | null {
  let positives = 0;
  let a10 = 0;
  let b10 = 0;
  let ab10 = 0;
  let a01 = 0;
  let b01 = 0;
  let ab01 = 0;
  for (let k = 0; k < len; k++) {
    const row = members[k]!;
    const da = placementA[row]! - aucA;
    const db = placementB[row]! - aucB;
    if (labels[row] === 1) {
      positives++;
      a10 += da * da;
      b10 += db * db;
      ab10 += da * db;
    } else {
      a01 += da * da;
      b01 += db * db;
      ab01 += da * db;
    }
  }
  const negatives = len - positives;
  if (positives < 2 || negatives < 2) return null;
  const m = positives;
  const n = negatives;
  const varianceA = a10 / (m - 1) / m + a01 / (n - 1) / n;
  const varianceB = b10 / (m - 1) / m + b01 / (n - 1) / n;
  const covariance = ab10 / (m - 1) / m + ab01 / (n - 1) / n;
  const variance = Math.max(0, varianceA + varianceB - 2 * covariance);
  const difference = aucA - aucB;
  const z = variance > 0 ? difference / Math.sqrt(variance) : difference === 0 ? 0 : null;
  const pValue = z === null ? 0 : 2 * normalUpperTail(Math.abs(z));
  const half = twoSidedZ(level) * Math.sqrt(variance);
  return {
    aucA,
    aucB,
    difference,
    variance,
    varianceA,
    varianceB,
    covariance,
    z,
    pValue: Math.min(1, pValue),
    interval: { lower: difference - half, upper: difference + half, level, method: 'delong-paired' },
    positives,
    negatives,
  };
}

/** The paired DeLong test of two models scored on the same cases (pROC's roc.test, method "delong", paired). */
export function pairedDelong(
  scoresA: ArrayLike<number>,
  scoresB: ArrayLike<number>,
  labels: ArrayLike<number>,
  level = 0.95,
): PairedAucTest | null {
  assertLevel(level);
  const a = prepare(scoresA, labels, 'scoresA');
  const b = toScores(scoresB, 'scoresB');
  assertSameLength(a.s.length, 'scoresA', b.length, 'scoresB');
  const n = a.s.length;
  const placementA = new Float64Array(n);
  const placementB = new Float64Array(n);
  const sa = summarizeSorted(argsortAscending(a.s), n, a.positives, a.s, a.y, Infinity, placementA);
  const sb = summarizeSorted(argsortAscending(b), n, a.positives, b, a.y, Infinity, placementB);
  if (sa.auc === null || sb.auc === null) return null;
  const all = new Uint32Array(n);
  for (let i = 0; i < n; i++) all[i] = i;
  return pairedFromPlacements(all, n, a.y, placementA, placementB, sa.auc, sb.auc, level);
}

export interface NonInferiorityResult {
  difference: number;
  margin: number;
  alpha: number;
  /** One-sided lower confidence bound of AUC_cand − AUC_inc at level 1 − α. */
  lowerBound: number;
  /** One-sided p-value of H0: difference ≤ −margin. */
  pValue: number;
  nonInferior: boolean;
}

/** Non-inferiority of A versus B: reject H0 (A worse by ≥ margin) when the one-sided lower bound exceeds −margin. */
export function nonInferiority(test: PairedAucTest, margin: number, alpha: number): NonInferiorityResult {
  if (!(margin >= 0)) throw new StatsInputError(`non-inferiority margin must be ≥ 0, got ${margin}`, 'margin');
  if (!(alpha > 0 && alpha < 1)) throw new StatsInputError(`alpha must be in (0, 1), got ${alpha}`, 'alpha');
  const se = Math.sqrt(test.variance);
  const shifted = test.difference + margin;
  const lowerBound = test.difference - normalQuantile(1 - alpha) * se;
  const pValue = se > 0 ? normalUpperTail(shifted / se) : shifted > 0 ? 0 : 1;
  return { difference: test.difference, margin, alpha, lowerBound, pValue, nonInferior: pValue < alpha };
}
