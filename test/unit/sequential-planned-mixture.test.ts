/**
 * The planned mixture of the sequential harm test (src/stats/sequential/mixture.ts, `mixture: 'planned'`): its
 * e-value against an independent quadrature of the mixing integral, its boundary against Wald's closed-form line
 * and the Bachelier–Lévy first-passage law for Brownian motion, its false-rollback rate on simulated canaries, and
 * `vigil audit` recomputing a look with the mixture the workflow recorded.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import YAML from 'yaml';
import { recomputeDecisions } from '../../src/audit/decisions';
import type { ActivityCall } from '../../src/audit/history';
import { ReleasePolicySchema, type ArmStats, type ChainEntry, type LiveMeasurement } from '../../src/domain';
import { judgeGuardrailsSequential, recordedHarmMixture } from '../../src/judging';
import { gaussian, prng } from '../../src/sim/prng';
import { normalCdf } from '../../src/stats';
import {
  mixturePrecision,
  oneSidedNormalMixtureBoundary,
  PLANNED_POINT_AT,
  PLANNED_POINT_WEIGHT,
  PLANNED_SEQUENTIAL_METHOD,
  plannedInformation,
  plannedMixture,
  plannedMixtureBoundary,
  plannedMixtureLog,
  SEQUENTIAL_METHOD,
  sequentialHarmTest,
  type IntervalCounts,
} from '../../src/stats/sequential';
import { mixtureByQuadrature } from '../support/mixture-quadrature';

/** w·exp(λs − λ²v/2) + (1 − w)·(the half-normal mixing integral by quadrature): independent of the closed form. */
function plannedByQuadrature(s: number, v: number, lambda: number, w: number, rho: number): number {
  return w * Math.exp(lambda * s - (lambda * lambda * v) / 2) + (1 - w) * mixtureByQuadrature(s, v, rho);
}

describe('planned mixture', () => {
  it('its e-value equals the mixing integral computed by quadrature, and starts at 1', () => {
    for (const [s, v, targetV, alpha] of [
      [0, 0, 100, 0.05],
      [30, 400, 1630, 0.04875],
      [-20, 900, 1630, 0.05],
      [95, 1300, 1630, 0.04875],
      [8, 60, 204, 0.000125],
    ] as const) {
      const m = plannedMixture(targetV, alpha);
      const closed = Math.exp(plannedMixtureLog(s, v, m));
      const quad = plannedByQuadrature(s, v, m.lambda, m.weight, m.rho);
      assert.ok(Math.abs(closed - quad) <= 1e-8 * Math.max(1, quad), `s=${s} v=${v}: ${closed} vs ${quad}`);
    }
    assert.ok(Math.abs(plannedMixtureLog(0, 0, plannedMixture(500, 0.05))) < 1e-15);
  });

  it('with all weight on the point mass, the boundary is Wald’s line log(1/α)/λ + λV/2', () => {
    for (const alpha of [0.01, 0.04875, 0.05]) {
      const m = plannedMixture(1000, alpha, { pointAt: 1, weight: 1 });
      assert.ok(Math.abs(m.lambda - Math.sqrt((2 * Math.log(1 / alpha)) / 1000)) < 1e-15);
      for (const v of [1, 100, 1000, 5000]) {
        const line = Math.log(1 / alpha) / m.lambda + (m.lambda * v) / 2;
        assert.ok(Math.abs(plannedMixtureBoundary(v, alpha, m) - line) < 1e-8 * line, `α=${alpha} V=${v}`);
      }
      // At V*, the line is sqrt(2V* log(1/α)): the lowest boundary any mixture can have there.
      const atPlan = plannedMixtureBoundary(1000, alpha, m);
      assert.ok(Math.abs(atPlan - Math.sqrt(2 * 1000 * Math.log(1 / alpha))) < 1e-8 * atPlan);
    }
  });

  it('no boundary is below sqrt(2V log(1/α)); from a quarter of the plan to its end, planned is within 7 %', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 1, max: 1e5, noNaN: true }),
        fc.double({ min: 0.01, max: 100, noNaN: true }),
        fc.constantFrom(0.000125, 0.01, 0.04875, 0.05),
        (targetV, ratio, alpha) => {
          const v = targetV * ratio;
          const m = plannedMixture(targetV, alpha);
          const u = plannedMixtureBoundary(v, alpha, m);
          assert.ok(Math.abs(plannedMixtureLog(u, v, m) - Math.log(1 / alpha)) < 1e-8);
          assert.ok(u >= Math.sqrt(2 * v * Math.log(1 / alpha)) * (1 - 1e-9));
          if (ratio >= 0.25 && ratio <= 1) {
            // Where a canary's looks fall: below the half-normal's boundary and within 7 % of the lowest possible.
            const half = oneSidedNormalMixtureBoundary(v, alpha, mixturePrecision(targetV, alpha));
            assert.ok(u < half, `V/V*=${ratio}: planned ${u} vs half-normal ${half}`);
            if (alpha >= 0.01) assert.ok(u <= 1.07 * Math.sqrt(2 * v * Math.log(1 / alpha)), `V/V*=${ratio}`);
          }
        },
      ),
    );
  });

  it('Brownian motion crosses the point-mass line as often as the Bachelier–Lévy law says, and ≤ α', (t) => {
    // P(max_{t ≤ T} W(t) − bt ≥ a) = Φ̄((a + bT)/√T) + e^{−2ab} Φ̄((a − bT)/√T); → e^{−2ab} = α as T → ∞.
    // Looks every dt: shift a by 0.5826·√dt, the continuity correction for discrete monitoring (Siegmund 1985,
    // Sequential Analysis, corrected diffusion approximations; Broadie, Glasserman & Kou 1997, Math. Finance 7(4)).
    const alpha = 0.05;
    const looks = 400;
    const paths = 4000;
    const m = plannedMixture(looks / 2, alpha, { pointAt: 1, weight: 1 });
    const a = Math.log(1 / alpha) / m.lambda;
    const b = m.lambda / 2;
    const aShift = a + 0.5826;
    const T = looks;
    const law =
      1 -
      normalCdf((aShift + b * T) / Math.sqrt(T)) +
      Math.exp(-2 * aShift * b) * normalCdf((b * T - aShift) / Math.sqrt(T));
    const rand = prng('planned-mixture-bm');
    const u = Array.from({ length: looks }, (_, k) => plannedMixtureBoundary(k + 1, alpha, m));
    let crossed = 0;
    for (let p = 0; p < paths; p++) {
      let s = 0;
      for (let k = 0; k < looks; k++) {
        s += gaussian(rand);
        if (s >= u[k]!) {
          crossed++;
          break;
        }
      }
    }
    const rate = crossed / paths;
    const se = Math.sqrt((law * (1 - law)) / paths);
    t.diagnostic(`crossing rate ${(100 * rate).toFixed(2)}%, first-passage law ${(100 * law).toFixed(2)}% (α = 5%)`);
    assert.ok(Math.abs(rate - law) <= 4 * se, `rate ${rate} vs law ${law}`);
    assert.ok(law < alpha && rate <= alpha + 3 * Math.sqrt((alpha * (1 - alpha)) / paths));
  });

  it('rejects a weight outside (0, 1] and a point not at positive information', () => {
    assert.throws(() => plannedMixture(100, 0.05, { weight: 0 }), RangeError);
    assert.throws(() => plannedMixture(100, 0.05, { weight: 1.5 }), RangeError);
    assert.throws(() => plannedMixture(100, 0.05, { pointAt: 0 }), RangeError);
  });
});

