import { argsortAscending, reliabilityCurve, toLabels, toScores, type ReliabilityPoint } from '../stats';
import { assertSameLength } from '../stats/validate';

/** Default cap on the points kept per curve: enough to draw the shape, small enough to store as evidence. */
export const DEFAULT_MAX_POINTS = 200;

/**
 * ROC points at "alert when score ≥ threshold", thresholds descending: starts at (0, 0) (threshold +∞)
 * and ends at (1, 1) (the lowest score). Empty when a class is absent.
 */
export interface RocCurve {
  fpr: Float64Array;
  tpr: Float64Array;
  thresholds: Float64Array;
  positives: number;
  negatives: number;
}

/** Precision-recall points at the same thresholds (no point at +∞: precision is undefined there); recall ascending. */
export interface PrCurve {
  recall: Float64Array;
  precision: Float64Array;
  thresholds: Float64Array;
  positives: number;
  negatives: number;
}

export interface ModelCurves {
  roc: RocCurve;
  pr: PrCurve;
  /** Equal-width reliability bins (src/stats reliabilityCurve); empty when the scores are not probabilities. */
  reliability: ReliabilityPoint[];
}

/** Cumulative counts at every tie-group boundary of the scores sorted descending (index 0 = nothing alerted). */
interface Operating {
  tp: Float64Array;
  fp: Float64Array;
  thresholds: Float64Array;
  positives: number;
  negatives: number;
}

function operatingPoints(scores: ArrayLike<number>, labels: ArrayLike<number>): Operating {
  const s = toScores(scores, 'scores');
  const y = toLabels(labels);
  assertSameLength(y.length, 'labels', s.length, 'scores');
  const n = s.length;
  const order = argsortAscending(s);
  // At most n + 1 boundaries; trimmed to the number of distinct scores + 1 below.
  const tp = new Float64Array(n + 1);
  const fp = new Float64Array(n + 1);
  const thresholds = new Float64Array(n + 1);
  thresholds[0] = Infinity;
  let g = 0;
  let cumTp = 0;
  let cumFp = 0;
  for (let k = n - 1; k >= 0;) {
    const score = s[order[k]!]!;
    while (k >= 0 && s[order[k]!] === score) {
      if (y[order[k]!] === 1) cumTp++;
      else cumFp++;
      k--;
    }
    g++;
    tp[g] = cumTp;
    fp[g] = cumFp;
    thresholds[g] = score;
  }
  return {
    tp: tp.subarray(0, g + 1),
    fp: fp.subarray(0, g + 1),
    thresholds: thresholds.subarray(0, g + 1),
    positives: cumTp,
    negatives: cumFp,
  };
}

/**
 * Boundaries to keep, ascending. Position along the sorted scores is measured as tp/P + fp/N (0 → 2), i.e. each
 * row weighted by 1/(its class size), so a rare class's steps are as visible as the common class's. About
 * maxPoints/2 evenly spaced targets; for each, the first boundary at or past it and the boundary before it
 * (so a large tie group is kept as its own, exact, straight segment). Always keeps both extremes; ≤ maxPoints.
 */
function selectBoundaries(op: Operating, maxPoints: number): Uint32Array {
  const last = op.tp.length - 1;
  if (last + 1 <= maxPoints) return Uint32Array.from({ length: last + 1 }, (_, i) => i);
  const targets = Math.floor(maxPoints / 2); // ≤ 2 per interior target + both extremes ≤ maxPoints
  const step = 2 / targets;
  const pos = (j: number) => op.tp[j]! / op.positives + op.fp[j]! / op.negatives;
  const keep: number[] = [0];
  const push = (j: number) => {
    if (j > keep[keep.length - 1]!) keep.push(j);
  };
  let j = 1;
  for (let t = 1; t < targets; t++) {
    const target = t * step;
    while (j < last && pos(j) < target) j++;
    push(j - 1);
    push(j);
  }
  push(last);
  return Uint32Array.from(keep);
}

