/**
 * Canary guardrails judged on the whole history of intervals, not one window: the sensitivity comparison is an
 * anytime-valid sequential test (src/stats/sequential), so checking it every interval does not inflate the
 * false-rollback rate above α. Pure: history + policy → decision; the workflow records and replays it.
 */
import type { ArmStats, CohortGuardrails, Decision, LiveMeasurement, SequentialGuardrails } from '../domain';
import {
  sequentialHarmTest,
  type HarmMixture,
  type IntervalCounts,
  type SequentialHarmResult,
} from '../stats/sequential';
import { judgeCohorts, type CohortJudgement } from './cohort-guardrails';
import { labelSource } from './source-label';

/** One canary interval as the sequential judge reads it (the domain's live measurement). */
export type CanaryIntervalMeasurement = LiveMeasurement;

/** The policy's sequential guardrails as the judge needs them (maxExtensions is the workflow's business). */
export type SequentialGuardrailsInput = Omit<SequentialGuardrails, 'maxExtensions' | 'harmMargin' | 'cohorts'> & {
  harmMargin: number;
};

type Check = SequentialGuardrailsDecision['evidence']['checks'][number];

export interface SequentialGuardrailsDecision extends Decision {
  /** What was computed, for the evidence record: every look of the sequential test and the operational checks. */
  evidence: {
    interval: string;
    sequential: SequentialHarmResult | null;
    cumulative: { treatment: Totals; comparator: Totals };
    checks: { name: string; value: number | null; limit: number; status: 'pass' | 'fail' | 'inconclusive' }[];
    /** Per-cohort verdicts and statistics, with how α was split (absent when cohorts are not judged). */
    cohorts?: CohortJudgement;
  };
}

interface Totals {
  n: number;
  positives: number;
  truePositives: number;
  alerts: number;
}

const f4 = (x: number | null): string => (x === null ? 'undefined' : x.toFixed(4));

function add(t: Totals, a: ArmStats): Totals {
  return {
    n: t.n + a.n,
    positives: t.positives + a.positives,
    truePositives: t.truePositives + a.truePositives,
    alerts: t.alerts + a.alerts,
  };
}

const zero: Totals = { n: 0, positives: 0, truePositives: 0, alerts: 0 };

/**
 * Judge the canary after its latest interval. `history` is every interval so far, oldest first (per-interval
 * counts, not running totals). Verdicts:
 *   fail          the sequential test has declared harm at any look so far (sticky), or an operational
 *                 guardrail is breached in the latest interval (alert-rate ratio: cumulative);
 *   inconclusive  too few labelled positives in either arm (extend or hold — never a pass), a configured signal
 *                 is missing, or `final` and non-inferiority is required but not yet shown;
 *   pass          otherwise: continue (or, when `final`, promote).
 */
