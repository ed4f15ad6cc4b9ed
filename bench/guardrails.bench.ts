/**
 * Canary guardrails per clinical cohort (issue 16): false-rollback rate and power of the whole canary's decision —
 * the workflow's own loop (steps, extensions, rollback on a fail or an exhausted inconclusive) around the real
 * judge, `judgeGuardrailsSequential` — with the cohort guardrails and the half-normal mixture (`cohorts`, v0.5), with
 * them and the planned mixture (`planned`, the default since `patched('planned-mixture')`), and without cohorts
 * (`today`, the judge before issue 16). All judges see the same seeded canaries (paired).
 *
 * World (per case): site by share, outcome ~ Bernoulli(prevalence), alert ~ Bernoulli(sensitivity) for positives
 * and Bernoulli(false-alert rate) for negatives, arm = canary with the step's percent. Control = incumbent
 * everywhere; the candidate differs at the sites a scenario names. Defaults are the demo's shape: 4 sites, 25 %
 * prevalence, sensitivity 0.70, alert rate 0.30, policy steps 10 % × 4,000 cases then 50 % × 2,000, α = 0.05,
 * planned 340 / 1,120 positives, minPositives 50, maxExtensions 2. The alert-rate ratio limit (an operational
 * limit, not a test within α) is switched off so the rates below are those of the α-controlled rules.
 * Seeded (src/sim/prng.ts): every figure is reproducible. Intervals are Wilson 95 %.
 *
 *   npm run bench:guardrails [-- --canaries 2000] [--json] [--judges today,cohorts,planned]
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import {
  CohortGuardrailsSchema,
  DEFAULT_COHORT_GUARDRAILS,
  type ArmStats,
  type LiveMeasurement,
  type SequentialGuardrails,
} from '../src/domain';
import { judgeGuardrailsSequential } from '../src/judging';
import { prng } from '../src/sim/prng';
import { wilsonInterval } from '../src/stats';

interface Site {
  share: number;
  sensitivity: number;
  alertRate: number;
}
interface World {
  prevalence: number;
  control: Site[];
  candidate: Site[];
}
interface Step {
  percent: number;
  cases: number;
}

const PREVALENCE = 0.25;
const BASE: Site = { share: 0.25, sensitivity: 0.7, alertRate: 0.3 };
const DEMO_STEPS: Step[] = [
  { percent: 10, cases: 4000 },
  { percent: 50, cases: 2000 },
];
const GUARDRAILS: SequentialGuardrails = {
  alpha: 0.05,
  harmMargin: 0,
  planned: { treatmentPositives: 340, comparatorPositives: 1120, sensitivity: 0.8 },
  minPositives: 50,
  maxAlertRateRatio: 100,
  maxExtensions: 2,
};

function world(sites: Site[], candidate: (s: Site, i: number) => Site): World {
  return { prevalence: PREVALENCE, control: sites, candidate: sites.map(candidate) };
}

function emptyArm(): ArmStats {
  return {
    n: 0,
    positives: 0,
    truePositives: 0,
    negatives: 0,
    trueNegatives: 0,
    alerts: 0,
    sensitivity: null,
    specificity: null,
    alertRate: null,
  };
}

/** One interval: per-site arms from per-case draws. */
function interval(w: World, step: Step, rand: () => number, window: string): LiveMeasurement {
  const sites = w.control.map(() => ({ treatment: emptyArm(), comparator: emptyArm() }));
  const cum = w.control.map((_, i) => w.control.slice(0, i + 1).reduce((t, s) => t + s.share, 0));
  for (let k = 0; k < step.cases; k++) {
    const u = rand() * cum[cum.length - 1]!;
    const i = cum.findIndex((c) => u < c);
    const canary = rand() * 100 < step.percent;
    const s = (canary ? w.candidate : w.control)[i]!;
    const arm = canary ? sites[i]!.treatment : sites[i]!.comparator;
    const positive = rand() < w.prevalence;
    const falseAlert = Math.max(0, (s.alertRate - w.prevalence * s.sensitivity) / (1 - w.prevalence));
    const alert = rand() < (positive ? s.sensitivity : falseAlert);
    arm.n++;
    if (positive) {
      arm.positives++;
      if (alert) arm.truePositives++;
    } else {
      arm.negatives++;
      if (!alert) arm.trueNegatives++;
    }
    if (alert) arm.alerts++;
  }
  const sum = (pick: 'treatment' | 'comparator'): ArmStats => {
    const t = emptyArm();
    for (const s of sites) {
      const a = s[pick];
      t.n += a.n;
      t.positives += a.positives;
      t.truePositives += a.truePositives;
      t.negatives += a.negatives;
      t.trueNegatives += a.trueNegatives;
      t.alerts += a.alerts;
    }
    return t;
  };
  return {
    window,
    treatment: sum('treatment'),
    comparator: sum('comparator'),
    cohorts: Object.fromEntries(sites.map((s, i) => [`site=site-${String.fromCharCode(97 + i)}`, s])),
  };
}

