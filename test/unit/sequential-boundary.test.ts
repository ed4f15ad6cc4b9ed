import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  judgeGuardrailsSequential,
  type CanaryIntervalMeasurement,
  type SequentialGuardrailsInput,
} from '../../src/judging/guardrails';
import { gaussian, prng } from '../../src/sim/prng';
import { StatsInputError } from '../../src/stats';
import {
  logNormalCdf,
  mixturePrecision,
  oneSidedNormalMixtureBoundary,
  oneSidedNormalMixtureLog,
  sequentialHarmTest,
  type IntervalCounts,
} from '../../src/stats/sequential';
import { mixtureByQuadrature } from '../support/mixture-quadrature';

describe('one-sided normal mixture (Howard et al. 2021)', () => {
  it('matches the mixture integral computed by quadrature', () => {
    for (const [s, v, rho] of [
      [0, 0, 1],
      [3, 10, 2],
      [-2, 5, 0.5],
      [25, 400, 60],
      [10, 50, 100],
    ] as const) {
      const closed = Math.exp(oneSidedNormalMixtureLog(s, v, rho));
      const quad = mixtureByQuadrature(s, v, rho);
      assert.ok(Math.abs(closed - quad) <= 1e-8 * Math.max(1, quad), `s=${s} v=${v} ρ=${rho}: ${closed} vs ${quad}`);
    }
  });

  it('starts at 1 and the boundary solves log M = log(1/α), below the two-sided boundary', () => {
    assert.ok(Math.abs(oneSidedNormalMixtureLog(0, 0, 3)) < 1e-15);
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1e6, noNaN: true }),
        fc.double({ min: 1e-3, max: 1e5, noNaN: true }),
        fc.constantFrom(0.01, 0.025, 0.05, 0.1),
        (v, rho, alpha) => {
          const u = oneSidedNormalMixtureBoundary(v, alpha, rho);
          assert.ok(Math.abs(oneSidedNormalMixtureLog(u, v, rho) - Math.log(1 / alpha)) < 1e-8);
          const twoSided = Math.sqrt((v + rho) * (Math.log(1 + v / rho) + 2 * Math.log(1 / alpha)));
          assert.ok(u > 0 && u <= twoSided + 1e-9);
        },
      ),
    );
  });

  it('log Φ is continuous across its tail switch', () => {
    assert.ok(Math.abs(logNormalCdf(-30 + 1e-9) - logNormalCdf(-30 - 1e-9)) < 1e-6);
    assert.ok(Number.isFinite(logNormalCdf(-200)));
  });

  it('Brownian motion checked at 1,000 looks crosses the boundary with probability ≤ α (Ville)', (t) => {
    const rand = prng('mixture-bm');
    const alpha = 0.05;
    const paths = 2000;
    const looks = 1000;
    const dv = 1; // information per look
    const rho = mixturePrecision(looks / 2, alpha);
    const u = Array.from({ length: looks }, (_, k) => oneSidedNormalMixtureBoundary((k + 1) * dv, alpha, rho));
    let crossed = 0;
    for (let p = 0; p < paths; p++) {
      let s = 0;
      for (let k = 0; k < looks; k++) {
        s += gaussian(rand) * Math.sqrt(dv);
        if (s >= u[k]!) {
          crossed++;
          break;
        }
      }
    }
    const rate = crossed / paths;
    t.diagnostic(`BM crossing rate over ${looks} looks: ${(rate * 100).toFixed(2)}% (α = 5%)`);
    assert.ok(rate <= alpha + 3 * Math.sqrt((alpha * (1 - alpha)) / paths));
  });
});

const look = (nt: number, xt: number, nc: number, xc: number): IntervalCounts => ({
  treatment: { positives: nt, truePositives: xt },
  comparator: { positives: nc, truePositives: xc },
});
const planned = { treatmentPositives: 1000, comparatorPositives: 1000, sensitivity: 0.8 };

describe('sequentialHarmTest', () => {
  it('declares harm for a large, well-measured drop, and the verdict is sticky', () => {
    const history = [look(200, 120, 200, 170), look(200, 160, 200, 160), look(200, 170, 200, 160)];
    const r = sequentialHarmTest(history, { alpha: 0.05, planned });
    assert.equal(r.verdict, 'harm');
    assert.equal(r.firstCrossing, 1);
    assert.ok(r.anytimePValue <= 0.05);
    assert.ok(r.looks[0]!.lower > 0);
  });

  it('no evidence with equal sensitivities; non-inferior once the upper bound is under the margin', () => {
    const history = Array.from({ length: 10 }, () => look(300, 240, 300, 240));
    const r = sequentialHarmTest(history, { alpha: 0.05, planned, nonInferiorityMargin: 0.05 });
    assert.equal(r.verdict, 'non-inferior');
    assert.equal(r.firstCrossing, null);
    const short = sequentialHarmTest(history.slice(0, 1), { alpha: 0.05, planned, nonInferiorityMargin: 0.05 });
    assert.equal(short.verdict, 'no-evidence-yet');
  });

  it('the confidence sequence is nested and the crossing agrees with the lower bound', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.nat(80),
            fc.nat(80),
            fc.double({ min: 0, max: 1, noNaN: true }),
            fc.double({ min: 0, max: 1, noNaN: true }),
          ),
          { minLength: 1, maxLength: 12 },
        ),
        fc.constantFrom(0, 0.02),
        (raw, margin) => {
          const history = raw.map(([nt, nc, a, b]) => look(nt, Math.round(a * nt), nc, Math.round(b * nc)));
          const r = sequentialHarmTest(history, { alpha: 0.05, harmMargin: margin, planned });
          r.looks.forEach((l, i) => {
            // (the running intersection may become empty — lower > upper — when sensitivities are not constant)
            if (i > 0) {
              assert.ok(l.lower >= r.looks[i - 1]!.lower);
              assert.ok(l.upper <= r.looks[i - 1]!.upper);
            }
            if (l.crossed) assert.ok(l.lower >= margin - 1e-9);
          });
          assert.equal(
            r.verdict === 'harm',
            r.looks.some((l) => l.crossed),
          );
          // exp(−log E) underflows to 0 for overwhelming evidence: the p-value lies in [0, 1].
          assert.ok(r.anytimePValue >= 0 && r.anytimePValue <= 1);
        },
      ),
    );
  });

  it('rejects impossible counts and bad options', () => {
    assert.throws(() => sequentialHarmTest([look(10, 11, 10, 5)], { alpha: 0.05, planned }), StatsInputError);
    assert.throws(
      () =>
        sequentialHarmTest([look(10, 5, 10, 5)], {
          alpha: 0.05,
          planned: { treatmentPositives: 0, comparatorPositives: 10 },
        }),
      StatsInputError,
    );
    assert.throws(() => sequentialHarmTest([], { alpha: 0.7, planned }), RangeError);
  });
});

