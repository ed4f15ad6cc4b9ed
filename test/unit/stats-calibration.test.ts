import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  brierScore,
  expectedCalibrationError,
  logisticRecalibration,
  reliabilityCurve,
  StatsInputError,
} from '../../src/stats';

/** Deterministic sample whose outcomes are drawn from p itself: calibrated by construction. */
function calibratedSample(n: number) {
  let seed = 12345;
  const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296;
  const p = Array.from({ length: n }, () => 0.02 + 0.96 * rand());
  const y = p.map((v) => (rand() < v ? 1 : 0));
  return { p, y };
}

describe('calibration', () => {
  it('Brier and both ECE binnings by hand on a small example', () => {
    const p = [0.1, 0.2, 0.7, 0.9];
    const y = [0, 1, 1, 1];
    assert.ok(Math.abs(brierScore(p, y)! - (0.01 + 0.64 + 0.09 + 0.01) / 4) < 1e-15);
    // equal-width, 2 bins: [0, .5) holds .1,.2 (mean .15, observed .5); [.5, 1] holds .7,.9 (mean .8, observed 1)
    assert.ok(Math.abs(expectedCalibrationError(p, y, { bins: 2 })! - (0.5 * 0.35 + 0.5 * 0.2)) < 1e-15);
    // equal-mass, 4 bins: one row each, ECE = mean |p − y|
    assert.ok(
      Math.abs(expectedCalibrationError(p, y, { bins: 4, strategy: 'equal-mass' })! - (0.1 + 0.8 + 0.3 + 0.1) / 4) <
        1e-15,
    );
  });

  it('reliability points carry bin edges, counts and an interval around the observed rate', () => {
    const points = reliabilityCurve([0.1, 0.2, 0.7, 0.9], [0, 1, 1, 1], 2);
    assert.deepEqual(
      points.map((pt) => [pt.binLower, pt.binUpper, pt.n, pt.observed]),
      [
        [0, 0.5, 2, 0.5],
        [0.5, 1, 2, 1],
      ],
    );
    assert.ok(points.every((pt) => pt.interval.lower <= pt.observed && pt.observed <= pt.interval.upper));
  });

  it('a calibrated model has intercept ≈ 0 and slope ≈ 1 (within sampling error)', () => {
    const { p, y } = calibratedSample(20000);
    const fit = logisticRecalibration(p, y);
    assert.ok(fit.slope.converged && fit.intercept.converged);
    assert.ok(Math.abs(fit.slope.estimate! - 1) < 3 * fit.slope.se!, `slope ${fit.slope.estimate} ± ${fit.slope.se}`);
    assert.ok(Math.abs(fit.intercept.estimate!) < 3 * fit.intercept.se!, `intercept ${fit.intercept.estimate}`);
  });

  it('recovers a known miscalibration: scores over-confident by a factor 2 on the logit scale give slope ≈ 0.5', () => {
    const { p, y } = calibratedSample(20000);
    const sharpened = p.map((v) => 1 / (1 + Math.exp(-2 * Math.log(v / (1 - v)))));
    const fit = logisticRecalibration(sharpened, y);
    assert.ok(Math.abs(fit.slope.estimate! - 0.5) < 3 * fit.slope.se!, `slope ${fit.slope.estimate}`);
  });

  it('reports non-convergence under perfect separation and undefined for a single class, without throwing', () => {
    const separated = logisticRecalibration([0.1, 0.2, 0.3, 0.7, 0.8, 0.9], [0, 0, 0, 1, 1, 1]);
    assert.equal(separated.slope.converged, false);
    assert.equal(separated.slope.estimate, null);
    assert.match(separated.slope.reason!, /did not converge/);
    const single = logisticRecalibration([0.1, 0.2], [1, 1]);
    assert.equal(single.slope.estimate, null);
    assert.match(single.slope.reason!, /no negatives/);
  });

  it('refuses scores outside [0, 1] with the row', () => {
    assert.throws(
      () => brierScore([0.2, 1.5], [0, 1]),
      (e: unknown) => e instanceof StatsInputError && e.row === 1,
    );
  });
});