export function judgeGuardrailsSequential(
  history: readonly CanaryIntervalMeasurement[],
  g: SequentialGuardrailsInput,
  options: { final?: boolean; cohorts?: CohortGuardrails; mixture?: HarmMixture } = {},
): SequentialGuardrailsDecision {
  const failures: string[] = [];
  const inconclusive: string[] = [];
  const checks: SequentialGuardrailsDecision['evidence']['checks'] = [];
  const latest = history[history.length - 1];
  if (!latest) {
    return {
      verdict: 'inconclusive',
      reasons: ['no canary intervals measured yet'],
      evidence: { interval: '', sequential: null, cumulative: { treatment: zero, comparator: zero }, checks },
    };
  }
  let t = zero;
  let c = zero;
  for (const m of history) {
    t = add(t, m.treatment);
    c = add(c, m.comparator);
  }

  // Sensitivity: the sequential test over all looks (its verdict is valid at every look, including this one).
  const looks: IntervalCounts[] = history.map((m) => ({
    treatment: { positives: m.treatment.positives, truePositives: m.treatment.truePositives },
    comparator: { positives: m.comparator.positives, truePositives: m.comparator.truePositives },
  }));
  // With cohorts, the whole-canary comparison gets its Bonferroni part of α (src/judging/cohort-guardrails.ts).
  const byCohort = options.cohorts ? judgeCohorts(history, g, options.cohorts, options) : undefined;
  const alpha = +(byCohort?.allocation.overall ?? g.alpha).toPrecision(12); // 0.044, not 0.044000000000000004
  const seq = sequentialHarmTest(looks, {
    alpha,
    harmMargin: g.harmMargin,
    ...(g.nonInferiorityMargin !== undefined ? { nonInferiorityMargin: g.nonInferiorityMargin } : {}),
    planned: g.planned,
    ...(options.mixture ? { mixture: options.mixture } : {}),
  });
  const last = seq.looks[seq.looks.length - 1]!;
  const ci = `drop ${f4(last.drop)}, ${((1 - alpha) * 100).toFixed(1)}% confidence sequence [${f4(last.lower)}, ${f4(last.upper)}]`;
  // A cohort's failure comes first: it names where the candidate stopped working.
  failures.push(...(byCohort?.failures ?? []));
  inconclusive.push(...(byCohort?.inconclusive ?? []));
  if (seq.verdict === 'harm') {
    failures.push(
      `sensitivity harm declared at look ${seq.firstCrossing} by the sequential test (canary ${f4(last.treatment.sensitivity)} vs control ${f4(last.comparator.sensitivity)}; ${ci}; lower bound above the margin ${g.harmMargin}; anytime p = ${seq.anytimePValue.toPrecision(3)} ≤ α = ${alpha})`,
    );
  } else if (t.positives < g.minPositives || c.positives < g.minPositives) {
    inconclusive.push(
      `not enough labelled positives yet (canary ${t.positives}, control ${c.positives}; need ${g.minPositives} in each arm)`,
    );
  } else if (options.final && g.nonInferiorityMargin !== undefined && seq.verdict !== 'non-inferior') {
    inconclusive.push(
      `non-inferiority not shown: upper bound on the drop ${f4(last.upper)} is not below ${g.nonInferiorityMargin} (${ci}); extend the canary`,
    );
  }
  checks.push({
    name: 'sensitivity-harm',
    value: last.lower,
    limit: g.harmMargin,
    status:
      seq.verdict === 'harm'
        ? 'fail'
        : t.positives < g.minPositives || c.positives < g.minPositives
          ? 'inconclusive'
          : 'pass',
  });

  const ratio = alertRateCheck(t, c, g.maxAlertRateRatio, failures, inconclusive, checks);
  operationalChecks(latest, g, failures, inconclusive, checks);

  const evidence = {
    interval: latest.window,
    sequential: seq,
    cumulative: { treatment: t, comparator: c },
    checks,
    ...(byCohort ? { cohorts: byCohort } : {}),
  };
  // The latest interval's source names the look (a canary is measured from one source throughout).
  const labelled = (d: SequentialGuardrailsDecision) => labelSource(d, latest.source);
  if (failures.length > 0) return labelled({ verdict: 'fail', reasons: [...failures, ...inconclusive], evidence });
  if (inconclusive.length > 0) return labelled({ verdict: 'inconclusive', reasons: inconclusive, evidence });
  return labelled({
    verdict: 'pass',
    reasons: [
      `guardrails held through ${latest.window} (${history.length} intervals): sensitivity canary ${f4(last.treatment.sensitivity)} vs control ${f4(last.comparator.sensitivity)} (${ci}; no harm at α = ${alpha}), alert rate ratio ${f4(ratio)}${cohortNote(byCohort, options.cohorts)}`,
    ],
    evidence,
  });
}

/**
 * The mixture a recorded canary look was judged with, for `vigil audit` to recompute it: only looks judged under
 * `patched('planned-mixture')` record `sequential.mixture` (the half-normal's results never carried the field).
 */
export function recordedHarmMixture(
  evidence: { sequential?: { mixture?: { kind?: unknown } } | null } | null | undefined,
): HarmMixture {
  return evidence?.sequential?.mixture?.kind === 'planned' ? 'planned' : 'half-normal';
}

