import type { ArmStats } from '../domain';

/** Confusion counts at a threshold (score >= threshold raises an alert); undefined rates are null. */
export function armStats(scores: ArrayLike<number>, labels: ArrayLike<number>, threshold: number): ArmStats {
  let positives = 0;
  let truePositives = 0;
  let trueNegatives = 0;
  let alerts = 0;
  for (let i = 0; i < scores.length; i++) {
    const alert = scores[i]! >= threshold;
    if (alert) alerts++;
    if (labels[i] === 1) {
      positives++;
      if (alert) truePositives++;
    } else if (!alert) {
      trueNegatives++;
    }
  }
  const n = scores.length;
  const negatives = n - positives;
  return {
    n,
    positives,
    truePositives,
    negatives,
    trueNegatives,
    alerts,
    sensitivity: positives > 0 ? truePositives / positives : null,
    specificity: negatives > 0 ? trueNegatives / negatives : null,
    alertRate: n > 0 ? alerts / n : null,
  };
}
