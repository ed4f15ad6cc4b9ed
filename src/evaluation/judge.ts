/** Judging one pre-registered criterion against the measured slices: pure, with a reason for every verdict. */
import { holmAdjust, nonInferiority } from '../stats';
import { metricValue } from './metrics';
import { HIGHER_IS_BETTER, type AcceptancePolicy, type Criterion, type MetricName } from './policy';
import type { CriterionReport, Outcome, SliceOutcome, SliceRaw } from './types';

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

const fmt = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(3));
const pct = (level: number) => `${+(level * 100).toFixed(2)}%`;

function insufficient(slice: string, n: number, why: string): SliceOutcome {
  return { slice, n, status: 'insufficient', value: null, reason: `insufficient data on ${slice} (n=${n}): ${why}` };
}

type ThresholdCriterion = Extract<Criterion, { kind: 'metric-threshold' }>;
type DropCriterion = Extract<Criterion, { kind: 'max-drop' }>;
type NonInferiorityCriterion = Extract<Criterion, { kind: 'non-inferiority' }>;

function judgeThreshold(c: ThresholdCriterion, sliceId: string, raw: SliceRaw, policy: AcceptancePolicy): SliceOutcome {
  const n = raw.candidate.summary.n;
  const confidence = c.confidenceLevel ?? policy.confidenceLevel;
  const v = metricValue(raw.candidate, c.metric, confidence, policy.proportionInterval, policy.eceBinning);
  const value =
    c.bound === 'estimate'
      ? v.estimate
      : c.bound === 'lower'
        ? (v.interval?.lower ?? null)
        : (v.interval?.upper ?? null);
  const what =
    c.bound === 'estimate' ? METRIC_LABEL[c.metric] : `${METRIC_LABEL[c.metric]} ${c.bound} ${pct(confidence)} bound`;
  if (value === null) return insufficient(sliceId, n, `${what} is undefined (${v.reason ?? 'no interval'})`);
  const ok = c.op === '>=' ? value >= c.value : value <= c.value;
  const rel = ok ? c.op : c.op === '>=' ? '<' : '>';
  return {
    slice: sliceId,
    n,
    status: ok ? 'pass' : 'fail',
    value,
    reason: `${what} ${fmt(value)} ${rel} ${c.value} on ${sliceId} (n=${n})`,
  };
}

/** How a metric moved from incumbent to candidate, in words ("drops", "rises", "worsens", "improves"). */
export function changeWord(higherIsBetter: boolean, drop: number): string {
  if (drop === 0) return higherIsBetter ? 'drops' : 'worsens';
  if (higherIsBetter) return drop > 0 ? 'drops' : 'rises';
  return drop > 0 ? 'worsens' : 'improves';
}

function judgeDrop(c: DropCriterion, sliceId: string, raw: SliceRaw, policy: AcceptancePolicy): SliceOutcome {
  const n = raw.candidate.summary.n;
  const higher = HIGHER_IS_BETTER.includes(c.metric);
  const estimate = (which: 'candidate' | 'incumbent') =>
    metricValue(raw[which], c.metric, policy.confidenceLevel, policy.proportionInterval, policy.eceBinning).estimate;
  const cand = estimate('candidate');
  const inc = estimate('incumbent');
  if (cand === null || inc === null) {
    const who = cand === null ? 'candidate' : 'incumbent';
    return insufficient(sliceId, n, `${METRIC_LABEL[c.metric]} is undefined for the ${who}`);
  }
  const drop = higher ? inc - cand : cand - inc;
  const ok = drop <= c.maxDrop;
  return {
    slice: sliceId,
    n,
    status: ok ? 'pass' : 'fail',
    value: drop,
    // A negative drop is an improvement: say so rather than "drops by -0.039".
    reason: `${METRIC_LABEL[c.metric]} ${changeWord(higher, drop)} by ${fmt(Math.abs(drop))} (candidate ${fmt(cand)}, incumbent ${fmt(inc)}) ${drop > 0 ? `${ok ? '≤' : '>'} ${c.maxDrop}` : `(allowed drop ${c.maxDrop})`} on ${sliceId} (n=${n})`,
  };
}

