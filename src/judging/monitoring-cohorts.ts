/**
 * MONITORING per clinical cohort: each guarded cohort's live window against the released model's validated figures
 * in that cohort (OFFLINE_EVAL's locked evaluation rows). The whole-release window check (`judgeGuardrails`) is a
 * point-estimate limit; per cohort, with a few dozen positives a window, a point estimate would trip on noise in
 * some cohort nearly every window, so each cohort rule fails only when exact confidence bounds put the drift
 * beyond the policy's own limits:
 *
 *   performance drift   live sensitivity upper bound < validated lower bound − monitoring.guardrails.maxSensitivityDrop
 *   alert-rate drift    live alert-rate lower bound > maxAlertRateRatio × validated upper bound, or
 *                       live upper bound < validated lower bound / maxAlertRateRatio
 *
 * If every bound covers its proportion, no rule can fire while the true drift is within the limits, so the chance
 * of any false drift verdict, over all cohorts and all of the policy's monitoring windows, is at most the sum of
 * the bounds' miscoverage: α (the canary's `sequential.alpha`) split by Bonferroni over budgeted cohorts × (3 live
 * bounds × windows + 3 validated bounds, which are the same in every window). Bounds: the exact beta-binomial
 * confidence sequence (src/stats/sequential/binomial.ts), valid at any n.
 */
import {
  DEFAULT_COHORT_GUARDRAILS,
  type ArmStats,
  type Decision,
  type LiveMeasurement,
  type ReleasePolicy,
} from '../domain';
import { binomialConfidenceSequence } from '../stats/sequential';
import { labelSource, withoutSourceLabel } from './source-label';

export interface MonitoringCohortVerdict {
  cohort: string;
  verdict: 'pass' | 'drift' | 'not-comparable' | 'unbudgeted';
  reason: string;
  live: ArmStats;
  validated: ArmStats;
  sensitivity: { liveUpper: number; validatedLower: number; limit: number; breached: boolean } | null;
  alertRate: {
    liveLower: number;
    liveUpper: number;
    validatedLower: number;
    validatedUpper: number;
    high: boolean;
    low: boolean;
  } | null;
}

export interface MonitoringCohortJudgement {
  alpha: number;
  /** Miscoverage of each bound: alpha / (budgeted × (3 × windows + 3)). */
  perBound: number;
  budgeted: number;
  windows: number;
  cohorts: MonitoringCohortVerdict[];
  failures: string[];
  inconclusive: string[];
  /** Cohorts that could not be compared (no validated figures): named in the window's reasons, verdict unchanged. */
  notes: string[];
}

const f3 = (x: number | null): string => (x === null ? 'undefined' : x.toFixed(3));

