import { StatsInputError } from './errors';
import { proportionInterval, type Interval, type ProportionMethod } from './proportion-intervals';
import { DEFAULT_BINS, summarizeSorted, type BinSums } from './slice-summary';
import { argsortAscending } from './sort';
import { assertSameLength, toLabels, toScores } from './validate';

/** Probabilities are clipped to [ε, 1 − ε] before the logit so that 0 and 1 give finite covariates. */
export const LOGIT_CLIP = 1e-15;

export type BinStrategy = 'equal-width' | 'equal-mass';

function probabilityColumn(scores: ArrayLike<number>, labels: ArrayLike<number>) {
  const s = toScores(scores, 'scores');
  const y = toLabels(labels);
  assertSameLength(y.length, 'labels', s.length, 'scores');
  for (let i = 0; i < s.length; i++) {
    if (s[i]! < 0 || s[i]! > 1)
      throw new StatsInputError(`scores: calibration needs probabilities in [0, 1]; row ${i} is ${s[i]}`, 'scores', i);
  }
  let positives = 0;
  for (let i = 0; i < y.length; i++) positives += y[i]!;
  return { s, y, positives };
}

/** Brier score: mean of (p − y)². */
export function brierScore(scores: ArrayLike<number>, labels: ArrayLike<number>): number | null {
  const { s, y } = probabilityColumn(scores, labels);
  if (s.length === 0) return null;
  let sum = 0;
  for (let i = 0; i < s.length; i++) sum += (s[i]! - y[i]!) ** 2;
  return sum / s.length;
}

/** ECE = Σ_b (n_b / n)·|mean p_b − mean y_b| = Σ_b |Σp_b − Σy_b| / n. */
export function eceFromBins(bins: BinSums, n: number): number | null {
  if (n === 0) return null;
  let sum = 0;
  for (let b = 0; b < bins.count.length; b++) sum += Math.abs(bins.sumScore[b]! - bins.sumLabel[b]!);
  return sum / n;
}

export interface ReliabilityPoint {
  /** Bin edges on the probability scale (equal-width bins). */
  binLower: number;
  binUpper: number;
  n: number;
  meanPredicted: number;
  observed: number;
  interval: Interval;
}

export function reliabilityFromBins(
  bins: BinSums,
  level = 0.95,
  method: ProportionMethod = 'wilson',
): ReliabilityPoint[] {
  const k = bins.count.length;
  const points: ReliabilityPoint[] = [];
  for (let b = 0; b < k; b++) {
    const n = bins.count[b]!;
    if (n === 0) continue;
    points.push({
      binLower: b / k,
      binUpper: (b + 1) / k,
      n,
      meanPredicted: bins.sumScore[b]! / n,
      observed: bins.sumLabel[b]! / n,
      interval: proportionInterval(bins.sumLabel[b]!, n, level, method),
    });
  }
  return points;
}

function sortedSummary(scores: ArrayLike<number>, labels: ArrayLike<number>, bins: number) {
  const { s, y, positives } = probabilityColumn(scores, labels);
  return summarizeSorted(argsortAscending(s), s.length, positives, s, y, Infinity, null, bins);
}

export function expectedCalibrationError(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  options: { bins?: number; strategy?: BinStrategy } = {},
): number | null {
  const summary = sortedSummary(scores, labels, options.bins ?? DEFAULT_BINS);
  return eceFromBins(options.strategy === 'equal-mass' ? summary.equalMass : summary.equalWidth, summary.n);
}

export function reliabilityCurve(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  bins = DEFAULT_BINS,
): ReliabilityPoint[] {
  return reliabilityFromBins(sortedSummary(scores, labels, bins).equalWidth);
}

export interface LogisticCoefficient {
  /** null when undefined (single class) or the fit did not converge. */
  estimate: number | null;
  se: number | null;
  converged: boolean;
  iterations: number;
  reason?: string;
}

export interface Recalibration {
  /** Calibration-in-the-large: α in logit P(y) = α + logit(p) (slope fixed at 1); 0 when calibrated. */
  intercept: LogisticCoefficient;
  /** Calibration slope: β in logit P(y) = a + β·logit(p); 1 when calibrated, < 1 when over-confident. */
  slope: LogisticCoefficient;
}

/** Per-row covariates of the recalibration fits: logit(p) and the odds against, e^(−logit p) = (1 − p)/p. */
export interface RecalibrationColumns {
  logits: Float64Array;
  oddsAgainst: Float64Array;
}

export function recalibrationColumns(probabilities: Float64Array): RecalibrationColumns {
  const columns = {
    logits: new Float64Array(probabilities.length),
    oddsAgainst: new Float64Array(probabilities.length),
  };
  fillRecalibrationColumns(probabilities, null, probabilities.length, columns);
  return columns;
}

/**
 * Writes the columns of `probabilities[positions[k]]` (of `probabilities[k]` without `positions`) at k, for
 * k < len: the same values `recalibrationColumns` gives each probability, computed where a caller needs them
 * (e.g. straight into a slice's order) instead of kept for every row.
 */
export function fillRecalibrationColumns(
  probabilities: Float64Array,
  positions: Uint32Array | null,
  len: number,
  into: RecalibrationColumns,
): void {
  const { logits, oddsAgainst } = into;
  // sorted scores put ties side by side: a repeated score reuses the values just computed for it
  let last = NaN;
  let odds = 0;
  let logit = 0;
  for (let i = 0; i < len; i++) {
    const raw = probabilities[positions ? positions[i]! : i]!;
    if (raw !== last) {
      last = raw;
      const p = Math.min(1 - LOGIT_CLIP, Math.max(LOGIT_CLIP, raw));
      odds = (1 - p) / p;
      logit = Math.log(p / (1 - p));
    }
    oddsAgainst[i] = odds;
    logits[i] = logit;
  }
}