/** Alert-rate ratio on cumulative counts (an operational limit, not a test: its noise is not within α). */
function alertRateCheck(
  t: Totals,
  c: Totals,
  maxRatio: number,
  failures: string[],
  inconclusive: string[],
  checks: Check[],
): number | null {
  const rateT = t.n > 0 ? t.alerts / t.n : null;
  const rateC = c.n > 0 ? c.alerts / c.n : null;
  const ratio = rateT !== null && rateC !== null && rateC > 0 ? rateT / rateC : null;
  if (ratio === null) {
    if (rateT !== null && rateC === 0 && rateT > 0) {
      failures.push(`canary alert rate ${f4(rateT)} against a control arm that raised no alerts`);
      checks.push({ name: 'alert-rate-ratio', value: null, limit: maxRatio, status: 'fail' });
    } else {
      inconclusive.push('alert-rate ratio undefined (no cases or no control alerts yet)');
      checks.push({ name: 'alert-rate-ratio', value: null, limit: maxRatio, status: 'inconclusive' });
    }
  } else {
    const bad = ratio > maxRatio;
    if (bad)
      failures.push(
        `alert rate ratio ${f4(ratio)} (canary ${f4(rateT)} vs control ${f4(rateC)}) exceeds the allowed ${maxRatio}`,
      );
    checks.push({ name: 'alert-rate-ratio', value: ratio, limit: maxRatio, status: bad ? 'fail' : 'pass' });
  }
  return ratio;
}

/** Operational guardrails on the latest interval: a configured limit with no measurement is inconclusive. */
function operationalChecks(
  latest: CanaryIntervalMeasurement,
  g: SequentialGuardrailsInput,
  failures: string[],
  inconclusive: string[],
  checks: Check[],
): void {
  const bounded = (
    name: string,
    value: number | null | undefined,
    limit: number | undefined,
    describe: (v: number) => string,
  ) => {
    if (limit === undefined) return;
    if (value === null || value === undefined || !Number.isFinite(value)) {
      inconclusive.push(`${name} not measured in ${latest.window}`);
      checks.push({ name, value: null, limit, status: 'inconclusive' });
      return;
    }
    const bad = value > limit;
    if (bad) failures.push(`${describe(value)} in ${latest.window} exceeds the allowed ${limit}`);
    checks.push({ name, value, limit, status: bad ? 'fail' : 'pass' });
  };
  const o = latest.overrides;
  bounded(
    'override-rate',
    o ? (o.alerts > 0 ? o.overridden / o.alerts : 0) : null,
    g.maxOverrideRate,
    (v) => `override rate ${f4(v)}`,
  );
  bounded('latency-p99-ms', latest.latencyP99Ms, g.maxLatencyP99Ms, (v) => `latency p99 ${v.toFixed(1)} ms`);
  const e = latest.errors;
  bounded(
    'error-rate',
    e ? (e.requests > 0 ? e.failed / e.requests : null) : null,
    g.maxErrorRate,
    (v) => `error rate ${f4(v)}`,
  );
  const anomalies = latest.dataQualityAnomalies;
  const maxAnomalies = g.maxDataQualityAnomalies ?? 0;
  if (anomalies !== undefined) {
    const bad = anomalies.length > maxAnomalies;
    if (bad)
      failures.push(
        `${anomalies.length} data-quality anomalies in ${latest.window} (allowed ${maxAnomalies}): ${anomalies.join('; ')}`,
      );
    checks.push({
      name: 'data-quality-anomalies',
      value: anomalies.length,
      limit: maxAnomalies,
      status: bad ? 'fail' : 'pass',
    });
  }
}

/**
 * What the pass reason says about cohorts, so the chain, the status page and the audit show each one: its verdict
 * and both arms' sensitivity with their labelled positives — or that the live source measured none.
 */
function cohortNote(j: CohortJudgement | undefined, c: CohortGuardrails | undefined): string {
  if (!j || !c || c.attributes.length === 0) return '';
  if (j.cohorts.length === 0) return `; cohorts (${c.attributes.join(', ')}) not measured by this live source`;
  const each = j.cohorts.map(
    (x) =>
      `${x.cohort} ${x.verdict === 'pass' ? 'no harm' : 'not yet compared'} (canary ${f4(x.canary.sensitivity)} of ${x.canary.positives}, control ${f4(x.control.sensitivity)} of ${x.control.positives})`,
  );
  return `; cohorts: ${each.join(', ')}`;
}
