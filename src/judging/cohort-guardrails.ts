/**
 * Canary guardrails per clinical cohort. The whole-canary comparison can average away one site where the candidate
 * stopped working (issue 16: site B at 0 % sensitivity against 68 %, promoted), so each level of each guarded
 * attribute gets (a) the same anytime-valid comparison of canary against concurrent control, restricted to the
 * cohort, and (b) a catastrophic-failure floor that does not wait for the comparison's power.
 *
 * False rollbacks across cohorts and looks together: α is split by Bonferroni (`cohortAlphaAllocation`) and each
 * part is anytime-valid by itself (a normal-mixture confidence sequence, or an exact beta-binomial one for the
 * floor), so P(any false rollback, any cohort, any look) ≤ Σ parts = α. Pure: history + policy → verdicts; the
 * workflow records them and `vigil audit` recomputes them.
 */
import {
  DEFAULT_COHORT_GUARDRAILS,
  LEGACY_COHORT_GUARDRAILS,
  type ArmStats,
  type CohortArms,
  type CohortGuardrails,
  type LiveMeasurement,
  type ReleasePolicy,
  type SequentialGuardrails,
} from '../domain';
import { binomialConfidenceSequence, sequentialHarmTest, type IntervalCounts } from '../stats/sequential';

/** The attributes whose cohorts a canary under this policy measures (none without sequential guardrails). */
export function guardedCohortAttributes(policy: Pick<ReleasePolicy, 'canary'>): readonly string[] {
  const g = policy.canary.sequential;
  return g ? (g.cohorts ?? DEFAULT_COHORT_GUARDRAILS).attributes : [];
}

/**
 * The cohort policy a recorded canary was judged with, for `vigil audit` to recompute its looks: workflows with
 * `patched('cohort-guardrails')` judge cohorts from the canary's first look, and only their measurements carry
 * `cohorts` (earlier histories judged the whole canary alone). Undefined = judged without cohorts. A policy without
 * `cohorts` was judged with the default split, or — before `patched('cohort-alpha-split')` — the legacy 88/10/2 one:
 * `recordedOverallAlpha` (the whole-canary α in the look's recorded verdict) tells which; only those two are accepted.
 */
export function recordedCohortGuardrails(
  history: readonly LiveMeasurement[],
  g: Pick<SequentialGuardrails, 'cohorts' | 'alpha'>,
  recordedOverallAlpha?: number | null,
): CohortGuardrails | undefined {
  if (history[0]?.cohorts === undefined) return undefined;
  if (g.cohorts) return g.cohorts;
  const legacy = cohortAlphaAllocation(g.alpha, LEGACY_COHORT_GUARDRAILS).overall;
  return recordedOverallAlpha != null && Math.abs(recordedOverallAlpha - legacy) < 1e-12 * Math.max(1, legacy)
    ? LEGACY_COHORT_GUARDRAILS
    : DEFAULT_COHORT_GUARDRAILS;
}

/** How α is spent: every part is a one-sided, anytime-valid error rate; they add up to `alpha`. */
export interface CohortAlphaAllocation {
  alpha: number;
  /** The whole-canary comparison. */
  overall: number;
  /** Each cohort comparison (Bonferroni over `budgeted` cohorts). */
  perCohort: number;
  /** Each floor bound (2 signals × `budgeted` cohorts × 2 arms share the floor's part). */
  perFloorBound: number;
  /** attributes × maxLevels: the Bonferroni divisor, fixed by the policy before the canary. */
  budgeted: number;
  relativeFloor: number;
}

export function cohortAlphaAllocation(alpha: number, c: CohortGuardrails): CohortAlphaAllocation {
  const budgeted = Math.max(1, c.attributes.length * c.maxLevels);
  const cohortPart = c.attributes.length > 0 ? c.alphaShare : 0;
  const floorPart = c.attributes.length > 0 ? c.floor.alphaShare : 0;
  return {
    alpha,
    overall: alpha * (1 - cohortPart - floorPart),
    perCohort: (alpha * cohortPart) / budgeted,
    perFloorBound: (alpha * floorPart) / (4 * budgeted),
    budgeted,
    relativeFloor: c.floor.relative,
  };
}

export interface CohortTotals {
  n: number;
  positives: number;
  truePositives: number;
  alerts: number;
  sensitivity: number | null;
  alertRate: number | null;
}

