/**
 * Guardrails per clinical cohort (src/judging/cohort-guardrails.ts) and the exact binomial confidence sequence
 * behind their catastrophic-failure floor (src/stats/sequential/binomial.ts); the issue-16 counter-example
 * (`vigil simulate --site site-b --feature x0 --offset -3 --seed f2`, promoted before) as a regression test.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { recomputeDecisions } from '../../src/audit/decisions';
import type { ActivityCall } from '../../src/audit/history';
import { run } from '../../src/cli/program';
import {
  CohortGuardrailsSchema,
  DEFAULT_COHORT_GUARDRAILS,
  LEGACY_COHORT_GUARDRAILS,
  ReleasePolicySchema,
  type ArmStats,
  type ChainEntry,
  type LiveMeasurement,
  type SequentialGuardrails,
} from '../../src/domain';
import {
  cohortAlphaAllocation,
  judgeCohorts,
  judgeGuardrailsSequential,
  recordedCohortGuardrails,
} from '../../src/judging';
import { prng } from '../../src/sim/prng';
import YAML from 'yaml';
import { betaBinomialLogE, binomialConfidenceSequence } from '../../src/stats/sequential';

describe('binomial confidence sequence (beta-binomial mixture)', () => {
  it('matches the closed form at x = 0: upper = 1 − (α/(n+1))^(1/n) for a uniform prior', () => {
    for (const [n, alpha] of [
      [10, 0.05],
      [24, 0.001],
      [200, 0.0001],
    ] as const) {
      const cs = binomialConfidenceSequence(0, n, alpha);
      assert.equal(cs.lower, 0);
      assert.ok(Math.abs(cs.upper - (1 - (alpha / (n + 1)) ** (1 / n))) < 1e-8, `n=${n}`);
    }
  });

  it('log e-value equals an independent numerical integral of the mixture likelihood ratio', () => {
    // M(p) = ∫₀¹ q^x (1−q)^(n−x) dq / (p^x (1−p)^(n−x)), midpoint rule on 200,000 cells.
    for (const [x, n, p] of [
      [3, 20, 0.5],
      [17, 40, 0.2],
      [50, 60, 0.9],
    ] as const) {
      const cells = 200_000;
      let integral = 0;
      for (let i = 0; i < cells; i++) {
        const q = (i + 0.5) / cells;
        integral += Math.exp(x * Math.log(q) + (n - x) * Math.log1p(-q)) / cells;
      }
      const expected = Math.log(integral) - x * Math.log(p) - (n - x) * Math.log1p(-p);
      assert.ok(Math.abs(betaBinomialLogE(x, n, p) - expected) < 1e-6, `${x}/${n} at ${p}`);
    }
  });

  it('covers the true proportion at every n of a path in ≥ 1 − α of paths (α = 0.05, 2,000 paths × 400 trials)', () => {
    const rand = prng('binomial-cs-coverage');
    const alpha = 0.05;
    let missed = 0;
    for (let path = 0; path < 2000; path++) {
      const p = 0.3;
      let x = 0;
      for (let n = 1; n <= 400; n++) {
        if (rand() < p) x++;
        // Checking every 10th n keeps the test fast; the guarantee is for every n, so this can only miss less.
        if (n % 10 !== 0) continue;
        const cs = binomialConfidenceSequence(x, n, alpha);
        if (p < cs.lower || p > cs.upper) {
          missed++;
          break;
        }
      }
    }
    assert.ok(missed / 2000 <= alpha, `missed ${missed} of 2000`);
  });

  it('refuses impossible counts', () => {
    assert.throws(() => binomialConfidenceSequence(5, 4, 0.05), /0 ≤ x ≤ n/);
    assert.throws(() => binomialConfidenceSequence(1, 4, 0), /alpha/);
  });
});

const arm = (n: number, positives: number, truePositives: number, alerts: number): ArmStats => ({
  n,
  positives,
  truePositives,
  negatives: n - positives,
  trueNegatives: n - positives - (alerts - truePositives),
  alerts,
  sensitivity: positives ? truePositives / positives : null,
  specificity: null,
  alertRate: n ? alerts / n : null,
});

/** Four sites; `sites` overrides one site's canary arm. Canary 100 cases / 25 positives a site, control 900 / 225. */
function look(window: string, canary: Partial<Record<string, ArmStats>> = {}): LiveMeasurement {
  const sites = ['site-a', 'site-b', 'site-c', 'site-d'];
  const cohorts = Object.fromEntries(
    sites.map((s) => [
      `site=${s}`,
      { treatment: canary[s] ?? arm(100, 25, 17, 30), comparator: arm(900, 225, 153, 270) },
    ]),
  );
  const sum = (k: 'treatment' | 'comparator') => {
    const a = sites.map((s) => cohorts[`site=${s}`]![k]);
    return arm(
      a.reduce((t, x) => t + x.n, 0),
      a.reduce((t, x) => t + x.positives, 0),
      a.reduce((t, x) => t + x.truePositives, 0),
      a.reduce((t, x) => t + x.alerts, 0),
    );
  };
  return { window, treatment: sum('treatment'), comparator: sum('comparator'), cohorts };
}