const planned = { treatmentPositives: 340, comparatorPositives: 1120, sensitivity: 0.8 };
const counts = (nt: number, xt: number, nc: number, xc: number): IntervalCounts => ({
  treatment: { positives: nt, truePositives: xt },
  comparator: { positives: nc, truePositives: xc },
});
/** The demo's plan: 10 % canary then 50 %; a drop of 0.08 at the second look. */
const dropping = [counts(100, 63, 900, 630), counts(250, 154, 250, 175)];

describe('sequentialHarmTest with the planned mixture', () => {
  it('records its method and point mass; the half-normal’s results keep their old shape', () => {
    const r = sequentialHarmTest(dropping, { alpha: 0.05, planned, mixture: 'planned' });
    assert.equal(r.method, PLANNED_SEQUENTIAL_METHOD);
    assert.deepEqual(r.mixture, {
      kind: 'planned',
      lambda: Math.sqrt(
        (2 * Math.log(1 / (PLANNED_POINT_WEIGHT * 0.05))) / (PLANNED_POINT_AT * plannedInformation(planned)),
      ),
      weight: PLANNED_POINT_WEIGHT,
    });
    const h = sequentialHarmTest(dropping, { alpha: 0.05, planned });
    assert.equal(h.method, SEQUENTIAL_METHOD);
    assert.equal('mixture' in h, false);
  });

  it('declares harm at the planned horizon where the half-normal does not, with the same α', () => {
    const h = sequentialHarmTest(dropping, { alpha: 0.05, planned });
    const p = sequentialHarmTest(dropping, { alpha: 0.05, planned, mixture: 'planned' });
    assert.equal(h.verdict, 'no-evidence-yet');
    assert.equal(p.verdict, 'harm');
    assert.equal(p.firstCrossing, 2);
    // The same statistic, a lower boundary: the drop's lower bound clears 0 only under the planned mixture.
    assert.equal(p.looks[1]!.statistic, h.looks[1]!.statistic);
    assert.ok(p.looks[1]!.boundary < h.looks[1]!.boundary);
    assert.ok(p.looks[1]!.lower > 0 && h.looks[1]!.lower < 0);
  });

  it('false rollbacks on simulated canaries (no true difference) stay ≤ α at every look', (t) => {
    // The bench's plan: 10 % canary (~100 vs ~900 positives), then 50 % (~250 vs ~250), two extensions' worth of
    // extra looks at each step (6 looks), sensitivity 0.70 in both arms; α = 0.04875 (the default split's).
    const rand = prng('planned-mixture-null');
    const alpha = 0.04875;
    const canaries = 3000;
    const binom = (n: number, p: number) => {
      let x = 0;
      for (let i = 0; i < n; i++) if (rand() < p) x++;
      return x;
    };
    let harm = 0;
    for (let c = 0; c < canaries; c++) {
      const history: IntervalCounts[] = [];
      for (const [nt, nc] of [
        [100, 900],
        [100, 900],
        [100, 900],
        [250, 250],
        [250, 250],
        [250, 250],
      ] as const) {
        history.push(counts(nt, binom(nt, 0.7), nc, binom(nc, 0.7)));
      }
      if (sequentialHarmTest(history, { alpha, planned, mixture: 'planned' }).verdict === 'harm') harm++;
    }
    const rate = harm / canaries;
    t.diagnostic(`false rollbacks ${(100 * rate).toFixed(2)}% of ${canaries} (α = ${alpha})`);
    assert.ok(rate <= alpha + 3 * Math.sqrt((alpha * (1 - alpha)) / canaries));
  });
});