/** Judge each cohort of a monitoring window (`m.cohorts`: live treatment vs validated comparator). */
export function judgeMonitoringCohorts(
  m: Pick<LiveMeasurement, 'window' | 'cohorts'>,
  policy: Pick<ReleasePolicy, 'canary' | 'monitoring'>,
): MonitoringCohortJudgement {
  const c = policy.canary.sequential?.cohorts ?? DEFAULT_COHORT_GUARDRAILS;
  const alpha = policy.canary.sequential?.alpha ?? 0.05;
  const g = policy.monitoring.guardrails;
  const budgeted = Math.max(1, c.attributes.length * c.maxLevels);
  const windows = Math.max(1, policy.monitoring.intervals);
  const perBound = alpha / (budgeted * (3 * windows + 3));
  const out: MonitoringCohortJudgement = {
    alpha,
    perBound,
    budgeted,
    windows,
    cohorts: [],
    failures: [],
    inconclusive: [],
    notes: [],
  };
  const levels = new Map<string, number>();
  for (const key of Object.keys(m.cohorts ?? {}).sort()) {
    const attribute = key.slice(0, key.indexOf('='));
    if (!c.attributes.includes(attribute)) continue;
    const rank = levels.get(attribute) ?? 0;
    levels.set(attribute, rank + 1);
    const { treatment: live, comparator: validated } = m.cohorts![key]!;
    const base = { cohort: key, live, validated, sensitivity: null, alertRate: null };
    if (rank >= c.maxLevels) {
      out.cohorts.push({ ...base, verdict: 'unbudgeted', reason: `${key}: beyond cohorts.maxLevels; not compared` });
      out.inconclusive.push(
        `${key} was not judged in ${m.window}: more levels than cohorts.maxLevels = ${c.maxLevels}`,
      );
      continue;
    }
    if (validated.n === 0) {
      const reason = `${key}: no validated figures (the cohort is not in the locked evaluation data); not compared in ${m.window}`;
      out.cohorts.push({ ...base, verdict: 'not-comparable', reason });
      // The release is already serving: a site the validation never had is a finding to read, not a drift.
      out.notes.push(reason);
      continue;
    }
    const bound = (x: number, n: number) => binomialConfidenceSequence(x, n, perBound);
    let sensitivity: MonitoringCohortVerdict['sensitivity'] = null;
    if (live.positives > 0 && validated.positives > 0) {
      const liveUpper = bound(live.truePositives, live.positives).upper;
      const validatedLower = bound(validated.truePositives, validated.positives).lower;
      const limit = validatedLower - g.maxSensitivityDrop;
      sensitivity = { liveUpper, validatedLower, limit, breached: liveUpper < limit };
    }
    let alertRate: MonitoringCohortVerdict['alertRate'] = null;
    if (live.n > 0) {
      const l = bound(live.alerts, live.n);
      const v = bound(validated.alerts, validated.n);
      alertRate = {
        liveLower: l.lower,
        liveUpper: l.upper,
        validatedLower: v.lower,
        validatedUpper: v.upper,
        high: l.lower > g.maxAlertRateRatio * v.upper,
        low: l.upper < v.lower / g.maxAlertRateRatio,
      };
    }
    const counts = `live sensitivity ${f3(live.sensitivity)} of ${live.positives}, alert rate ${f3(live.alertRate)} of ${live.n}; validated ${f3(validated.sensitivity)} of ${validated.positives}, ${f3(validated.alertRate)} of ${validated.n}`;
    const drift: string[] = [];
    if (sensitivity?.breached)
      drift.push(
        `performance drift: sensitivity upper bound ${f3(sensitivity.liveUpper)} below the validated lower bound ${f3(sensitivity.validatedLower)} − ${g.maxSensitivityDrop}`,
      );
    if (alertRate?.high)
      drift.push(
        `alert-rate drift: alert rate lower bound ${f3(alertRate.liveLower)} above ${g.maxAlertRateRatio} × the validated upper bound ${f3(alertRate.validatedUpper)}`,
      );
    if (alertRate?.low)
      drift.push(
        `alert-rate drift: alert rate upper bound ${f3(alertRate.liveUpper)} below the validated lower bound ${f3(alertRate.validatedLower)} / ${g.maxAlertRateRatio}`,
      );
    const bounds = `exact bounds at α = ${perBound.toPrecision(2)} each`;
    if (drift.length > 0) {
      const reason = `${key}: ${drift.join('; ')} in ${m.window} (${counts}; ${bounds})`;
      out.cohorts.push({ ...base, sensitivity, alertRate, verdict: 'drift', reason });
      out.failures.push(reason);
    } else {
      out.cohorts.push({
        ...base,
        sensitivity,
        alertRate,
        verdict: 'pass',
        reason: `${key}: within limits (${counts})`,
      });
    }
  }
  return out;
}

/**
 * A monitoring window's decision: `whole` (the whole-release guardrails, `judgeGuardrails`) and, when the window
 * measured cohorts, each cohort against its validated figures (a cohort's drift comes first: it names where the
 * model stopped working).
 */
export function withMonitoringCohorts(
  whole: Decision,
  m: LiveMeasurement,
  policy: Pick<ReleasePolicy, 'canary' | 'monitoring'>,
): Decision & { cohorts?: MonitoringCohortJudgement } {
  // The whole-release decision comes labelled already; the label goes on this decision's own headline.
  return labelSource(monitoringWindowDecision(withoutSourceLabel(whole), m, policy), m.source);
}

function monitoringWindowDecision(
  whole: Decision,
  m: LiveMeasurement,
  policy: Pick<ReleasePolicy, 'canary' | 'monitoring'>,
): Decision & { cohorts?: MonitoringCohortJudgement } {
  if (m.cohorts === undefined) return whole;
  const j = judgeMonitoringCohorts(m, policy);
  const wholeFailures = whole.verdict === 'fail' ? whole.reasons : [];
  if (j.failures.length > 0 || wholeFailures.length > 0)
    return {
      verdict: 'fail',
      reasons: [...j.failures, ...wholeFailures, ...j.inconclusive, ...j.notes],
      cohorts: j,
    };
  if (whole.verdict === 'inconclusive' || j.inconclusive.length > 0)
    return {
      verdict: 'inconclusive',
      reasons: [...(whole.verdict === 'inconclusive' ? whole.reasons : []), ...j.inconclusive, ...j.notes],
      cohorts: j,
    };
  const each = j.cohorts.filter((x) => x.verdict === 'pass').map((x) => `${x.cohort} within limits`);
  return {
    verdict: 'pass',
    reasons: [`${whole.reasons[0]}; cohorts: ${each.join(', ') || 'none compared'}`, ...j.notes],
    cohorts: j,
  };
}