interface Run {
  outcome: 'promoted' | 'fail' | 'exhausted';
  step: number;
  look: number;
  /** The failing rule's first reason names a cohort. */
  cohortNamed: boolean;
}

/** The cohort policy of the 'cohorts' judge: the defaults, or `--shares <cohorts>/<floor>` (shares of α). */
let COHORTS = DEFAULT_COHORT_GUARDRAILS;

type Judge = 'today' | 'cohorts' | 'planned';

/** The workflow's loop (src/workflows/canary.ts): pass → next step, inconclusive → bake again, else roll back. */
function canary(w: World, steps: Step[], g: SequentialGuardrails, judge: Judge, rand: () => number): Run {
  const history: LiveMeasurement[] = [];
  for (const [i, step] of steps.entries()) {
    for (let ext = 0; ; ext++) {
      history.push(interval(w, step, rand, `step ${i + 1}+${ext}`));
      const j = judgeGuardrailsSequential(history, g, {
        final: i === steps.length - 1,
        ...(judge !== 'today' ? { cohorts: COHORTS } : {}),
        ...(judge === 'planned' ? { mixture: 'planned' as const } : {}),
      });
      if (j.verdict === 'pass') break;
      if (j.verdict === 'inconclusive' && ext < g.maxExtensions) continue;
      return {
        outcome: j.verdict === 'fail' ? 'fail' : 'exhausted',
        step: i,
        look: history.length,
        cohortNamed: /^site=/.test(j.reasons[0] ?? ''),
      };
    }
  }
  return { outcome: 'promoted', step: steps.length, look: history.length, cohortNamed: false };
}

interface Row {
  scenario: string;
  judge: Judge;
  canaries: number;
  rolledBack: number;
  rolledBackPct: string;
  interval: string;
  inFirstStep: number;
  exhausted: number;
  cohortNamed: number;
  meanLook: number | null;
  seconds: number;
}

function measure(
  name: string,
  w: World,
  steps: Step[],
  n: number,
  judge: Judge,
  g: SequentialGuardrails = GUARDRAILS,
): Row {
  const rand = prng(`bench-guardrails:${name}`);
  const t0 = performance.now();
  let rolledBack = 0;
  let inFirstStep = 0;
  let exhausted = 0;
  let named = 0;
  let lookSum = 0;
  for (let c = 0; c < n; c++) {
    const r = canary(w, steps, g, judge, rand);
    if (r.outcome === 'promoted') continue;
    rolledBack++;
    lookSum += r.look;
    if (r.step === 0) inFirstStep++;
    if (r.outcome === 'exhausted') exhausted++;
    if (r.cohortNamed) named++;
  }
  const ci = wilsonInterval(rolledBack, n, 0.95);
  return {
    scenario: name,
    judge,
    canaries: n,
    rolledBack,
    rolledBackPct: `${((100 * rolledBack) / n).toFixed(2)}%`,
    interval: `${(100 * ci.lower).toFixed(2)}–${(100 * ci.upper).toFixed(2)}%`,
    inFirstStep,
    exhausted,
    cohortNamed: named,
    meanLook: rolledBack ? lookSum / rolledBack : null,
    seconds: (performance.now() - t0) / 1000,
  };
}

