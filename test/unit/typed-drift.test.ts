/**
 * Issue #22, drift: feature types drive the statistics, and alarm rates hold at every window size the policy accepts.
 * Each case reproduces a measured failure and asserts the corrected behaviour.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DriftPolicySchema } from '../../src/domain';
import { chiSquareHomogeneity } from '../../src/stats/chi-square';
import {
  chiSquareQuantileUpper,
  discreteDriftOfCounts,
  inferFeatureType,
  mergeSparseCells,
  minDriftWindow,
} from '../../src/stats/feature-drift';
import { fisherExact2x2 } from '../../src/stats/fisher-exact';
import { ks2Sample } from '../../src/stats/ks';
import { alarmRates, drawWindow, gatewayFeature, reference } from '../../bench/drift-scenarios';

describe('typed drift (issue #22)', () => {
  it('a 0/1 input with no drift does not alarm through gateway telemetry (was PSI 2.5–2.8 in 200/200 windows)', () => {
    const r = alarmRates('binary', 1000, false, 'gateway', 200);
    assert.equal(r.notJudged, 0);
    assert.ok(r.maxPsi < 0.02, `largest PSI ${r.maxPsi}`);
    assert.equal(r.psiOver, 0);
    assert.ok(r.alarms <= 6, `${r.alarms} of 200 windows alarmed (α 0.01: expect ~2)`);
  });

  it('the gateway counts a 0/1 input exactly: PSI from telemetry equals PSI from the values', () => {
    const ref = reference('binary', 3);
    const win = drawWindow('binary', 1000, false, 99);
    const f = gatewayFeature(ref, win);
    assert.ok(typeof f !== 'string');
    const ones = win.filter((v) => v === 1).length;
    const refOnes = ref.values.filter((v) => v === 1).length;
    // independent PSI over the two categories
    const e = [1 - refOnes / 2000, refOnes / 2000];
    const a = [1 - ones / 1000, ones / 1000];
    const psi = (a[0]! - e[0]!) * Math.log(a[0]! / e[0]!) + (a[1]! - e[1]!) * Math.log(a[1]! / e[1]!);
    assert.ok(Math.abs(f.psi - psi) < 1e-12, `${f.psi} vs ${psi}`);
    assert.equal(f.featureType, 'binary');
    // Two cells: Fisher's exact test on the same counts (its size is ≤ α; Pearson's is α itself).
    assert.equal(f.test, 'fisher-exact');
    assert.equal(f.pValue, fisherExact2x2(2000 - refOnes, refOnes, 1000 - ones, ones));
  });

  it('a 0..5 count with no drift: PSI never over 0.25 (was 182 of 200 windows)', () => {
    const r = alarmRates('count', 1000, false, 'gateway', 200);
    assert.equal(r.psiOver, 0);
    assert.ok(r.alarms <= 6, `${r.alarms} alarms`);
  });

  it('small windows: 30 and 50 cases are refused (were 99.7 % and 83.4 % false alarms), 100 cases ≤ α', () => {
    assert.equal(minDriftWindow(0.25, 0.01), 87);
    for (const n of [30, 50]) {
      const r = alarmRates('continuous', n, false, 'offline', 300);
      assert.equal(r.notJudged, 300, `${n}-case windows judged`);
    }
    const r = alarmRates('continuous', 100, false, 'offline', 1000);
    // binomial(1000, 0.01): mean 10, sd 3.1 — at most 20 allowed (was 51 at 100 cases)
    assert.ok(r.alarms <= 20, `${r.alarms} of 1000 windows of 100 cases alarmed`);
  });

  it('the policy refuses windows below 50 cases', () => {
    assert.throws(() => DriftPolicySchema.parse({ onDrift: 'notify', minWindowCases: 10 }));
    assert.equal(DriftPolicySchema.parse({ onDrift: 'notify', minWindowCases: 200 }).minWindowCases, 200);
  });

  it('0/1/2 codes 50/30/20 → 50/25/25 at 1,000 cases: χ² on counts catches ≥ 70 % (KS caught 21 %)', () => {
    assert.equal(inferFeatureType(reference('categorical', 1).values), 'count');
    const chi = alarmRates('categorical', 1000, true, 'offline', 200);
    assert.ok(chi.alarms / 200 >= 0.7, `χ² power ${chi.alarms / 200}`);
    // KS on the same windows, for the record: clearly weaker
    const ref = reference('categorical', 1);
    let ks = 0;
    for (let w = 0; w < 200; w++)
      if (ks2Sample(ref.values, drawWindow('categorical', 1000, true, 100_004 + w)).pValue < 0.01) ks++;
    assert.ok(ks < chi.alarms, `KS ${ks} vs χ² ${chi.alarms}`);
  });

  it('a 0.5 SD shift is still caught in 200-case windows', () => {
    const r = alarmRates('continuous', 200, true, 'offline', 200);
    assert.ok(r.alarms / 200 >= 0.95, `${r.alarms / 200}`);
  });

  it('feature types: 0/1 binary, small integers count, codes with negatives categorical, else continuous', () => {
    assert.equal(inferFeatureType([0, 1, 1, 0]), 'binary');
    assert.equal(inferFeatureType([0, 3, 5, 2]), 'count');
    assert.equal(inferFeatureType([-1, 0, 1]), 'categorical');
    assert.equal(inferFeatureType(Array.from({ length: 100 }, (_, i) => i / 7)), 'continuous');
  });

  it('χ² quantile matches the published table; sparse cells merge to ≥ 5 expected', () => {
    // χ²(9) upper 1 % point: 21.666 (Pearson & Hartley, Biometrika Tables)
    assert.ok(Math.abs(chiSquareQuantileUpper(0.01, 9) - 21.666) < 1e-3);
    assert.ok(Math.abs(chiSquareQuantileUpper(0.05, 1) - 3.841) < 1e-3);
    const m = mergeSparseCells([500, 400, 90, 10], [50, 40, 9, 1]);
    assert.deepEqual(m.reference, [500, 400, 100]);
    const d = discreteDriftOfCounts(
      'count',
      new Map([
        [0, 500],
        [1, 400],
        [2, 90],
        [3, 10],
      ]),
      new Map([
        [0, 50],
        [1, 40],
        [2, 9],
        [3, 1],
      ]),
    );
    assert.equal(d.df, 2);
    assert.ok(Math.abs(d.pValue - chiSquareHomogeneity([500, 400, 100], [50, 40, 10]).pValue) < 1e-15);
  });
});
