import {
  argsortAscending,
  averagePrecisionInterval,
  crossSlices,
  crossSlicesWithSubsets,
  eceFromBins,
  encodeAttribute,
  fitRecalibration,
  holmAdjust,
  nonInferiority,
  OVERALL,
  pairedFromPlacements,
  proportionInterval,
  recalibrationColumns,
  rateCounts,
  reliabilityFromBins,
  StatsInputError,
  summarizeSorted,
  thresholdForSensitivity,
  toLabels,
  toScores,
  twoSidedZ,
  type EncodedAttribute,
  type Interval,
  type PairedAucTest,
  type ProportionMethod,
  type Recalibration,
  type ReliabilityPoint,
  type SliceDefinition,
  type SliceSummary,
} from '../stats';
import {
  checkAttributes,
  HIGHER_IS_BETTER,
  referencedAttributes,
  type AcceptancePolicy,
  type Criterion,
  type MetricName,
} from './policy';

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
  /** Declared attribute columns (one string per row), e.g. { site: [...], sex: [...] }. */
  attributes: Record<string, ArrayLike<string>>;
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

interface ModelRaw {
  summary: SliceSummary;
  recalibration: Recalibration | null;
}

interface SliceRaw {
  def: SliceDefinition;
  candidate: ModelRaw;
  incumbent: ModelRaw;
  paired: PairedAucTest | null;
}

const fmt = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(3));
const pct = (level: number) => `${+(level * 100).toFixed(2)}%`;

function chooseThresholds(rule: ThresholdRule): { candidate: ThresholdReport; incumbent: ThresholdReport } {
  if (rule.kind === 'fixed') {
    for (const [name, t] of [
      ['threshold', rule.threshold],
      ['incumbentThreshold', rule.incumbentThreshold ?? rule.threshold],
    ] as const) {
      if (typeof t !== 'number' || Number.isNaN(t))
        throw new StatsInputError(`thresholdRule.${name} must be a number, got ${String(t)}`, name);
    }
    const incumbent = rule.incumbentThreshold ?? rule.threshold;
    return {
      candidate: { threshold: rule.threshold, rule: 'fixed threshold from the policy' },
      incumbent: { threshold: incumbent, rule: 'fixed threshold from the policy' },
    };
  }
  const { tuning, minSensitivity } = rule;
  return {
    candidate: thresholdForSensitivity(tuning.candidateScores, tuning.labels, minSensitivity),
    incumbent: thresholdForSensitivity(tuning.incumbentScores, tuning.labels, minSensitivity),
  };
}

/** All slices the policy needs, overall first, deduplicated by id, grouped by their attribute list. */
function collectSlices(policy: AcceptancePolicy, encoded: Map<string, EncodedAttribute>): SliceDefinition[][] {
  const groups = new Map<string, SliceDefinition[]>([['', [OVERALL]]]);
  for (const c of policy.criteria) {
    if (c.slices === 'overall') continue;
    const attrs = c.slices.attributes.map((a) => encoded.get(a)!);
    const defs = c.slices.includeSubsets ? crossSlicesWithSubsets(attrs) : crossSlices(attrs);
    for (const def of defs) {
      const key = def.attributes.join('\u0000');
      const group = groups.get(key) ?? [];
      if (!group.some((d) => d.id === def.id)) group.push(def);
      groups.set(key, group);
    }
  }
  return [...groups.values()];
}

/** Slice ids of one criterion, in report order. */
function criterionSliceIds(c: Criterion, encoded: Map<string, EncodedAttribute>): string[] {
  if (c.slices === 'overall') return ['overall'];
  const attrs = c.slices.attributes.map((a) => encoded.get(a)!);
  return (c.slices.includeSubsets ? crossSlicesWithSubsets(attrs) : crossSlices(attrs)).map((d) => d.id);
}