interface PendingTest {
  outcome: SliceOutcome;
  pValue: number;
  lowerBound: number;
  difference: number;
}

/** Non-inferiority verdicts once every slice's p-value is known (Holm adjusts across them). */
function settleNonInferiority(c: NonInferiorityCriterion, pending: PendingTest[]): void {
  const holm = c.multiplicity === 'holm';
  const adjusted = holm ? holmAdjust(pending.map((p) => p.pValue)) : pending.map((p) => p.pValue);
  pending.forEach((p, k) => {
    const adj = adjusted[k]!;
    const ok = adj < c.alpha;
    p.outcome.status = ok ? 'pass' : 'fail';
    if (holm) p.outcome.adjustedPValue = adj;
    const bound = `one-sided ${pct(1 - c.alpha)} lower bound ${fmt(p.lowerBound)}`;
    const test = holm
      ? `Holm-adjusted p=${adj.toPrecision(3)} ${ok ? '<' : '≥'} α=${c.alpha}`
      : `p=${adj.toPrecision(3)}`;
    p.outcome.reason = `AUC difference ${fmt(p.difference)} (${bound} ${ok ? '>' : '≤'} −${c.margin}; ${test}) on ${p.outcome.slice} (n=${p.outcome.n})`;
    // the bound and the p-value agree except at exact ties; say which decided
    if (!holm && ok !== p.lowerBound > -c.margin) p.outcome.reason += ' [decided by the p-value]';
  });
}

function verdict(outcomes: SliceOutcome[], onInsufficient: Criterion['onInsufficient']): [Outcome, string] {
  const failed = outcomes.filter((o) => o.status === 'fail');
  const short = outcomes.filter((o) => o.status === 'insufficient');
  if (failed.length > 0) return ['fail', failed.map((o) => o.reason).join('; ')];
  if (short.length > 0 && onInsufficient === 'fail')
    return ['insufficient', `${short.map((o) => o.reason).join('; ')} (onInsufficient: fail)`];
  if (short.length > 0)
    return [
      'pass',
      `all ${outcomes.length - short.length} evaluable slices pass; ${short.length} with insufficient data ignored by policy: ${short.map((o) => o.slice).join(', ')}`,
    ];
  return ['pass', `all ${outcomes.length} slices pass`];
}

/** One criterion over its slices (in report order); `byId` holds every measured slice. */
export function judge(
  c: Criterion,
  fallbackId: string,
  sliceIds: string[],
  byId: Map<string, SliceRaw>,
  policy: AcceptancePolicy,
): CriterionReport {
  const metric: MetricName = c.kind === 'non-inferiority' ? 'auc' : c.metric;
  const outcomes: SliceOutcome[] = [];
  const pending: PendingTest[] = [];
  for (const sliceId of sliceIds) {
    const raw = byId.get(sliceId)!;
    const n = raw.candidate.summary.n;
    if (n === 0 || n < c.minN) {
      outcomes.push(insufficient(sliceId, n, n === 0 ? 'no rows' : `fewer than minN=${c.minN} rows`));
    } else if (c.kind === 'metric-threshold') {
      outcomes.push(judgeThreshold(c, sliceId, raw, policy));
    } else if (c.kind === 'max-drop') {
      outcomes.push(judgeDrop(c, sliceId, raw, policy));
    } else if (raw.paired === null) {
      outcomes.push(insufficient(sliceId, n, 'paired DeLong test needs at least 2 positives and 2 negatives'));
    } else {
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
  if (c.kind === 'non-inferiority') settleNonInferiority(c, pending);
  const [status, reason] = verdict(outcomes, c.onInsufficient);
  return { id: c.id ?? fallbackId, kind: c.kind, metric, status, passed: status === 'pass', reason, slices: outcomes };
}
