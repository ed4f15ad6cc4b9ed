/** Each reported metric with its interval, derived from a model's raw slice sums. */
import {
  averagePrecisionInterval,
  eceFromBins,
  proportionInterval,
  rateCounts,
  reliabilityFromBins,
  twoSidedZ,
  type Interval,
  type ProportionMethod,
  type SliceSummary,
} from '../stats';
import type { MetricName } from './policy';
import type { MetricValue, ModelRaw, ModelSliceMetrics } from './types';

function undefinedValue(method: string, reason: string, extra: Partial<MetricValue> = {}): MetricValue {
  return { estimate: null, interval: null, method, reason, ...extra };
}

function classReason(s: SliceSummary): string {
  if (s.n === 0) return 'undefined: empty slice';
  return s.positives === 0 ? 'undefined: no positives in slice' : 'undefined: no negatives in slice';
}

function waldInterval(estimate: number, se: number, level: number, name: string): Interval {
  const half = twoSidedZ(level) * se;
  return { lower: estimate - half, upper: estimate + half, level, method: name };
}

/** One metric of one model on one slice at a given interval level. */
export function metricValue(
  raw: ModelRaw,
  metric: MetricName | 'eceEqualWidth' | 'eceEqualMass',
  level: number,
  method: ProportionMethod,
  eceBinning: 'equal-width' | 'equal-mass',
): MetricValue {
  const s = raw.summary;
  switch (metric) {
    case 'auc': {
      if (s.auc === null) return undefinedValue('Mann-Whitney, ties ½; DeLong interval', classReason(s));
      if (s.aucVariance === null) {
        return {
          estimate: s.auc,
          interval: null,
          method: 'Mann-Whitney, ties ½; DeLong interval',
          reason: 'interval undefined: a class has fewer than 2 rows',
        };
      }
      const half = twoSidedZ(level) * Math.sqrt(s.aucVariance);
      return {
        estimate: s.auc,
        interval: { lower: Math.max(0, s.auc - half), upper: Math.min(1, s.auc + half), level, method: 'delong' },
        method: 'Mann-Whitney, ties ½; DeLong interval',
      };
    }
    case 'averagePrecision': {
      const m = 'step-wise average precision; logit interval (Boyd et al. 2013)';
      if (s.averagePrecision === null)
        return undefinedValue(m, s.n === 0 ? 'undefined: empty slice' : 'undefined: no positives in slice');
      return {
        estimate: s.averagePrecision,
        interval: averagePrecisionInterval(s.averagePrecision, s.positives, level),
        method: m,
      };
    }
    case 'sensitivity':
    case 'specificity':
    case 'ppv':
    case 'npv': {
      const { x, n } = rateCounts(s, metric);
      const m = `alert when score ≥ ${s.threshold}; ${method} interval`;
      if (n === 0) return undefinedValue(m, `undefined: denominator is 0 at threshold ${s.threshold}`, { x, n });
      return { estimate: x / n, interval: proportionInterval(x, n, level, method), method: m, x, n };
    }
    case 'brier': {
      const m = 'mean (p − y)²; normal-approximation interval';
      if (s.n === 0) return undefinedValue(m, 'undefined: empty slice');
      if (!s.probabilities) return undefinedValue(m, 'undefined: scores are not probabilities in [0, 1]');
      const mean = s.brierSum / s.n;
      const se = s.n > 1 ? Math.sqrt(Math.max(0, s.brierSumSquares / s.n - mean * mean) / (s.n - 1)) : null;
      return { estimate: mean, interval: se === null ? null : waldInterval(mean, se, level, 'wald'), method: m };
    }
    case 'ece':
      return metricValue(
        raw,
        eceBinning === 'equal-mass' ? 'eceEqualMass' : 'eceEqualWidth',
        level,
        method,
        eceBinning,
      );
    case 'eceEqualWidth':
    case 'eceEqualMass': {
      const mass = metric === 'eceEqualMass';
      const m = `ECE, ${s.equalWidth.count.length} ${mass ? 'equal-mass' : 'equal-width'} bins; no analytic interval`;
      if (s.n === 0) return undefinedValue(m, 'undefined: empty slice');
      if (!s.probabilities) return undefinedValue(m, 'undefined: scores are not probabilities in [0, 1]');
      return { estimate: eceFromBins(mass ? s.equalMass : s.equalWidth, s.n), interval: null, method: m };
    }
    case 'calibrationIntercept':
    case 'calibrationSlope': {
      const m =
        metric === 'calibrationSlope'
          ? 'logistic recalibration slope on logit(p) (Newton-Raphson); Wald interval'
          : 'calibration-in-the-large: logistic intercept with logit(p) offset; Wald interval';
      if (raw.recalibration === null) return undefinedValue(m, 'undefined: scores are not probabilities in [0, 1]');
      const fit = metric === 'calibrationSlope' ? raw.recalibration.slope : raw.recalibration.intercept;
      if (fit.estimate === null || fit.se === null) return undefinedValue(m, fit.reason ?? 'undefined');
      return { estimate: fit.estimate, interval: waldInterval(fit.estimate, fit.se, level, 'wald'), method: m };
    }
  }
}

export function modelMetrics(
  raw: ModelRaw,
  level: number,
  method: ProportionMethod,
  eceBinning: 'equal-width' | 'equal-mass',
): ModelSliceMetrics {
  const v = (m: Parameters<typeof metricValue>[1]) => metricValue(raw, m, level, method, eceBinning);
  return {
    threshold: raw.summary.threshold,
    auc: v('auc'),
    averagePrecision: v('averagePrecision'),
    sensitivity: v('sensitivity'),
    specificity: v('specificity'),
    ppv: v('ppv'),
    npv: v('npv'),
    brier: v('brier'),
    ece: v('ece'),
    eceEqualWidth: v('eceEqualWidth'),
    eceEqualMass: v('eceEqualMass'),
    calibrationIntercept: v('calibrationIntercept'),
    calibrationSlope: v('calibrationSlope'),
    reliability:
      raw.summary.probabilities && raw.summary.n > 0 ? reliabilityFromBins(raw.summary.equalWidth, level, method) : [],
  };
}
