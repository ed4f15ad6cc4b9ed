/** The evaluation's input and report shapes. */
import type {
  Interval,
  PairedAucTest,
  ProportionMethod,
  Recalibration,
  ReliabilityPoint,
  SliceDefinition,
  SliceSummary,
} from '../stats';
import type { AcceptancePolicy, Criterion, MetricName } from './policy';

/** An attribute column as codes into `levels` (any order of levels; unused levels are allowed). */
export interface CodedAttribute {
  codes: Uint8Array | Uint16Array | Uint32Array;
  levels: readonly string[];
}

export type ThresholdRule =
  | { kind: 'fixed'; threshold: number; incumbentThreshold?: number }
  | {
      kind: 'max-specificity-at-sensitivity';
      minSensitivity: number;
      /** A designated tuning split, disjoint from the evaluation rows: the threshold is chosen here and locked. */
      tuning: { labels: ArrayLike<number>; candidateScores: ArrayLike<number>; incumbentScores: ArrayLike<number> };
    };

export interface EvaluationInput {
  labels: ArrayLike<number>;
  candidateScores: ArrayLike<number>;
  incumbentScores: ArrayLike<number>;
  /**
   * Declared attribute columns, e.g. { site: [...], sex: [...] }: one string per row, or already coded
   * (a reader's interned column: level codes per row and the level strings).
   */
  attributes: Record<string, ArrayLike<string> | CodedAttribute>;
  thresholdRule: ThresholdRule;
  policy: AcceptancePolicy;
}

/** A reported number: its estimate, interval and method; null estimate means undefined, with the reason. */
export interface MetricValue {
  estimate: number | null;
  interval: Interval | null;
  method: string;
  /** Numerator and denominator for rates. */
  x?: number;
  n?: number;
  reason?: string;
}

export interface ModelSliceMetrics {
  threshold: number;
  auc: MetricValue;
  averagePrecision: MetricValue;
  sensitivity: MetricValue;
  specificity: MetricValue;
  ppv: MetricValue;
  npv: MetricValue;
  brier: MetricValue;
  ece: MetricValue;
  eceEqualWidth: MetricValue;
  eceEqualMass: MetricValue;
  calibrationIntercept: MetricValue;
  calibrationSlope: MetricValue;
  reliability: ReliabilityPoint[];
}

export interface SliceReport {
  slice: string;
  n: number;
  positives: number;
  negatives: number;
  candidate: ModelSliceMetrics;
  incumbent: ModelSliceMetrics;
  /** Paired DeLong test of candidate − incumbent AUC; null when a class has fewer than 2 rows. */
  paired: PairedAucTest | null;
}

export type Outcome = 'pass' | 'fail' | 'insufficient';

export interface SliceOutcome {
  slice: string;
  n: number;
  status: Outcome;
  /** The compared quantity (bound, estimate, difference or drop); null when undefined. */
  value: number | null;
  reason: string;
  pValue?: number;
  adjustedPValue?: number;
}

export interface CriterionReport {
  id: string;
  kind: Criterion['kind'];
  metric: MetricName;
  /** pass: every slice passed (insufficient ones ignored only when the policy says so). */
  status: Outcome;
  passed: boolean;
  reason: string;
  slices: SliceOutcome[];
}

export interface AcceptanceReport {
  accepted: boolean;
  n: number;
  thresholds: { candidate: ThresholdReport; incumbent: ThresholdReport };
  confidenceLevel: number;
  proportionInterval: ProportionMethod;
  criteria: CriterionReport[];
  slices: SliceReport[];
}

export interface ThresholdReport {
  threshold: number;
  rule: string;
  tuningSensitivity?: number;
  tuningSpecificity?: number;
  tuningN?: number;
}

/** One model's raw per-slice sums and recalibration fit, from which every metric is derived. */
export interface ModelRaw {
  summary: SliceSummary;
  recalibration: Recalibration | null;
}

export interface SliceRaw {
  def: SliceDefinition;
  candidate: ModelRaw;
  incumbent: ModelRaw;
  paired: PairedAucTest | null;
}
