/**
 * Statistical validity of the sequential sensitivity guardrail by simulation (seeded, deterministic).
 *
 * H0: canary and control sensitivity both 0.80; 10 looks; labelled positives per arm per look ~ Poisson(μ);
 * the test is applied at every look and a canary counts as a false rollback if harm is declared at any look.
 * Acceptance: false-rollback rate ≤ α + 3·sqrt(α(1 − α)/N). The naive fixed-α z-test at every look must
 * exceed α on the same kind of data (showing the simulation can see the repeated-looks problem), and the power
 * for a 5-point drop (0.80 → 0.75) is reported. Figures go to docs/benchmarks.md ("Sequential guardrails").
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { prng } from '../../src/sim/prng';
import { normalQuantile } from '../../src/stats';
import { sequentialHarmTest, type IntervalCounts } from '../../src/stats/sequential';

function poisson(rand: () => number, mean: number): number {
  const limit = Math.exp(-mean);
  let k = 0;
  let p = 1;
  do {
    k++;
    p *= rand();
  } while (p > limit);
  return k - 1;
}

function binomial(rand: () => number, n: number, p: number): number {
  let x = 0;
  for (let i = 0; i < n; i++) if (rand() < p) x++;
  return x;
}

interface Scenario {
  seed: string;
  canaries: number;
  looks: number;
  /** Mean labelled positives per look in the canary / control arm. */
  meanTreatment: number;
  meanComparator: number;
  sensTreatment: number;
  sensComparator: number;
  alpha: number;
}

interface Outcome {
  sequential: number;
  naive: number;
  fixedFinal: number;
  meanFirstCrossing: number | null;
}

function simulate(s: Scenario): Outcome {
  const rand = prng(s.seed);
  const z = normalQuantile(1 - s.alpha);
  let sequential = 0;
  let naive = 0;
  let fixedFinal = 0;
  let crossingSum = 0;
  for (let c = 0; c < s.canaries; c++) {
    const history: IntervalCounts[] = [];
    let nT = 0;
    let xT = 0;
    let nC = 0;
    let xC = 0;
    let naiveHit = false;
    for (let k = 0; k < s.looks; k++) {
      const pt = poisson(rand, s.meanTreatment);
      const pc = poisson(rand, s.meanComparator);
      const look = {
        treatment: { positives: pt, truePositives: binomial(rand, pt, s.sensTreatment) },
        comparator: { positives: pc, truePositives: binomial(rand, pc, s.sensComparator) },
      };
      history.push(look);
      nT += pt;
      xT += look.treatment.truePositives;
      nC += pc;
      xC += look.comparator.truePositives;
      // naive: a one-sided Wald z-test at fixed α, repeated at every look
      if (nT > 0 && nC > 0) {
        const a = xT / nT;
        const b = xC / nC;
        const se = Math.sqrt((a * (1 - a)) / nT + (b * (1 - b)) / nC);
        const hit = se > 0 && (b - a) / se > z;
        if (hit) naiveHit = true;
        if (hit && k === s.looks - 1) fixedFinal++;
      }
    }
    if (naiveHit) naive++;
    const res = sequentialHarmTest(history, {
      alpha: s.alpha,
      planned: {
        treatmentPositives: s.meanTreatment * s.looks,
        comparatorPositives: s.meanComparator * s.looks,
        sensitivity: 0.8,
      },
    });
    if (res.verdict === 'harm') {
      sequential++;
      crossingSum += res.firstCrossing!;
    }
  }
  return {
    sequential: sequential / s.canaries,
    naive: naive / s.canaries,
    fixedFinal: fixedFinal / s.canaries,
    meanFirstCrossing: sequential > 0 ? crossingSum / sequential : null,
  };
}

const N = 4000;
const mcBound = (alpha: number, n: number) => alpha + 3 * Math.sqrt((alpha * (1 - alpha)) / n);
/** Wilson 95% interval, for reporting. */
function wilson(p: number, n: number): [number, number] {
  const z = 1.959963984540054;
  const d = 1 + (z * z) / n;
  const centre = (p + (z * z) / (2 * n)) / d;
  const half = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / d;
  return [centre - half, centre + half];
}
const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
const ci = (p: number, n: number) => {
  const [lo, hi] = wilson(p, n);
  return `${pct(p)} (95% CI ${pct(lo)}–${pct(hi)})`;
};