/** Floor on one signal: breached when the canary's upper bound is below relative × the control's lower bound. */
export interface FloorCheck {
  canaryUpper: number;
  controlLower: number;
  limit: number;
  breached: boolean;
}

export interface CohortVerdict {
  /** "<attribute>=<level>". */
  cohort: string;
  verdict: 'pass' | 'harm' | 'floor' | 'inconclusive' | 'unbudgeted';
  reason: string;
  canary: CohortTotals;
  control: CohortTotals;
  /** The cohort's sequential comparison; null when it was not run (too few positives, or unbudgeted). */
  comparison: {
    alpha: number;
    drop: number | null;
    lower: number;
    upper: number;
    anytimePValue: number;
    /** First look at which harm was declared with both arms at or above the minimum; null if none. */
    harmAtLook: number | null;
  } | null;
  floor: { sensitivity: FloorCheck | null; alertRate: FloorCheck | null };
}

export interface CohortJudgement {
  allocation: CohortAlphaAllocation;
  minPositives: number;
  cohorts: CohortVerdict[];
  failures: string[];
  inconclusive: string[];
}

const f3 = (x: number | null): string => (x === null ? 'undefined' : x.toFixed(3));
const pct = (x: number | null): string => (x === null ? 'undefined' : `${(x * 100).toFixed(1)}%`);

function totals(arms: readonly ArmStats[]): CohortTotals {
  const t = { n: 0, positives: 0, truePositives: 0, alerts: 0 };
  for (const a of arms) {
    t.n += a.n;
    t.positives += a.positives;
    t.truePositives += a.truePositives;
    t.alerts += a.alerts;
  }
  return {
    ...t,
    sensitivity: t.positives > 0 ? t.truePositives / t.positives : null,
    alertRate: t.n > 0 ? t.alerts / t.n : null,
  };
}

/** Cohorts in order of first appearance (then name), per attribute; each attribute's first maxLevels are budgeted. */
function cohortKeys(history: readonly LiveMeasurement[], c: CohortGuardrails): { key: string; budgeted: boolean }[] {
  const seen = new Map<string, string[]>(c.attributes.map((a) => [a, []]));
  for (const m of history) {
    for (const key of Object.keys(m.cohorts ?? {}).sort()) {
      const levels = seen.get(key.slice(0, key.indexOf('=')));
      if (levels && !levels.includes(key)) levels.push(key);
    }
  }
  return [...seen.values()].flatMap((keys) => keys.map((key, i) => ({ key, budgeted: i < c.maxLevels })));
}

function floorCheck(
  canary: [x: number, n: number],
  control: [x: number, n: number],
  a: CohortAlphaAllocation,
): FloorCheck | null {
  if (canary[1] === 0 || control[1] === 0) return null;
  const canaryUpper = binomialConfidenceSequence(canary[0], canary[1], a.perFloorBound).upper;
  const controlLower = binomialConfidenceSequence(control[0], control[1], a.perFloorBound).lower;
  const limit = a.relativeFloor * controlLower;
  return { canaryUpper, controlLower, limit, breached: canaryUpper < limit };
}

/**
 * Judge every guarded cohort on the whole canary so far (per-interval measurements, oldest first). A cohort fails
 * when its comparison declares harm (with both arms at `minPositives` or more) or its floor is breached. Below the
 * minimum, or beyond the levels budgeted, it holds the last step (`final`: inconclusive, never promoted unjudged).
 */