const g: SequentialGuardrails = {
  alpha: 0.05,
  harmMargin: 0,
  planned: { treatmentPositives: 300, comparatorPositives: 2700, sensitivity: 0.7 },
  minPositives: 50,
  maxAlertRateRatio: 1.5,
  maxExtensions: 2,
};

describe('judgeCohorts', () => {
  it('splits α by Bonferroni into parts that add up to α', () => {
    const a = cohortAlphaAllocation(0.05, DEFAULT_COHORT_GUARDRAILS);
    assert.equal(a.budgeted, 8);
    assert.ok(Math.abs(a.overall + a.budgeted * a.perCohort + 4 * a.budgeted * a.perFloorBound - 0.05) < 1e-15);
    assert.ok(Math.abs(a.overall - 0.04875) < 1e-15, 'the whole canary keeps 97.5 % of α');
    const legacy = cohortAlphaAllocation(0.05, LEGACY_COHORT_GUARDRAILS);
    assert.ok(Math.abs(legacy.overall - 0.044) < 1e-15, 'v0.4.0 canaries: 88 %');
    const off = cohortAlphaAllocation(0.05, CohortGuardrailsSchema.parse({ attributes: [] }));
    assert.equal(off.overall, 0.05, 'no cohorts: the whole α goes to the whole-canary comparison');
  });

  it('the audit finds the split a canary without `cohorts` was judged with from its recorded whole-canary α', () => {
    const h = [look('step 1')];
    const noCohorts = { alpha: 0.05 };
    assert.equal(recordedCohortGuardrails(h, noCohorts, 0.044), LEGACY_COHORT_GUARDRAILS);
    assert.equal(recordedCohortGuardrails(h, noCohorts, 0.04875), DEFAULT_COHORT_GUARDRAILS);
    assert.equal(recordedCohortGuardrails(h, noCohorts, undefined), DEFAULT_COHORT_GUARDRAILS);
    const own = CohortGuardrailsSchema.parse({ alphaShare: 0.04 });
    assert.equal(recordedCohortGuardrails(h, { alpha: 0.05, cohorts: own }, 0.044), own, "the policy's own split wins");
    assert.equal(recordedCohortGuardrails([{ ...h[0]!, cohorts: undefined }], noCohorts, 0.044), undefined);
  });

  it('names the site whose canary sensitivity is 0 and fails the canary that the overall comparison passes', () => {
    // The other sites do better on the candidate (as in the demo), so the whole canary averages site B away.
    const better = arm(100, 25, 21, 34);
    const history = [
      look('step 1', { 'site-a': better, 'site-b': arm(100, 25, 0, 0), 'site-c': better, 'site-d': better }),
    ];
    const overallOnly = judgeGuardrailsSequential(history, g);
    assert.notEqual(overallOnly.verdict, 'fail', 'the whole canary alone does not show it at this look');
    const judged = judgeGuardrailsSequential(history, g, { cohorts: DEFAULT_COHORT_GUARDRAILS });
    assert.equal(judged.verdict, 'fail');
    assert.match(judged.reasons[0]!, /^site=site-b: /);
    const b = judged.evidence.cohorts!.cohorts.find((c) => c.cohort === 'site=site-b')!;
    assert.ok(b.verdict === 'harm' || b.verdict === 'floor');
    assert.equal(b.canary.sensitivity, 0);
    assert.ok(
      judged.evidence.cohorts!.cohorts.filter((c) => c.cohort !== 'site=site-b').every((c) => c.verdict === 'pass'),
    );
  });

  it('the floor fires without the comparison minimum: 0 of 15 positives and 0 of 150 alerts at one site', () => {
    const history = [look('step 1', { 'site-b': arm(150, 15, 0, 0) })];
    const c = CohortGuardrailsSchema.parse({ minPositives: 40 });
    const j = judgeCohorts(history, g, c);
    const b = j.cohorts.find((x) => x.cohort === 'site=site-b')!;
    assert.equal(b.verdict, 'floor');
    assert.equal(b.comparison!.harmAtLook, null, 'below the minimum the comparison does not count');
    // The floor's own arithmetic, independently: exact x = 0 bound and limit = 0.5 × the control's lower bound.
    const alpha = j.allocation.perFloorBound;
    assert.ok(Math.abs(b.floor.alertRate!.canaryUpper - (1 - (alpha / 151) ** (1 / 150))) < 1e-8);
    assert.ok(b.floor.alertRate!.canaryUpper < 0.5 * b.floor.alertRate!.controlLower);
    assert.match(j.failures[0]!, /site=site-b: catastrophic failure/);
  });

  it('a cohort below the minimum positives or beyond the budget holds only the last step', () => {
    const small = [look('step 1', { 'site-c': arm(40, 8, 6, 12) })];
    const j = judgeCohorts(small, g, DEFAULT_COHORT_GUARDRAILS);
    assert.equal(j.cohorts.find((c) => c.cohort === 'site=site-c')!.verdict, 'inconclusive');
    assert.equal(j.failures.length, 0);
    assert.equal(j.inconclusive.length, 0, 'an earlier step is not held by a small cohort');
    assert.match(
      judgeCohorts(small, g, DEFAULT_COHORT_GUARDRAILS, { final: true }).inconclusive[0]!,
      /^site=site-c: not enough/,
    );
    const two = CohortGuardrailsSchema.parse({ maxLevels: 2 });
    const h = [look('step 1')];
    assert.equal(judgeCohorts(h, g, two).inconclusive.length, 0);
    const final = judgeCohorts(h, g, two, { final: true });
    assert.equal(final.cohorts.filter((c) => c.verdict === 'unbudgeted').length, 2);
    assert.equal(final.inconclusive.length, 2);
  });

  it('policy schema: defaults are site, 8 levels, 2 % of α, 15 positives, floor 0.5 with 0.5 % of α', () => {
    assert.deepEqual(DEFAULT_COHORT_GUARDRAILS, {
      attributes: ['site'],
      maxLevels: 8,
      alphaShare: 0.02,
      minPositives: 15,
      floor: { relative: 0.5, alphaShare: 0.005 },
    });
    assert.deepEqual(LEGACY_COHORT_GUARDRAILS, {
      ...DEFAULT_COHORT_GUARDRAILS,
      alphaShare: 0.1,
      floor: { relative: 0.5, alphaShare: 0.02 },
    });
    assert.throws(() => CohortGuardrailsSchema.parse({ alphaShare: 0.999 }), /leave part of α/);
  });
});