const MAX_ITER = 50;
/** Newton converges quadratically: once a step is below 1e-8 the remaining error is ~1e-16. */
const TOL = 1e-8;
const DIVERGED = 1e6;

function undefinedFit(reason: string, iterations = 0): LogisticCoefficient {
  return { estimate: null, se: null, converged: false, iterations, reason };
}

/**
 * Newton-Raphson (= IRLS for the logistic likelihood) on the rows `members[0..len)`; `knownPositives`, when
 * the caller has counted them already, is their label sum (saves a pass).
 */
export function fitRecalibration(
  columns: RecalibrationColumns,
  labels: Uint8Array,
  members: Uint32Array,
  len: number,
  knownPositives?: number,
): Recalibration {
  let positives = knownPositives ?? 0;
  if (knownPositives === undefined) for (let k = 0; k < len; k++) positives += labels[members[k]!]!;
  if (positives === 0 || positives === len) {
    const why = `undefined: ${len === 0 ? 'no rows' : positives === 0 ? 'no positives' : 'no negatives'}`;
    return { intercept: undefinedFit(why), slope: undefinedFit(why) };
  }
  const intercept = fitIntercept(columns.oddsAgainst, labels, members, len);
  // the calibration-in-the-large intercept with slope 1 is a good start for the two-parameter fit
  const slope = fitSlope(columns.logits, labels, members, len, intercept.estimate ?? 0);
  return { intercept, slope };
}

/** μ = σ(a + logit p) = 1 / (1 + e^(−a)·(1 − p)/p): no exp per row. */
function fitIntercept(
  oddsAgainst: Float64Array,
  labels: Uint8Array,
  members: Uint32Array,
  len: number,
): LogisticCoefficient {
  let a = 0;
  for (let iter = 1; iter <= MAX_ITER; iter++) {
    let g = 0;
    let h = 0;
    const ea = Math.exp(-a);
    // one division per run of tied scores (adjacent when rows come sorted); sums still add row by row
    let lastX = NaN;
    let mu = 0;
    let w = 0;
    for (let k = 0; k < len; k++) {
      const row = members[k]!;
      const x = oddsAgainst[row]!;
      if (x !== lastX) {
        lastX = x;
        mu = 1 / (1 + ea * x);
        w = mu * (1 - mu);
      }
      g += labels[row]! - mu;
      h += w;
    }
    if (!(h > 0)) return undefinedFit('did not converge: zero information', iter);
    const step = g / h;
    a += step;
    if (!Number.isFinite(a) || Math.abs(a) > DIVERGED)
      return undefinedFit('did not converge: diverging intercept', iter);
    if (Math.abs(step) < TOL * (1 + Math.abs(a)))
      return { estimate: a, se: 1 / Math.sqrt(h), converged: true, iterations: iter };
  }
  return undefinedFit(`did not converge in ${MAX_ITER} iterations`, MAX_ITER);
}

function fitSlope(
  logits: Float64Array,
  labels: Uint8Array,
  members: Uint32Array,
  len: number,
  start: number,
): LogisticCoefficient {
  let a = start;
  let b = 1;
  for (let iter = 1; iter <= MAX_ITER; iter++) {
    let g0 = 0;
    let g1 = 0;
    let h00 = 0;
    let h01 = 0;
    let h11 = 0;
    // Rows usually come sorted by score, so tied scores are adjacent: one exp per run of equal logits.
    // The sums still add row by row, so the result is bit-identical to an exp per row.
    let lastX = NaN;
    let mu = 0;
    let w = 0;
    for (let k = 0; k < len; k++) {
      const row = members[k]!;
      const x = logits[row]!;
      if (x !== lastX) {
        lastX = x;
        mu = 1 / (1 + Math.exp(-(a + b * x)));
        w = mu * (1 - mu);
      }
      const r = labels[row]! - mu;
      g0 += r;
      g1 += r * x;
      h00 += w;
      h01 += w * x;
      h11 += w * x * x;
    }
    const det = h00 * h11 - h01 * h01;
    if (!(det > 1e-12 * h00 * h11))
      return undefinedFit('did not converge: singular information (scores without spread or separated classes)', iter);
    const da = (h11 * g0 - h01 * g1) / det;
    const db = (h00 * g1 - h01 * g0) / det;
    a += da;
    b += db;
    if (!Number.isFinite(a) || !Number.isFinite(b) || Math.abs(b) > DIVERGED || Math.abs(a) > DIVERGED) {
      return undefinedFit('did not converge: coefficients diverge (separated classes)', iter);
    }
    if (Math.abs(da) < TOL * (1 + Math.abs(a)) && Math.abs(db) < TOL * (1 + Math.abs(b))) {
      return { estimate: b, se: Math.sqrt(h00 / det), converged: true, iterations: iter };
    }
  }
  return undefinedFit(`did not converge in ${MAX_ITER} iterations`, MAX_ITER);
}

/** Calibration intercept and slope by logistic recalibration on logit(p). */
export function logisticRecalibration(scores: ArrayLike<number>, labels: ArrayLike<number>): Recalibration {
  const { s, y } = probabilityColumn(scores, labels);
  const members = new Uint32Array(s.length);
  for (let i = 0; i < s.length; i++) members[i] = i;
  return fitRecalibration(recalibrationColumns(s), y, members, s.length);
}
