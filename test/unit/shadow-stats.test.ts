/**
 * Shadow comparison statistics against published or independently computed values:
 *   κ      the two-reader grant example (50 proposals: 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no → p_o 0.70,
 *          p_e 0.50, κ 0.40), as worked in Wikipedia's "Cohen's kappa" article and statistics textbooks.
 *   ρ, r   scipy.stats.spearmanr / pearsonr docstring examples, and a brute-force mid-rank Pearson as an
 *          independent implementation (property).
 *   quantiles  numpy.percentile (linear, the default) on 1..10.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { agreementAtThreshold, scoreCorrelation, shadowAgreement } from '../../src/stats/agreement';
import { latencySummary, midRanks, quantile, spearmanCorrelation } from '../../src/stats/ranks-and-quantiles';

const close = (a: number, b: number, tol = 1e-12) => assert.ok(Math.abs(a - b) <= tol, `${a} ≠ ${b}`);

describe("Cohen's κ at the operating threshold", () => {
  it('the grant-proposal worked example: p_o 0.70, p_e 0.50, κ 0.40', () => {
    const k = shadowAgreement({ both: 20, candidateOnly: 5, productionOnly: 10, neither: 15 });
    close(k.agreement, 0.7);
    close(k.expectedAgreement!, 0.5);
    close(k.kappa!, 0.4);
  });

  it('counts the 2×2 table from scores (alert = score ≥ threshold), candidate as rows', () => {
    // Rebuild the worked example from scores: 20 both alert, 5 candidate only, 10 production only, 15 neither.
    const c = [...Array(20).fill(0.9), ...Array(5).fill(0.9), ...Array(10).fill(0.1), ...Array(15).fill(0.1)];
    const p = [...Array(20).fill(0.8), ...Array(5).fill(0.2), ...Array(10).fill(0.8), ...Array(15).fill(0.2)];
    const counts = agreementAtThreshold(c, p, 0.5);
    assert.deepEqual(counts, { both: 20, candidateOnly: 5, productionOnly: 10, neither: 15 });
    close(shadowAgreement(counts).kappa!, 0.4);
    // A score exactly at the threshold alerts.
    assert.deepEqual(agreementAtThreshold([0.5], [0.49], 0.5), {
      both: 0,
      candidateOnly: 1,
      productionOnly: 0,
      neither: 0,
    });
  });

  it('is undefined (null), not NaN, when both models make one call on every case', () => {
    assert.equal(shadowAgreement({ both: 0, candidateOnly: 0, productionOnly: 0, neither: 7 }).kappa, null);
  });
});

describe('score correlation', () => {
  it('scipy docstring examples: spearmanr([1..5], [5,6,7,8,7]) and pearsonr([1..5], [10,9,2.5,6,4])', () => {
    close(spearmanCorrelation([1, 2, 3, 4, 5], [5, 6, 7, 8, 7])!, 0.8207826816681233);
    close(scoreCorrelation([1, 2, 3, 4, 5], [10, 9, 2.5, 6, 4])!, -0.7426106572325056);
  });

  it('mid-ranks share the mean rank of a tie', () => {
    assert.deepEqual(Array.from(midRanks([10, 20, 20, 5, 20])), [2, 4, 4, 1, 4]);
  });

  it('Spearman equals Pearson of brute-force mid-ranks, and is invariant to monotone transforms (property)', () => {
    const naiveRank = (xs: number[]) =>
      xs.map((x) => xs.filter((y) => y < x).length + (xs.filter((y) => y === x).length + 1) / 2);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: -20, max: 20 }), fc.integer({ min: -20, max: 20 })), {
          minLength: 3,
          maxLength: 40,
        }),
        (pairs) => {
          const a = pairs.map((p) => p[0]);
          const b = pairs.map((p) => p[1]);
          const rho = spearmanCorrelation(a, b);
          const expected = scoreCorrelation(naiveRank(a), naiveRank(b));
          if (expected === null) return rho === null;
          if (rho === null || Math.abs(rho - expected) > 1e-12) return false;
          const squashed = spearmanCorrelation(
            a.map((x) => 1 / (1 + Math.exp(-x / 5))),
            b,
          );
          return squashed !== null && Math.abs(squashed - rho) < 1e-12;
        },
      ),
    );
  });

  it('refuses non-finite scores and too-short samples', () => {
    assert.throws(() => spearmanCorrelation([1, NaN, 3], [1, 2, 3]), /non-finite/);
    assert.throws(() => spearmanCorrelation([1], [1]), /≥ 2/);
  });
});

describe('latency percentiles', () => {
  it('numpy.percentile (linear) on 1..10: p50 5.5, p95 9.55, p99 9.91', () => {
    const xs = [7, 3, 10, 1, 5, 2, 9, 4, 8, 6];
    close(quantile(xs, 0.5), 5.5);
    close(quantile(xs, 0.95), 9.55);
    close(quantile(xs, 0.99), 9.91);
    assert.deepEqual(latencySummary(xs, 1), {
      calls: 10,
      batchSize: 1,
      p50: 5.5,
      p95: quantile(xs, 0.95),
      p99: quantile(xs, 0.99),
      max: 10,
    });
    assert.deepEqual(latencySummary([], 1), { calls: 0, batchSize: 1, p50: 0, p95: 0, p99: 0, max: 0 });
  });
});