/**
 * Stable bucket of a model's global sorted order by the cell of `attrs` (mixed-radix level code): every
 * slice of the group gets its rows already sorted, as one contiguous segment, in O(n).
 */
function bucketByCell(order: Uint32Array, cell: Uint32Array, cells: number, out: Uint32Array): Uint32Array {
  const start = new Uint32Array(cells + 1);
  for (let i = 0; i < cell.length; i++) start[cell[i]! + 1]!++;
  for (let c = 0; c < cells; c++) start[c + 1]! += start[c]!;
  const next = start.slice(0, cells);
  for (let k = 0; k < order.length; k++) {
    const row = order[k]!;
    out[next[cell[row]!]!++] = row;
  }
  return start;
}

/** The pure evaluator: every metric with its interval on every slice the policy names, then each criterion. */
export function evaluateAcceptance(input: EvaluationInput): AcceptanceReport {
  const { policy } = input;
  const labels = toLabels(input.labels);
  const n = labels.length;
  const candidate = toScores(input.candidateScores, 'candidateScores');
  const incumbent = toScores(input.incumbentScores, 'incumbentScores');
  if (candidate.length !== n)
    throw new StatsInputError(`candidateScores has ${candidate.length} rows but labels has ${n}`, 'candidateScores');
  if (incumbent.length !== n)
    throw new StatsInputError(`incumbentScores has ${incumbent.length} rows but labels has ${n}`, 'incumbentScores');
  checkAttributes(policy, Object.keys(input.attributes));
  const encoded = new Map<string, EncodedAttribute>();
  for (const name of referencedAttributes(policy)) encoded.set(name, encodeAttribute(name, input.attributes[name]!, n));

  const thresholds = chooseThresholds(input.thresholdRule);
  const level = policy.confidenceLevel;
  const method = policy.proportionInterval;
  const bins = policy.calibrationBins;

  const models = [
    { scores: candidate, threshold: thresholds.candidate.threshold },
    { scores: incumbent, threshold: thresholds.incumbent.threshold },
  ].map((m) => {
    let probabilities = true;
    for (let i = 0; i < n && probabilities; i++) probabilities = m.scores[i]! >= 0 && m.scores[i]! <= 1;
    return {
      ...m,
      order: argsortAscending(m.scores),
      placement: new Float64Array(n),
      recal: probabilities ? recalibrationColumns(m.scores) : null,
      bucket: new Uint32Array(n),
    };
  });

  const raws: SliceRaw[] = [];
  for (const group of collectSlices(policy, encoded)) {
    const attrs = group[0]!.attributes.map((a) => encoded.get(a)!);
    const cells = attrs.reduce((p, a) => p * Math.max(1, a.levels.length), 1);
    const cell = new Uint32Array(n);
    for (const a of attrs) {
      const k = Math.max(1, a.levels.length);
      for (let i = 0; i < n; i++) cell[i] = cell[i]! * k + a.codes[i]!;
    }
    const starts = models.map((m) => bucketByCell(m.order, cell, cells, m.bucket));
    for (const def of group) {
      const c = def.levelCodes.reduce((acc, l, k) => acc * Math.max(1, attrs[k]!.levels.length) + l, 0);
      const segments = models.map((m, j) => m.bucket.subarray(starts[j]![c]!, starts[j]![c + 1]!));
      const len = segments[0]!.length;
      let positives = 0;
      for (let k = 0; k < len; k++) positives += labels[segments[0]![k]!]!;
      const [rc, ri] = models.map((m, j): ModelRaw => {
        const summary = summarizeSorted(segments[j]!, len, positives, m.scores, labels, m.threshold, m.placement, bins);
        return { summary, recalibration: m.recal ? fitRecalibration(m.recal, labels, segments[j]!, len) : null };
      }) as [ModelRaw, ModelRaw];
      const paired =
        rc.summary.auc !== null && ri.summary.auc !== null
          ? pairedFromPlacements(
              segments[0]!,
              len,
              labels,
              models[0]!.placement,
              models[1]!.placement,
              rc.summary.auc,
              ri.summary.auc,
              level,
            )
          : null;
      raws.push({ def, candidate: rc, incumbent: ri, paired });
    }
  }

  const byId = new Map(raws.map((r) => [r.def.id, r]));
  const criteria = policy.criteria.map((c, i) =>
    judge(c, `criterion-${i + 1}`, criterionSliceIds(c, encoded), byId, policy),
  );
  return {
    accepted: criteria.every((c) => c.passed),
    n,
    thresholds,
    confidenceLevel: level,
    proportionInterval: method,
    criteria,
    slices: raws.map((r) => ({
      slice: r.def.id,
      n: r.candidate.summary.n,
      positives: r.candidate.summary.positives,
      negatives: r.candidate.summary.negatives,
      candidate: modelMetrics(r.candidate, level, method, policy.eceBinning),
      incumbent: modelMetrics(r.incumbent, level, method, policy.eceBinning),
      paired: r.paired,
    })),
  };
}

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