const arm = (n: number, positives: number, tp: number, alerts: number) => ({
  n,
  positives,
  truePositives: tp,
  negatives: n - positives,
  trueNegatives: n - positives - (alerts - tp),
  alerts,
  sensitivity: positives > 0 ? tp / positives : null,
  specificity: null,
  alertRate: n > 0 ? alerts / n : null,
});

function interval(
  i: number,
  tp: [number, number],
  extra: Partial<CanaryIntervalMeasurement> = {},
): CanaryIntervalMeasurement {
  return {
    window: `interval ${i}`,
    treatment: arm(1000, 100, tp[0], 150),
    comparator: arm(1000, 100, tp[1], 140),
    overrides: { overridden: 10, alerts: 150 },
    latencyP99Ms: 120,
    errors: { failed: 1, requests: 1000 },
    dataQualityAnomalies: [],
    ...extra,
  };
}

const guardrails: SequentialGuardrailsInput = {
  alpha: 0.05,
  harmMargin: 0,
  planned: { treatmentPositives: 1000, comparatorPositives: 1000 },
  minPositives: 50,
  maxAlertRateRatio: 1.5,
  maxOverrideRate: 0.3,
  maxLatencyP99Ms: 500,
  maxErrorRate: 0.01,
};

describe('judgeGuardrailsSequential', () => {
  it('is inconclusive, never pass, before enough labelled positives', () => {
    const d = judgeGuardrailsSequential(
      [{ ...interval(1, [30, 30]), treatment: arm(300, 30, 24, 40), comparator: arm(300, 30, 24, 40) }],
      guardrails,
    );
    assert.equal(d.verdict, 'inconclusive');
    assert.match(d.reasons[0]!, /not enough labelled positives/);
    assert.equal(judgeGuardrailsSequential([], guardrails).verdict, 'inconclusive');
  });

  it('passes equal arms and records every look as evidence', () => {
    const d = judgeGuardrailsSequential([interval(1, [80, 80]), interval(2, [79, 81])], guardrails);
    assert.equal(d.verdict, 'pass', d.reasons.join('; '));
    assert.equal(d.evidence.sequential!.looks.length, 2);
    assert.ok(d.evidence.checks.every((c) => c.status === 'pass'));
  });

  it('fails on sequential harm, with the confidence sequence in the reason', () => {
    const history = [interval(1, [60, 85]), interval(2, [62, 84]), interval(3, [61, 86])];
    const d = judgeGuardrailsSequential(history, guardrails);
    assert.equal(d.verdict, 'fail');
    assert.match(d.reasons[0]!, /sensitivity harm declared at look \d by the sequential test/);
  });

  it('fails on operational guardrails and holds on missing signals', () => {
    assert.equal(judgeGuardrailsSequential([interval(1, [80, 80], { latencyP99Ms: 900 })], guardrails).verdict, 'fail');
    assert.equal(
      judgeGuardrailsSequential([interval(1, [80, 80], { errors: { failed: 50, requests: 1000 } })], guardrails)
        .verdict,
      'fail',
    );
    assert.equal(
      judgeGuardrailsSequential([interval(1, [80, 80], { overrides: { overridden: 100, alerts: 150 } })], guardrails)
        .verdict,
      'fail',
    );
    assert.equal(
      judgeGuardrailsSequential(
        [interval(1, [80, 80], { dataQualityAnomalies: ['age out of range in 3% of rows'] })],
        guardrails,
      ).verdict,
      'fail',
    );
    const alerts = { ...interval(1, [80, 80]), treatment: arm(1000, 100, 80, 300) };
    assert.equal(judgeGuardrailsSequential([alerts], guardrails).verdict, 'fail');
    const d = judgeGuardrailsSequential([interval(1, [80, 80], { latencyP99Ms: null })], guardrails);
    assert.equal(d.verdict, 'inconclusive');
    assert.match(d.reasons[0]!, /latency-p99-ms not measured/);
  });

  it('at the final interval, requires non-inferiority when a margin is set', () => {
    const g = { ...guardrails, nonInferiorityMargin: 0.05 };
    const two = [interval(1, [80, 80]), interval(2, [80, 80])];
    assert.equal(judgeGuardrailsSequential(two, g, { final: true }).verdict, 'inconclusive');
    assert.equal(judgeGuardrailsSequential(two, g).verdict, 'pass');
    const many = Array.from({ length: 20 }, (_, i) => ({
      ...interval(i, [0, 0]),
      treatment: arm(3000, 300, 240, 450),
      comparator: arm(3000, 300, 240, 420),
    }));
    assert.equal(judgeGuardrailsSequential(many, g, { final: true }).verdict, 'pass');
  });
});