const arm = (n: number, positives: number, truePositives: number): ArmStats => ({
  n,
  positives,
  truePositives,
  negatives: n - positives,
  trueNegatives: n - positives - 0,
  alerts: truePositives,
  sensitivity: positives ? truePositives / positives : null,
  specificity: null,
  alertRate: n ? truePositives / n : null,
});

describe('vigil audit recomputes a look with the mixture the workflow recorded', () => {
  // The demo policy: steps 10 % then 50 %, α = 0.05, planned 340 / 1,120 positives, no `cohorts` of its own.
  const policy = ReleasePolicySchema.parse(
    YAML.parse(fs.readFileSync(path.join(__dirname, '../../demo/policies/demo.yaml'), 'utf8')),
  );
  const g = policy.canary.sequential!;
  assert.deepEqual([g.alpha, g.planned, g.cohorts, policy.canary.steps.length], [0.05, planned, undefined, 2]);
  // Whole-canary counts only (no `cohorts`: judged as a canary before cohort guardrails), so the mixture decides.
  const history: LiveMeasurement[] = dropping.map((c, i) => ({
    window: `step ${i + 1}`,
    treatment: arm(c.treatment.positives * 4, c.treatment.positives, c.treatment.truePositives),
    comparator: arm(c.comparator.positives * 4, c.comparator.positives, c.comparator.truePositives),
  }));
  const calls = (recorded: ReturnType<typeof judgeGuardrailsSequential>[]): ActivityCall[] =>
    history.flatMap((measurement, i) => [
      {
        workflowId: 'w',
        runId: 'r',
        name: 'observeLive',
        scheduledEventId: 10 * i + 5,
        completedEventId: 10 * i + 7,
        input: { request: { policy }, mode: 'canary', step: i, interval: i },
        result: { measurement },
      },
      {
        workflowId: 'w',
        runId: 'r',
        name: 'recordVerdict',
        scheduledEventId: 10 * i + 8,
        completedEventId: 10 * i + 9,
        input: { releaseId: 'r', stage: 'CANARY', step: i, look: i + 1, verdict: recorded[i] },
        result: {},
      },
    ]);
  const entry = (step: number, d: { verdict: string; reasons: string[] }): ChainEntry => ({
    releaseId: 'r',
    seq: 4 + step,
    stage: 'CANARY',
    step,
    prevEntryDigest: null,
    artifacts: [],
    decision: { verdict: d.verdict, reasons: d.reasons } as ChainEntry['decision'],
    at: '2026-01-01T00:00:00.000Z',
  });
  const judgeAll = (mixture: 'planned' | 'half-normal') =>
    history.map((_, i) => judgeGuardrailsSequential(history.slice(0, i + 1), g, { final: i === 1, mixture }));

  it('tells the mixture from the recorded evidence', () => {
    const [p1] = judgeAll('planned');
    const [h1] = judgeAll('half-normal');
    assert.equal(recordedHarmMixture(p1!.evidence), 'planned');
    assert.equal(recordedHarmMixture(h1!.evidence), 'half-normal');
    assert.equal(recordedHarmMixture(undefined), 'half-normal');
  });

  it('a planned-mixture rollback and a half-normal pass of the same looks both recompute; swapped, they do not', () => {
    const p = judgeAll('planned');
    const h = judgeAll('half-normal');
    assert.equal(p[1]!.verdict, 'fail');
    assert.equal(h[1]!.verdict, 'pass');
    for (const recorded of [p, h]) {
      const out = recomputeDecisions(
        calls(recorded),
        recorded.map((d, i) => entry(i, d)),
      );
      assert.deepEqual(
        out.checks.map((c) => c.match),
        [true, true],
        JSON.stringify(out.findings),
      );
    }
    // The planned rollback recorded with half-normal evidence (a verdict the rule did not give) is caught.
    const forged = recomputeDecisions(
      calls(h),
      p.map((d, i) => entry(i, d)),
    );
    assert.equal(forged.checks[1]!.match, false);
  });
});
