import type { ArmStats } from '../domain';
import { StatsInputError } from './errors';
import { proportionInterval, type Interval, type ProportionMethod } from './proportion-intervals';
import { argsortAscending } from './sort';
import { assertSameLength, toLabels, toScores } from './validate';

/**
 * Confusion counts at a threshold (score >= threshold raises an alert); undefined rates are null. A label of
 * -1 is an outcome that has not arrived: the case counts for alerts and n, not for sensitivity or specificity.
 */
export function armStats(scores: ArrayLike<number>, labels: ArrayLike<number>, threshold: number): ArmStats {
  let positives = 0;
  let negatives = 0;
  let truePositives = 0;
  let trueNegatives = 0;
  let alerts = 0;
  for (let i = 0; i < scores.length; i++) {
    const alert = scores[i]! >= threshold;
    if (alert) alerts++;
    if (labels[i] === 1) {
      positives++;
      if (alert) truePositives++;
    } else if (labels[i] === 0) {
      negatives++;
      if (!alert) trueNegatives++;
    }
  }
  const n = scores.length;
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

export interface ConfusionCounts {
  truePositives: number;
  falsePositives: number;
  trueNegatives: number;
  falseNegatives: number;
}

export type RateName = 'sensitivity' | 'specificity' | 'ppv' | 'npv';

/** A rate x/n with its interval; `estimate` and `interval` are null when n = 0 (the rate is undefined). */
export interface Rate {
  estimate: number | null;
  x: number;
  n: number;
  interval: Interval | null;
}

export function rate(x: number, n: number, level = 0.95, method: ProportionMethod = 'wilson'): Rate {
  if (n === 0) return { estimate: null, x, n, interval: null };
  return { estimate: x / n, x, n, interval: proportionInterval(x, n, level, method) };
}

/** The numerator and denominator behind each rate at an operating point. */
export function rateCounts(c: ConfusionCounts, name: RateName): { x: number; n: number } {
  switch (name) {
    case 'sensitivity':
      return { x: c.truePositives, n: c.truePositives + c.falseNegatives };
    case 'specificity':
      return { x: c.trueNegatives, n: c.trueNegatives + c.falsePositives };
    case 'ppv':
      return { x: c.truePositives, n: c.truePositives + c.falsePositives };
    case 'npv':
      return { x: c.trueNegatives, n: c.trueNegatives + c.falseNegatives };
  }
}

export interface ChosenThreshold {
  threshold: number;
  rule: string;
  /** Sensitivity and specificity on the tuning rows the threshold was chosen on. */
  tuningSensitivity: number;
  tuningSpecificity: number;
  tuningN: number;
}

/**
 * Highest specificity subject to sensitivity ≥ minSensitivity, on tuning rows only: the largest distinct score
 * t with TP(score ≥ t)/P ≥ minSensitivity (sensitivity only falls and specificity only rises as t increases).
 */
export function thresholdForSensitivity(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  minSensitivity: number,
): ChosenThreshold {
  if (!(minSensitivity > 0 && minSensitivity <= 1)) {
    throw new StatsInputError(`minimum sensitivity must be in (0, 1], got ${minSensitivity}`, 'minSensitivity');
  }
  const s = toScores(scores, 'tuning scores');
  const y = toLabels(labels, 'tuning labels');
  assertSameLength(y.length, 'tuning labels', s.length, 'tuning scores');
  let positives = 0;
  for (let i = 0; i < y.length; i++) positives += y[i]!;
  const negatives = y.length - positives;
  if (positives === 0 || negatives === 0) {
    throw new StatsInputError(
      `tuning split needs both classes to choose a threshold (positives=${positives}, negatives=${negatives})`,
      'tuning labels',
    );
  }
  const order = argsortAscending(s);
  let truePositives = 0;
  let end = order.length;
  while (end > 0) {
    const t = s[order[end - 1]!]!;
    let start = end;
    while (start > 0 && s[order[start - 1]!] === t) {
      truePositives += y[order[start - 1]!]!;
      start--;
    }
    if (truePositives / positives >= minSensitivity) {
      const negativesAtOrAbove = order.length - start - truePositives;
      return {
        threshold: t,
        rule: `highest specificity with sensitivity ≥ ${minSensitivity} on the tuning split`,
        tuningSensitivity: truePositives / positives,
        tuningSpecificity: (negatives - negativesAtOrAbove) / negatives,
        tuningN: order.length,
      };
    }
    end = start;
  }
  throw new Error('unreachable: the lowest score always reaches sensitivity 1');
}