describe('vigil simulate: the issue-16 counter-example', () => {
  const cli = async (...argv: string[]) => {
    let out = '';
    const code = await run(argv, { env: {}, stdout: (t) => (out += t), stderr: () => {}, readStdin: async () => '' });
    return { code, out };
  };

  it('seed f2 with site B at 0 % sensitivity rolls back naming site=site-b (it was promoted before)', async () => {
    const { code, out } = await cli(
      'simulate',
      '--site',
      'site-b',
      '--feature',
      'x0',
      '--offset',
      '-3',
      '--seed',
      'f2',
    );
    assert.equal(code, 3, out);
    assert.match(out, /rolled back at look 1 \(step 1\): site=site-b: /);
    assert.match(out, /site=site-b\s+(HARM|FLOOR)/);
  });

  it('the same seed in a healthy world is promoted, with every site compared', async () => {
    const { code, out } = await cli('simulate', '--seed', 'f2');
    assert.equal(code, 0, out);
    assert.match(
      out,
      /promoted after 2 looks: .*; cohorts: site=site-a no harm \(canary 0\.\d{4} of \d+, control 0\.\d{4} of \d+\), site=site-b no harm/,
    );
  });
});

describe('vigil audit recomputes the per-cohort verdicts', () => {
  // A canary look recorded by a workflow with cohort guardrails: site B at 0 % sensitivity.
  const better = arm(100, 25, 21, 34);
  const m = look('step 1', { 'site-a': better, 'site-b': arm(100, 25, 0, 0), 'site-c': better, 'site-d': better });
  const policy = ReleasePolicySchema.parse(
    YAML.parse(fs.readFileSync(path.join(__dirname, '../../demo/policies/demo.yaml'), 'utf8')),
  );
  const g = policy.canary.sequential!;
  const call = (measurement: LiveMeasurement): ActivityCall => ({
    workflowId: 'w',
    runId: 'r',
    name: 'observeLive',
    scheduledEventId: 5,
    completedEventId: 7,
    input: { request: { policy }, mode: 'canary', step: 0, interval: 0 },
    result: { measurement },
  });
  const entry = (decision: { verdict: string; reasons: string[] }): ChainEntry => ({
    releaseId: 'r',
    seq: 4,
    stage: 'CANARY',
    step: 0,
    prevEntryDigest: null,
    artifacts: [],
    decision,
    at: '2026-01-01T00:00:00.000Z',
  });

  it('a recorded cohort failure matches; the same look recorded as the whole canary alone judged it does not', () => {
    const workflow = judgeGuardrailsSequential([m], g, { cohorts: DEFAULT_COHORT_GUARDRAILS });
    assert.match(workflow.reasons[0]!, /^site=site-b: /);
    const ok = recomputeDecisions([call(m)], [entry(workflow)]);
    assert.deepEqual(
      ok.checks.map((c) => c.match),
      [true],
    );
    const overallOnly = judgeGuardrailsSequential([m], g);
    const tampered = recomputeDecisions([call(m)], [entry(overallOnly)]);
    assert.equal(tampered.checks[0]!.match, false);
    assert.match(tampered.findings[0]!.expected ?? '', /site=site-b/);
  });

  it('a look measured before cohorts existed is recomputed without them (earlier histories stay valid)', () => {
    const { cohorts: _dropped, ...before } = m;
    const recorded = judgeGuardrailsSequential([before], g);
    assert.deepEqual(
      recomputeDecisions([call(before)], [entry(recorded)]).checks.map((c) => c.match),
      [true],
    );
  });
});