describe('sequential sensitivity guardrail: false rollbacks under H0, checked at every look', () => {
  const nullScenarios: (Scenario & { label: string })[] = [
    {
      label: 'balanced, ~100 positives/arm/look',
      seed: 'seq-h0-balanced',
      canaries: N,
      looks: 10,
      meanTreatment: 100,
      meanComparator: 100,
      sensTreatment: 0.8,
      sensComparator: 0.8,
      alpha: 0.05,
    },
    {
      label: '10% canary, ~20 vs ~180 positives/look',
      seed: 'seq-h0-unequal',
      canaries: N,
      looks: 10,
      meanTreatment: 20,
      meanComparator: 180,
      sensTreatment: 0.8,
      sensComparator: 0.8,
      alpha: 0.05,
    },
    {
      label: 'small, ~25 positives/arm/look',
      seed: 'seq-h0-small',
      canaries: N,
      looks: 10,
      meanTreatment: 25,
      meanComparator: 25,
      sensTreatment: 0.8,
      sensComparator: 0.8,
      alpha: 0.05,
    },
    {
      label: 'balanced, α = 0.025',
      seed: 'seq-h0-025',
      canaries: N,
      looks: 10,
      meanTreatment: 100,
      meanComparator: 100,
      sensTreatment: 0.8,
      sensComparator: 0.8,
      alpha: 0.025,
    },
  ];
  for (const s of nullScenarios) {
    it(`${s.label}: ${N} canaries, 10 looks, α = ${s.alpha}`, (t) => {
      const out = simulate(s);
      const bound = mcBound(s.alpha, s.canaries);
      t.diagnostic(
        `false rollbacks: sequential ${ci(out.sequential, s.canaries)}; naive z every look ${ci(out.naive, s.canaries)}; fixed z at the last look only ${ci(out.fixedFinal, s.canaries)}; bound α + 3·MCSE = ${pct(bound)}`,
      );
      assert.ok(out.sequential <= bound, `sequential false-rollback rate ${out.sequential} > ${bound}`);
      // the simulation can see the problem: repeated fixed-α looks exceed α well beyond Monte Carlo error
      assert.ok(out.naive > bound, `naive repeated z-test rate ${out.naive} should exceed ${bound}`);
    });
  }
});

describe('sequential sensitivity guardrail: power for a 5-point drop (0.80 → 0.75)', () => {
  const powerScenarios: (Scenario & { label: string; minPower: number })[] = [
    {
      label: '~100 positives/arm/look (~1,000 per arm)',
      seed: 'seq-h1-100',
      canaries: N,
      looks: 10,
      meanTreatment: 100,
      meanComparator: 100,
      sensTreatment: 0.75,
      sensComparator: 0.8,
      alpha: 0.05,
      minPower: 0.45,
    },
    {
      label: '~200 positives/arm/look (~2,000 per arm)',
      seed: 'seq-h1-200',
      canaries: N,
      looks: 10,
      meanTreatment: 200,
      meanComparator: 200,
      sensTreatment: 0.75,
      sensComparator: 0.8,
      alpha: 0.05,
      minPower: 0.8,
    },
    {
      label: '10% canary, ~20 vs ~180 positives/look',
      seed: 'seq-h1-unequal',
      canaries: N,
      looks: 10,
      meanTreatment: 20,
      meanComparator: 180,
      sensTreatment: 0.75,
      sensComparator: 0.8,
      alpha: 0.05,
      minPower: 0,
    },
  ];
  for (const s of powerScenarios) {
    it(`${s.label}, α = ${s.alpha}`, (t) => {
      const out = simulate(s);
      t.diagnostic(
        `power: sequential ${ci(out.sequential, s.canaries)} (mean first crossing at look ${out.meanFirstCrossing?.toFixed(2) ?? '—'}); fixed-sample z at the last look only ${ci(out.fixedFinal, s.canaries)}`,
      );
      assert.ok(out.sequential >= s.minPower, `power ${out.sequential} below the floor ${s.minPower} this test pins`);
    });
  }
});
