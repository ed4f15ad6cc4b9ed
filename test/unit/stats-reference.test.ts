import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  aucInterval,
  averagePrecision,
  clopperPearsonInterval,
  delongAuc,
  holmAdjust,
  logGamma,
  normalCdf,
  normalQuantile,
  pairedDelong,
  regularizedIncompleteBeta,
  rocAuc,
  wilsonInterval,
} from '../../src/stats';

/** Relative closeness, as testthat's expect_equal (pROC's own tolerance is ~1.5e-8). */
function close(actual: number | null | undefined, expected: number, rel = 1e-10): void {
  assert.ok(actual !== null && actual !== undefined, `expected ${expected}, got ${String(actual)}`);
  assert.ok(
    Math.abs(actual - expected) <= rel * Math.max(1, Math.abs(expected)),
    `${actual} ≠ ${expected} (rel ${rel})`,
  );
}

/**
 * pROC's aSAH data (Robin et al. 2011, BMC Bioinformatics 12:77; 113 patients, 41 poor outcomes):
 * outcome (P = poor = case), wfns (as numeric level), s100b, ndka — in the package's row order.
 */
const ASAH = `G,1,0.13,3.01 G,1,0.14,8.54 G,1,0.1,8.09 G,1,0.04,10.42 P,3,0.13,17.4 P,2,0.1,12.75 G,5,0.47,6.0
P,4,0.16,13.2 G,1,0.18,15.54 G,2,0.1,6.01 P,5,0.12,15.96 G,2,0.1,17.86 P,5,0.44,5.18 P,5,0.71,8.9 G,1,0.04,13.41
G,2,0.08,20.75 P,5,0.49,11.6 G,2,0.04,16.11 P,2,0.07,32.37 P,5,0.33,54.82 P,2,0.09,32.41 G,1,0.09,49.94 P,1,0.07,40.34
G,1,0.11,9.47 G,1,0.07,6.29 G,2,0.17,12.53 G,1,0.07,6.54 G,2,0.11,6.3 G,1,0.13,80.3 G,1,0.19,12.8 G,3,0.05,9.8
G,4,0.16,9.81 P,2,0.41,9.85 G,1,0.14,18.21 G,4,0.34,5.03 P,5,0.35,14.04 P,4,0.48,21.93 G,1,0.09,8.02 P,4,0.96,7.42
P,2,0.25,8.38 G,5,0.5,6.59 G,5,0.46,9.63 G,1,0.16,13.12 G,1,0.07,7.96 G,2,0.43,14.34 G,4,0.45,41.43 G,1,0.11,7.63
G,1,0.08,7.06 G,2,0.09,12.59 P,5,0.86,13.56 P,5,0.52,3.87 G,2,0.08,9.44 G,1,0.06,7.66 G,2,0.13,12.98 P,5,2.07,419.19
G,1,0.1,27.19 G,2,0.14,22.27 G,2,0.15,9.95 P,2,0.07,21.22 G,1,0.06,11.73 P,5,0.77,10.4 G,1,0.05,58.83 G,1,0.09,6.39
P,2,0.3,11.09 P,5,0.03,12.22 P,2,0.09,13.67 G,1,0.04,17.21 P,4,0.23,22.63 P,5,0.7,12.9 G,2,0.09,9.7 P,4,0.27,21.57
P,4,0.71,8.23 P,1,0.08,72.57 P,4,0.26,15.54 G,1,0.08,10.51 G,2,0.16,10.6 G,1,0.09,14.57 P,4,0.13,5.19 P,2,0.1,9.63
G,1,0.08,4.61 P,2,0.11,21.48 G,3,0.33,17.3 G,2,0.11,12.71 G,4,0.28,9.44 G,2,0.07,11.07 G,1,0.1,19.46 G,4,0.32,10.83
P,5,0.22,5.37 G,1,0.07,11.97 G,1,0.05,7.75 G,5,0.24,9.83 G,4,0.38,10.55 G,2,0.1,28.49 G,2,0.15,8.53 G,1,0.08,12.57
G,1,0.14,12.9 G,1,0.1,46.83 G,3,0.07,11.68 G,1,0.04,12.67 G,2,0.19,9.01 P,5,0.56,9.57 P,2,0.14,34.06 P,2,0.58,11.72
P,5,0.32,14.26 P,5,0.82,47.61 P,5,0.74,11.67 G,2,0.15,24.58 G,4,0.47,10.33 G,4,0.17,13.87 P,5,0.44,15.89
G,1,0.15,22.43 G,1,0.5,6.79 G,1,0.48,13.45`
  .split(/\s+/)
  .map((r) => r.split(','));