export function judgeCohorts(
  history: readonly LiveMeasurement[],
  g: {
    alpha: number;
    harmMargin: number;
    planned: { treatmentPositives: number; comparatorPositives: number; sensitivity?: number };
  },
  c: CohortGuardrails,
  options: { final?: boolean } = {},
): CohortJudgement {
  const allocation = cohortAlphaAllocation(g.alpha, c);
  const out: CohortJudgement = {
    allocation,
    minPositives: c.minPositives,
    cohorts: [],
    failures: [],
    inconclusive: [],
  };
  if (c.attributes.length === 0) return out;
  // ρ is fixed by the policy: the plan shared equally over the budgeted levels of one attribute.
  const planned = {
    ...g.planned,
    treatmentPositives: Math.max(1, g.planned.treatmentPositives / c.maxLevels),
    comparatorPositives: Math.max(1, g.planned.comparatorPositives / c.maxLevels),
  };
  for (const { key, budgeted } of cohortKeys(history, c)) {
    const arms: (CohortArms | undefined)[] = history.map((m) => m.cohorts?.[key]);
    const present = arms.filter((x): x is CohortArms => x !== undefined);
    const canary = totals(present.map((x) => x.treatment));
    const control = totals(present.map((x) => x.comparator));
    const floor = {
      sensitivity: floorCheck(
        [canary.truePositives, canary.positives],
        [control.truePositives, control.positives],
        allocation,
      ),
      alertRate: floorCheck([canary.alerts, canary.n], [control.alerts, control.n], allocation),
    };
    const counts = `canary ${pct(canary.sensitivity)} of ${canary.positives} positives, alert rate ${pct(canary.alertRate)}; control ${pct(control.sensitivity)} of ${control.positives}, ${pct(control.alertRate)}`;
    const base = { cohort: key, canary, control, floor };
    if (!budgeted) {
      out.cohorts.push({
        ...base,
        verdict: 'unbudgeted',
        comparison: null,
        reason: `${key}: beyond the ${c.maxLevels} levels budgeted per attribute; not compared (${counts})`,
      });
      if (options.final)
        out.inconclusive.push(`${key} was not judged: more levels than cohorts.maxLevels = ${c.maxLevels}`);
      continue;
    }
    const looks: IntervalCounts[] = arms.map((x) => ({
      treatment: { positives: x?.treatment.positives ?? 0, truePositives: x?.treatment.truePositives ?? 0 },
      comparator: { positives: x?.comparator.positives ?? 0, truePositives: x?.comparator.truePositives ?? 0 },
    }));
    const seq = sequentialHarmTest(looks, { alpha: allocation.perCohort, harmMargin: g.harmMargin, planned });
    const enough = (l: (typeof seq.looks)[number]) =>
      l.treatment.positives >= c.minPositives && l.comparator.positives >= c.minPositives;
    const harm = seq.looks.find((l) => l.crossed && enough(l));
    const last = seq.looks[seq.looks.length - 1]!;
    const comparison = {
      alpha: allocation.perCohort,
      drop: last.drop,
      lower: last.lower,
      upper: last.upper,
      anytimePValue: seq.anytimePValue,
      harmAtLook: harm?.look ?? null,
    };
    const breached = (['sensitivity', 'alertRate'] as const).filter((s) => floor[s]?.breached);
    let verdict: CohortVerdict['verdict'];
    let reason: string;
    if (breached.length > 0) {
      verdict = 'floor';
      reason = `${key}: catastrophic failure — ${breached
        .map((s) => {
          const f = floor[s]!;
          return `canary ${s === 'sensitivity' ? 'sensitivity' : 'alert rate'} upper bound ${f3(f.canaryUpper)} below ${allocation.relativeFloor} × control lower bound ${f3(f.controlLower)}`;
        })
        .join('; ')} (${counts}; exact anytime bounds at α = ${allocation.perFloorBound.toPrecision(2)} each)`;
    } else if (harm) {
      verdict = 'harm';
      reason = `${key}: sensitivity harm declared at look ${harm.look} (drop ${f3(last.drop)}, confidence sequence [${f3(last.lower)}, ${f3(last.upper)}] at α = ${allocation.perCohort.toPrecision(2)}; ${counts})`;
    } else if (!enough(last)) {
      verdict = 'inconclusive';
      reason = `${key}: not enough labelled positives to compare (canary ${canary.positives}, control ${control.positives}; need ${c.minPositives} in each arm)`;
    } else {
      verdict = 'pass';
      reason = `${key}: no harm (drop ${f3(last.drop)}, confidence sequence [${f3(last.lower)}, ${f3(last.upper)}]; ${counts})`;
    }
    out.cohorts.push({ ...base, verdict, reason, comparison });
    if (verdict === 'floor' || verdict === 'harm') out.failures.push(reason);
    // Too few positives holds only the last step: an earlier step's exposure is limited by design and the floor
    // still guards it; holding every step for a small cohort would roll healthy canaries back once extensions run out.
    if (verdict === 'inconclusive' && options.final) out.inconclusive.push(reason);
  }
  return out;
}
