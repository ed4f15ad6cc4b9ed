/**
 * Drift statistics against reference values. scipy 1.17.1 figures: the chisquare docstring examples
 * (scipy.stats.chisquare), chi2_contingency(correction=False), scipy.special.gammainc/gammaincc and
 * scipy.stats.kstwobign.sf; KS statistics from scipy.stats.ks_2samp on the same data (its p-value with
 * method='asymp' uses kstwo at round(nm/(n+m)), so the limit p-value is compared with kstwobign.sf(√(nm/(n+m))·D),
 * which is what R's ks.test(exact = FALSE) reports). Tabled Kolmogorov critical values from Smirnov (1948).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { agreementAtThreshold, scoreCorrelation, shadowAgreement } from '../../src/stats/agreement';
import {
  binCounts,
  categoricalDrift,
  chiSquareGoodnessOfFit,
  chiSquareHomogeneity,
  chiSquareSf,
  kolmogorovSf,
  ks2Sample,
  psi,
  psiFromCounts,
  quantileEdges,
  regularizedGammaP,
  regularizedGammaQ,
} from '../../src/stats/drift';
import { StatsInputError } from '../../src/stats';

function close(actual: number, expected: number, rel = 1e-10): void {
  assert.ok(
    Math.abs(actual - expected) <= rel * Math.max(Math.abs(expected), 1e-300),
    `${actual} ≠ ${expected} (rel ${rel})`,
  );
}

describe('incomplete gamma and chi-square (scipy.special / scipy.stats)', () => {
  it('regularized incomplete gamma P and Q', () => {
    const cases: [number, number, number, number][] = [
      [0.5, 0.1, 0.34527915398142317, 0.6547208460185768],
      [1.0, 1.0, 0.6321205588285577, 0.36787944117144245],
      [2.5, 1.75, 0.3766123722504178, 0.6233876277495822],
      [3.0, 20.0, 0.9999995444850495, 4.5551495055892125e-7],
      [10.0, 5.0, 0.03182805730620481, 0.9681719426937951],
      [50.0, 60.0, 0.9155933189063082, 0.08440668109369177],
      [100.0, 80.0, 0.0171083130351331, 0.9828916869648668],
      [0.1, 5.0, 0.9998560610341533, 0.00014393896584673387],
    ];
    for (const [a, x, p, q] of cases) {
      close(regularizedGammaP(a, x), p, 1e-12);
      close(regularizedGammaQ(a, x), q, 1e-11);
    }
  });

  it('chi-square survival function', () => {
    close(chiSquareSf(50, 3), 7.989179244951495e-11, 1e-10);
    close(chiSquareSf(3.84, 1), 0.05004352124870519, 1e-12);
    close(chiSquareSf(200, 150), 0.003973185970821635, 1e-10);
  });

  it('scipy.stats.chisquare docstring examples', () => {
    let r = chiSquareGoodnessOfFit([16, 18, 16, 14, 12, 12]);
    close(r.statistic, 2.0, 1e-15);
    close(r.pValue, 0.84914503608460956, 1e-12);
    r = chiSquareGoodnessOfFit([16, 18, 16, 14, 12, 12], [16, 16, 16, 16, 16, 8]);
    close(r.statistic, 3.5, 1e-15);
    close(r.pValue, 0.62338762774958223, 1e-12);
    r = chiSquareGoodnessOfFit([16, 18, 16, 14, 12, 12], undefined, 1);
    assert.equal(r.df, 4);
    close(r.pValue, 0.7357588823428847, 1e-12);
  });

  it('chi2_contingency(correction=False)', () => {
    let r = chiSquareHomogeneity([10, 10, 20], [20, 20, 20]);
    close(r.statistic, 2.7777777777777777, 1e-13);
    close(r.pValue, 0.24935220877729622, 1e-12);
    assert.equal(r.df, 2);
    r = chiSquareHomogeneity([120, 90, 40, 5, 0], [100, 95, 70, 15, 0]);
    close(r.statistic, 13.997475679460976, 1e-12);
    close(r.pValue, 0.0029085908206607737, 1e-10);
    assert.equal(r.df, 3);
  });

  it('P + Q = 1 and P is increasing in x (property)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.05, max: 500, noNaN: true }),
        fc.double({ min: 0, max: 1000, noNaN: true }),
        fc.double({ min: 0.001, max: 10, noNaN: true }),
        (a, x, dx) => {
          const p = regularizedGammaP(a, x);
          assert.ok(Math.abs(p + regularizedGammaQ(a, x) - 1) < 1e-12);
          assert.ok(regularizedGammaP(a, x + dx) >= p - 1e-14);
        },
      ),
    );
  });
});

describe('Kolmogorov-Smirnov', () => {
  it('Kolmogorov survival function (scipy.stats.kstwobign.sf; Smirnov 1948 critical values)', () => {
    const cases: [number, number][] = [
      [0.3, 0.9999906941986655],
      [0.5, 0.9639452436648751],
      [0.8, 0.5441424115741981],
      [1.0, 0.26999967167735456],
      [1.2238, 0.10002342783567782],
      [1.3581, 0.0499996304316674],
      [1.6276, 0.010001537333060776],
      [2.0, 0.0006709252557796953],
      [3.0, 3.045995948942526e-8],
    ];
    for (const [x, q] of cases) close(kolmogorovSf(x), q, 1e-9);
    // both series agree where they meet
    close(kolmogorovSf(1 - 1e-12), kolmogorovSf(1), 1e-9);
  });

  it('two-sample statistic and limit p-value (scipy.stats.ks_2samp)', () => {
    const a = [
      0.61, 0.29, 0.06, 0.59, -1.73, -0.74, 0.51, -0.56, 0.39, 1.64, 0.05, -0.06, 0.64, -0.82, 0.37, 1.77, 1.09, -1.28,
      2.36, 1.31, 1.05, -0.32, -0.4, 1.06, -2.47,
    ];
    const b = [
      2.2, 1.66, 1.38, 0.2, 0.36, 0.0, 0.96, 1.56, 0.44, 1.5, -0.3, 0.66, 2.31, 3.29, -0.27, 1.92, 1.46, 1.13, 2.05,
      1.12, 0.98, 1.95, 1.61, 1.07, 0.35, 1.63, 0.84, 1.74, 2.86, 0.41,
    ];
    const r = ks2Sample(a, b);
    close(r.statistic, 0.4533333333333333, 1e-14);
    close(r.pValue, 0.007359955782118889, 1e-9);
    // with ties
    const t = ks2Sample([1, 2, 2, 3, 3, 3, 4, 4, 5, 6], [2, 3, 3, 4, 4, 4, 5, 5, 6, 7, 7, 8]);
    close(t.statistic, 0.35, 1e-14);
    close(t.pValue, 0.5160715274389962, 1e-9);
  });

  it('D matches a brute-force sup over all points, is symmetric, and 0 for identical samples (property)', () => {
    const sample = fc.array(fc.integer({ min: -20, max: 20 }), { minLength: 1, maxLength: 40 });
    fc.assert(
      fc.property(sample, sample, (a, b) => {
        const ecdf = (xs: number[], x: number) => xs.filter((v) => v <= x).length / xs.length;
        const brute = Math.max(...[...a, ...b].map((x) => Math.abs(ecdf(a, x) - ecdf(b, x))));
        const r = ks2Sample(a, b);
        assert.ok(Math.abs(r.statistic - brute) < 1e-12);
        assert.ok(Math.abs(ks2Sample(b, a).statistic - r.statistic) < 1e-12);
        assert.equal(ks2Sample(a, a).statistic, 0);
        assert.ok(r.pValue >= 0 && r.pValue <= 1);
      }),
    );
  });
});

describe('PSI', () => {
  it('a hand-computed value: shares (½, ½) → (¼, ¾) give ¼ ln 3', () => {
    close(psiFromCounts([50, 50], [25, 75]).psi, 0.25 * Math.log(3), 1e-14);
  });

  it('equals the Jeffreys divergence KL(a‖e) + KL(e‖a) of the binned shares', () => {
    const ref = [120, 340, 280, 160, 100];
    const cur = [90, 300, 310, 200, 100];
    const e = ref.map((x) => x / 1000);
    const a = cur.map((x) => x / 1000);
    const kl = (p: number[], q: number[]) => p.reduce((s, pi, i) => s + pi * Math.log(pi / q[i]!), 0);
    close(psiFromCounts(ref, cur).psi, kl(a, e) + kl(e, a), 1e-12);
  });

  it('quantile bins from the reference hold ~1/B of it; the current sample is binned on the same edges', () => {
    const ref = Array.from({ length: 1000 }, (_, i) => i / 10);
    const edges = quantileEdges(ref, 10);
    assert.deepEqual(edges, [10, 20, 30, 40, 50, 60, 70, 80, 90]);
    assert.deepEqual(binCounts(ref, edges), new Array(10).fill(100));
    const shifted = ref.map((x) => x + 10);
    const r = psi(ref, shifted, { edges });
    assert.equal(r.bins[0]!.current, 0);
    assert.equal(r.bins[9]!.current, 200);
    // empty bin: share floored at ε = 1e-4
    const expected = (1e-4 - 0.1) * Math.log(1e-4 / 0.1) + (0.2 - 0.1) * Math.log(2);
    close(r.psi, expected, 1e-12);
    assert.equal(psi(ref, ref).psi, 0);
  });

  it('is non-negative, symmetric and zero on identical shares; heavy ties give fewer bins (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat(1000), { minLength: 2, maxLength: 12 }),
        fc.array(fc.nat(1000), { minLength: 2, maxLength: 12 }),
        (x, y) => {
          const k = Math.min(x.length, y.length);
          const r = x.slice(0, k);
          const c = y.slice(0, k);
          fc.pre(r.some((v) => v > 0) && c.some((v) => v > 0));
          const v = psiFromCounts(r, c).psi;
          assert.ok(v >= 0);
          assert.ok(Math.abs(v - psiFromCounts(c, r).psi) < 1e-9 * Math.max(1, v));
          assert.ok(Math.abs(psiFromCounts(r, r).psi) < 1e-15);
        },
      ),
    );
    assert.deepEqual(quantileEdges([1, 1, 1, 1, 1, 1, 1, 1, 2, 3], 10), [2, 3]);
    assert.throws(() => psi([1, Number.NaN], [1]), StatsInputError);
  });

  it('categorical drift: chi-square of homogeneity and PSI over the union of categories', () => {
    const ref = [...Array(60).fill('a'), ...Array(30).fill('b'), ...Array(10).fill('c')];
    const cur = [...Array(40).fill('a'), ...Array(30).fill('b'), ...Array(20).fill('c'), ...Array(10).fill('d')];
    const d = categoricalDrift(ref, cur);
    assert.deepEqual(d.categories, ['a', 'b', 'c', 'd']);
    assert.deepEqual(d.reference, [60, 30, 10, 0]);
    const direct = chiSquareHomogeneity([60, 30, 10, 0], [40, 30, 20, 10]);
    assert.equal(d.chiSquare.statistic, direct.statistic);
    assert.equal(d.chiSquare.df, 3);
    assert.ok(d.psi > 0.25);
  });
});

describe('shadow agreement', () => {
  it('Cohen κ at the operating threshold (reuses src/provenance/kappa.ts)', () => {
    // 2×2 with p_o = 0.85, p_e = 0.3·0.35 + 0.7·0.65 = 0.56 → κ = 0.29/0.44
    const s = shadowAgreement({ both: 25, candidateOnly: 5, productionOnly: 10, neither: 60 });
    close(s.agreement, 0.85, 1e-15);
    close(s.kappa!, 0.29 / 0.44, 1e-12);
    const counts = agreementAtThreshold([0.9, 0.2, 0.6, 0.1], [0.8, 0.7, 0.2, 0.05], 0.5);
    assert.deepEqual(counts, { both: 1, candidateOnly: 1, productionOnly: 1, neither: 1 });
    const constant = shadowAgreement({ both: 0, candidateOnly: 0, productionOnly: 0, neither: 10 });
    assert.equal(constant.kappa, null);
    assert.equal(constant.agreement, 1);
  });

  it('score correlation', () => {
    close(scoreCorrelation([1, 2, 3, 4], [2, 4, 6, 8])!, 1, 1e-15);
    close(scoreCorrelation([1, 2, 3, 4], [4, 3, 2, 1])!, -1, 1e-15);
    assert.equal(scoreCorrelation([1, 1, 1], [1, 2, 3]), null);
  });
});