const outcome: number[] = ASAH.map((r) => (r[0] === 'P' ? 1 : 0));
const column = (k: number) => ASAH.map((r) => Number(r[k]));
const marker = { wfns: column(1), s100b: column(2), ndka: column(3) };

describe('DeLong against pROC (tests/testthat of xrobin/pROC, aSAH data)', () => {
  it('has the 113 rows and 41 cases of aSAH', () => {
    assert.equal(outcome.length, 113);
    assert.equal(
      outcome.reduce((a, b) => a + b, 0),
      41,
    );
  });

  it('reproduces auc() and var() (test-var.R, helper-roc-expected.R)', () => {
    close(delongAuc(marker.wfns, outcome).auc, 0.823678861788618, 1e-12);
    close(delongAuc(marker.ndka, outcome).auc, 0.61195799457994582, 1e-12);
    close(delongAuc(marker.wfns, outcome).variance, 0.00146991470882363);
    close(delongAuc(marker.ndka, outcome).variance, 0.0031908105493913);
    close(delongAuc(marker.s100b, outcome).variance, 0.00266868245717244);
    close(rocAuc(marker.ndka, outcome), 0.61195799457994582, 1e-12);
  });

  it('reproduces ci.auc(r.ndka) (test-ci.auc.R)', () => {
    const ci = aucInterval(delongAuc(marker.ndka, outcome), 0.95)!;
    close(ci.lower, 0.501244999271703);
    close(ci.upper, 0.722670989888189);
  });

  const pairs = [
    ['wfns', 'ndka', 2.79777591868904, 0.00514557970691098, 0.0634011709339876, 0.3600405634833566],
    ['wfns', 's100b', 2.20898359144091, 0.0271757822291882, 0.0104061769564846, 0.174214419249478],
    ['ndka', 's100b', -1.39077002573558, 0.164295175223054, -0.2876917446341914, 0.0488706064228094],
  ] as const;
  for (const [a, b, z, p, lo, hi] of pairs) {
    it(`reproduces roc.test(r.${a}, r.${b}) (test-roc.test.R): Z, p and the CI of the difference`, () => {
      const t = pairedDelong(marker[a], marker[b], outcome)!;
      close(t.z, z);
      close(t.pValue, p);
      close(t.interval.lower, lo);
      close(t.interval.upper, hi);
      const reversed = pairedDelong(marker[b], marker[a], outcome)!;
      close(reversed.z, -z);
      close(reversed.pValue, p);
    });
  }

  it('gives Z = 0 and p = 1 for a curve against itself, as roc.test(r.wfns, r.wfns) does', () => {
    const t = pairedDelong(marker.wfns, marker.wfns, outcome)!;
    assert.equal(t.difference, 0);
    assert.equal(t.variance, 0);
    assert.equal(t.z, 0);
    assert.equal(t.pValue, 1);
  });

  it('reproduces the one-sided p of roc.test(alternative = "greater"): 0.0135878911145941', () => {
    const t = pairedDelong(marker.wfns, marker.s100b, outcome)!;
    close(1 - normalCdf(t.z!), 0.0135878911145941, 1e-9);
  });
});

