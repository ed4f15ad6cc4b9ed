import type { Interval } from './proportion-intervals';
import { normalQuantile } from './normal';
import { summarizeSorted } from './slice-summary';
import { argsortAscending } from './sort';
import { assertLevel, assertSameLength, toLabels, toScores } from './validate';

/**
 * Average precision, AP = Σ_t (R_t − R_{t−1}) · P_t over the distinct score thresholds t (descending), tied
 * scores forming one threshold — the step-wise PR AUC of scikit-learn's average_precision_score.
 * null when there are no positives.
 */
export function averagePrecision(scores: ArrayLike<number>, labels: ArrayLike<number>): number | null {
  const s = toScores(scores, 'scores');
  const y = toLabels(labels);
  assertSameLength(y.length, 'labels', s.length, 'scores');
  let positives = 0;
  for (let i = 0; i < y.length; i++) positives += y[i]!;
  return summarizeSorted(argsortAscending(s), s.length, positives, s, y, Infinity, null).averagePrecision;
}

/**
 * Logit interval for AP (Boyd, Eng & Page 2013): logit(AP) ± z / √(n₁·AP·(1 − AP)), back-transformed.
 * null when AP is undefined, 0 or 1 (the logit is infinite there).
 */
export function averagePrecisionInterval(ap: number | null, positives: number, level = 0.95): Interval | null {
  assertLevel(level);
  if (ap === null || !(ap > 0 && ap < 1) || positives < 1) return null;
  const eta = Math.log(ap / (1 - ap));
  const tau = 1 / Math.sqrt(positives * ap * (1 - ap));
  const z = normalQuantile(1 - (1 - level) / 2);
  const inv = (t: number) => 1 / (1 + Math.exp(-t));
  return { lower: inv(eta - z * tau), upper: inv(eta + z * tau), level, method: 'logit (Boyd et al. 2013)' };
}