function modelMetrics(
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

const METRIC_LABEL: Record<MetricName, string> = {
  auc: 'AUC',
  sensitivity: 'sensitivity',
  specificity: 'specificity',
  ppv: 'PPV',
  npv: 'NPV',
  brier: 'Brier score',
  ece: 'ECE',
  calibrationSlope: 'calibration slope',
  calibrationIntercept: 'calibration intercept',
  averagePrecision: 'average precision',
};

function judge(
  c: Criterion,
  fallbackId: string,
  sliceIds: string[],
  byId: Map<string, SliceRaw>,
  policy: AcceptancePolicy,
): CriterionReport {
  const id = c.id ?? fallbackId;
  const metric: MetricName = c.kind === 'non-inferiority' ? 'auc' : c.metric;
  const outcomes: SliceOutcome[] = [];
  const insufficient = (slice: string, n: number, why: string): SliceOutcome => ({
    slice,
    n,
    status: 'insufficient',
    value: null,
    reason: `insufficient data on ${slice} (n=${n}): ${why}`,
  });
  const pending: { outcome: SliceOutcome; pValue: number; lowerBound: number; difference: number }[] = [];

  for (const sliceId of sliceIds) {
    const raw = byId.get(sliceId)!;
    const n = raw.candidate.summary.n;
    const where = `on ${sliceId} (n=${n})`;
    if (n === 0 || n < c.minN) {
      outcomes.push(insufficient(sliceId, n, n === 0 ? 'no rows' : `fewer than minN=${c.minN} rows`));
      continue;
    }
    if (c.kind === 'metric-threshold') {
      const confidence = c.confidenceLevel ?? policy.confidenceLevel;
      const v = metricValue(raw.candidate, c.metric, confidence, policy.proportionInterval, policy.eceBinning);
      const value =
        c.bound === 'estimate'
          ? v.estimate
          : c.bound === 'lower'
            ? (v.interval?.lower ?? null)
            : (v.interval?.upper ?? null);
      const what =
        c.bound === 'estimate'
          ? METRIC_LABEL[c.metric]
          : `${METRIC_LABEL[c.metric]} ${c.bound} ${pct(confidence)} bound`;
      if (value === null) {
        outcomes.push(insufficient(sliceId, n, `${what} is undefined (${v.reason ?? 'no interval'})`));
        continue;
      }
      const ok = c.op === '>=' ? value >= c.value : value <= c.value;
      const rel = ok ? c.op : c.op === '>=' ? '<' : '>';
      outcomes.push({
        slice: sliceId,
        n,
        status: ok ? 'pass' : 'fail',
        value,
        reason: `${what} ${fmt(value)} ${rel} ${c.value} ${where}`,
      });
    } else if (c.kind === 'max-drop') {
      const higher = HIGHER_IS_BETTER.includes(c.metric);
      const cand = metricValue(
        raw.candidate,
        c.metric,
        policy.confidenceLevel,
        policy.proportionInterval,
        policy.eceBinning,
      ).estimate;
      const inc = metricValue(
        raw.incumbent,
        c.metric,
        policy.confidenceLevel,
        policy.proportionInterval,
        policy.eceBinning,
      ).estimate;
      if (cand === null || inc === null) {
        outcomes.push(
          insufficient(
            sliceId,
            n,
            `${METRIC_LABEL[c.metric]} is undefined for the ${cand === null ? 'candidate' : 'incumbent'}`,
          ),
        );
        continue;
      }
      const drop = higher ? inc - cand : cand - inc;
      const ok = drop <= c.maxDrop;
      outcomes.push({
        slice: sliceId,
        n,
        status: ok ? 'pass' : 'fail',
        value: drop,
        reason: `${METRIC_LABEL[c.metric]} ${higher ? 'drops' : 'worsens'} by ${fmt(drop)} (candidate ${fmt(cand)}, incumbent ${fmt(inc)}) ${ok ? '≤' : '>'} ${c.maxDrop} ${where}`,
      });
    } else {
      if (raw.paired === null) {
        outcomes.push(insufficient(sliceId, n, 'paired DeLong test needs at least 2 positives and 2 negatives'));
        continue;
      }
      const ni = nonInferiority(raw.paired, c.margin, c.alpha);
      const outcome: SliceOutcome = {
        slice: sliceId,
        n,
        status: 'pass',
        value: ni.lowerBound,
        reason: '',
        pValue: ni.pValue,
      };
      outcomes.push(outcome);
      pending.push({ outcome, pValue: ni.pValue, lowerBound: ni.lowerBound, difference: ni.difference });
    }
  }

  if (c.kind === 'non-inferiority') {
    const adjusted =
      c.multiplicity === 'holm' ? holmAdjust(pending.map((p) => p.pValue)) : pending.map((p) => p.pValue);
    pending.forEach((p, k) => {
      const adj = adjusted[k]!;
      const ok = adj < c.alpha;
      p.outcome.status = ok ? 'pass' : 'fail';
      if (c.multiplicity === 'holm') p.outcome.adjustedPValue = adj;
      const bound = `one-sided ${pct(1 - c.alpha)} lower bound ${fmt(p.lowerBound)}`;
      const test =
        c.multiplicity === 'holm'
          ? `Holm-adjusted p=${adj.toPrecision(3)} ${ok ? '<' : '≥'} α=${c.alpha}`
          : `p=${adj.toPrecision(3)}`;
      p.outcome.reason = `AUC difference ${fmt(p.difference)} (${bound} ${ok ? '>' : '≤'} −${c.margin}; ${test}) on ${p.outcome.slice} (n=${p.outcome.n})`;
      if (c.multiplicity !== 'holm' && ok !== p.lowerBound > -c.margin) {
        // the bound and the p-value agree except at exact ties; say which decided
        p.outcome.reason += ' [decided by the p-value]';
      }
    });
  }

  const failed = outcomes.filter((o) => o.status === 'fail');
  const short = outcomes.filter((o) => o.status === 'insufficient');
  let status: Outcome = 'pass';
  if (failed.length > 0) status = 'fail';
  else if (short.length > 0 && c.onInsufficient === 'fail') status = 'insufficient';
  const reason =
    status === 'fail'
      ? failed.map((o) => o.reason).join('; ')
      : status === 'insufficient'
        ? `${short.map((o) => o.reason).join('; ')} (onInsufficient: fail)`
        : short.length > 0
          ? `all ${outcomes.length - short.length} evaluable slices pass; ${short.length} with insufficient data ignored by policy: ${short.map((o) => o.slice).join(', ')}`
          : `all ${outcomes.length} slices pass`;
  return { id, kind: c.kind, metric, status, passed: status === 'pass', reason, slices: outcomes };
}