describe('proportion intervals against Newcombe (1998), Stat Med 17:857, Table I', () => {
  const table = [
    // x, n, Wilson (method 3), exact Clopper-Pearson (method 5)
    [81, 263, [0.2553, 0.3662], [0.2527, 0.3676]],
    [15, 148, [0.0624, 0.1605], [0.0578, 0.1617]],
    [0, 20, [0, 0.1611], [0, 0.1684]],
    [1, 29, [0.0061, 0.1718], [0.0009, 0.1776]],
  ] as const;
  const r4 = (v: number) => Math.round(v * 1e4) / 1e4;
  for (const [x, n, wilson, exact] of table) {
    it(`${x}/${n}: Wilson ${wilson.join('–')}, Clopper-Pearson ${exact.join('–')}`, () => {
      const w = wilsonInterval(x, n);
      assert.deepEqual([r4(w.lower), r4(w.upper)], wilson);
      const cp = clopperPearsonInterval(x, n);
      assert.deepEqual([r4(cp.lower), r4(cp.upper)], exact);
    });
  }

  it('Clopper-Pearson at x = 0 is the closed form 1 − (α/2)^(1/n)', () => {
    close(clopperPearsonInterval(0, 20).upper, 1 - 0.025 ** (1 / 20), 1e-12);
    close(clopperPearsonInterval(7, 7).lower, 0.025 ** (1 / 7), 1e-12);
  });

  it('Wilson agrees with the independent closed form (p̂ + z²/2n ± z√(p̂q̂/n + z²/4n²)) / (1 + z²/n)', () => {
    const z = 1.959963984540054;
    for (const [x, n] of [
      [3, 10],
      [45, 50],
      [500, 1000],
    ] as const) {
      const p = x / n;
      const denom = 1 + (z * z) / n;
      const center = p + (z * z) / (2 * n);
      const half = z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n));
      const w = wilsonInterval(x, n);
      close(w.lower, (center - half) / denom, 1e-13);
      close(w.upper, (center + half) / denom, 1e-13);
    }
  });
});

describe('special functions', () => {
  it('Φ and Φ⁻¹ match tabulated values', () => {
    close(normalCdf(1.96), 0.9750021048517795, 1e-14);
    close(normalCdf(-3), 0.0013498980316301, 1e-12);
    close(normalCdf(-5), 2.866515718791939e-7, 1e-12);
    close(normalQuantile(0.975), 1.959963984540054, 1e-14);
    close(normalQuantile(1e-10), -6.361340902404056, 1e-12);
    assert.equal(normalQuantile(0.5), 0);
  });

  it('log Γ and the incomplete beta match closed forms', () => {
    close(logGamma(10), Math.log(362880), 1e-13);
    close(logGamma(0.5), Math.log(Math.sqrt(Math.PI)), 1e-13);
    // I_x(1, b) = 1 − (1 − x)^b and I_x(a, 1) = x^a
    close(regularizedIncompleteBeta(0.3, 1, 5), 1 - 0.7 ** 5, 1e-13);
    close(regularizedIncompleteBeta(0.3, 4, 1), 0.3 ** 4, 1e-13);
  });
});

describe('average precision', () => {
  it("matches scikit-learn's documented example: average_precision_score([0,0,1,1], [0.1,0.4,0.35,0.8]) = 0.8333", () => {
    close(averagePrecision([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]), 5 / 6, 1e-14);
  });

  it('treats tied scores as one threshold', () => {
    // all tied: one threshold, precision = prevalence
    close(averagePrecision([0.5, 0.5, 0.5, 0.5], [1, 0, 0, 1]), 0.5, 1e-14);
  });
});

describe('Holm adjustment', () => {
  it('matches R p.adjust(c(0.01, 0.04, 0.03, 0.005), "holm") = 0.03 0.06 0.06 0.02', () => {
    const adjusted = holmAdjust([0.01, 0.04, 0.03, 0.005]);
    [0.03, 0.06, 0.06, 0.02].forEach((v, i) => close(adjusted[i], v, 1e-14));
  });
});