function main(): void {
  const { values } = parseArgs({
    options: {
      canaries: { type: 'string', default: '2000' },
      json: { type: 'boolean', default: false },
      /** Only scenarios whose name contains this (to split a run over processes). */
      only: { type: 'string', default: '' },
      skip: { type: 'string' },
      /** Shares of α for the cohort comparisons and the floor, e.g. 0.04/0.01 (default 0.1/0.02). */
      shares: { type: 'string' },
      /** Which judges to run, comma-separated (default all three). */
      judges: { type: 'string', default: 'today,cohorts,planned' },
    },
  });
  if (values.shares) {
    const [cohorts, floor] = values.shares.split('/').map(Number);
    COHORTS = CohortGuardrailsSchema.parse({ alphaShare: cohorts, floor: { alphaShare: floor } });
    if (!values.json) console.log(`cohort comparisons ${cohorts} of α, floor ${floor} of α`);
  }
  const n = Number(values.canaries);
  const four = [BASE, BASE, BASE, BASE];
  const rows: Row[] = [];
  const both = (name: string, w: World, steps = DEMO_STEPS) => {
    if (!name.includes(values.only) || (values.skip && name.includes(values.skip))) return;
    const judges = values.judges.split(',').filter((j): j is Judge => ['today', 'cohorts', 'planned'].includes(j));
    for (const judge of judges) {
      const r = measure(name, w, steps, n, judge);
      rows.push(r);
      if (!values.json) print(r);
    }
  };
  both(
    'healthy',
    world(four, (s) => s),
  );
  both(
    'site B sensitivity 0, its alerts gone (pipeline fault)',
    world(four, (s, i) => (i === 1 ? { ...s, sensitivity: 0, alertRate: 0 } : s)),
  );
  both(
    'site B sensitivity 0, alert rate kept',
    world(four, (s, i) => (i === 1 ? { ...s, sensitivity: 0 } : s)),
  );
  both(
    'site B sensitivity 0, others +0.10 (issue 16)',
    world(four, (s, i) => (i === 1 ? { ...s, sensitivity: 0, alertRate: 0 } : { ...s, sensitivity: 0.8 })),
  );
  both(
    'overall drop 5 points',
    world(four, (s) => ({ ...s, sensitivity: 0.65 })),
  );
  both(
    'overall drop 10 points',
    world(four, (s) => ({ ...s, sensitivity: 0.6 })),
  );
  for (const share of [0.1, 0.25, 0.5]) {
    for (const first of [5, 10, 25]) {
      const rest = (1 - share) / 3;
      const sites = [
        { ...BASE, share: rest },
        { ...BASE, share },
        { ...BASE, share: rest },
        { ...BASE, share: rest },
      ];
      const steps = [{ percent: first, cases: 4000 }, ...DEMO_STEPS.slice(1)];
      both(
        `site B −15 points, share ${share * 100}%, first step ${first}%`,
        world(sites, (s, i) => (i === 1 ? { ...s, sensitivity: 0.55 } : s)),
        steps,
      );
    }
  }
  const load = os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
  if (values.json) console.log(JSON.stringify({ node: process.version, load, rows }));
  else console.log(`node ${process.version}, load average ${load}`);
}

function print(r: Row): void {
  console.log(
    `${r.scenario.padEnd(52)} ${r.judge.padEnd(8)} rolled back ${r.rolledBackPct.padStart(7)} (${r.interval}) first step ${((100 * r.inFirstStep) / r.canaries).toFixed(2)}% exhausted ${r.exhausted} cohort named ${r.cohortNamed} mean look ${r.meanLook?.toFixed(2) ?? '—'} [${r.seconds.toFixed(1)} s]`,
  );
}

main();