function checkMaxPoints(maxPoints: number): void {
  if (!Number.isInteger(maxPoints) || maxPoints < 4)
    throw new RangeError(`maxPoints must be an integer ≥ 4, got ${maxPoints}`);
}

function rocFrom(op: Operating, keep: Uint32Array): RocCurve {
  const m = keep.length;
  const fpr = new Float64Array(m);
  const tpr = new Float64Array(m);
  const thresholds = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    const j = keep[i]!;
    fpr[i] = op.fp[j]! / op.negatives;
    tpr[i] = op.tp[j]! / op.positives;
    thresholds[i] = op.thresholds[j]!;
  }
  return { fpr, tpr, thresholds, positives: op.positives, negatives: op.negatives };
}

function prFrom(op: Operating, keep: Uint32Array): PrCurve {
  const m = keep.length - 1; // boundary 0 (nothing alerted) has no precision
  const recall = new Float64Array(m);
  const precision = new Float64Array(m);
  const thresholds = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    const j = keep[i + 1]!;
    recall[i] = op.tp[j]! / op.positives;
    precision[i] = op.tp[j]! / (op.tp[j]! + op.fp[j]!);
    thresholds[i] = op.thresholds[j]!;
  }
  return { recall, precision, thresholds, positives: op.positives, negatives: op.negatives };
}

const emptyRoc = (op: Operating): RocCurve => ({
  fpr: new Float64Array(0),
  tpr: new Float64Array(0),
  thresholds: new Float64Array(0),
  positives: op.positives,
  negatives: op.negatives,
});
const emptyPr = (op: Operating): PrCurve => ({
  recall: new Float64Array(0),
  precision: new Float64Array(0),
  thresholds: new Float64Array(0),
  positives: op.positives,
  negatives: op.negatives,
});

/** Down-sampled ROC curve, O(n log n) (one radix argsort). Ties are one step (a straight segment, as in AUC with ties ½). */
export function rocCurve(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  maxPoints = DEFAULT_MAX_POINTS,
): RocCurve {
  checkMaxPoints(maxPoints);
  const op = operatingPoints(scores, labels);
  if (op.positives === 0 || op.negatives === 0) return emptyRoc(op);
  return rocFrom(op, selectBoundaries(op, maxPoints));
}

/** Down-sampled precision-recall curve at the same kinds of thresholds; empty when there are no positives. */
export function precisionRecallCurve(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  maxPoints = DEFAULT_MAX_POINTS,
): PrCurve {
  checkMaxPoints(maxPoints);
  const op = operatingPoints(scores, labels);
  if (op.positives === 0 || op.negatives === 0) return emptyPr(op);
  return prFrom(op, selectBoundaries(op, maxPoints));
}

/** ROC, PR and reliability points of one model, sorting the scores once. */
export function modelCurves(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  options: { maxPoints?: number; bins?: number } = {},
): ModelCurves {
  const maxPoints = options.maxPoints ?? DEFAULT_MAX_POINTS;
  checkMaxPoints(maxPoints);
  const op = operatingPoints(scores, labels);
  let probabilities = true;
  for (let i = 0; i < scores.length && probabilities; i++) probabilities = scores[i]! >= 0 && scores[i]! <= 1;
  const reliability = probabilities && scores.length > 0 ? reliabilityCurve(scores, labels, options.bins) : [];
  if (op.positives === 0 || op.negatives === 0) return { roc: emptyRoc(op), pr: emptyPr(op), reliability };
  const keep = selectBoundaries(op, maxPoints);
  return { roc: rocFrom(op, keep), pr: prFrom(op, keep), reliability };
}

/** Trapezoidal area under (x, y) points, x ascending — the ROC AUC with ties ½ when given every point. */
export function trapezoidArea(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let area = 0;
  for (let i = 1; i < x.length; i++) area += ((x[i]! - x[i - 1]!) * (y[i]! + y[i - 1]!)) / 2;
  return area;
}
