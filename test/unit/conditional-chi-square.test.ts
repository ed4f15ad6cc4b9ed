/** The conditional χ² p-value of discrete drift: against an exact enumeration of every split, screen and seeding. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chiSquareHomogeneity } from '../../src/stats/chi-square';
import { conditionalChiSquarePValue, SCREEN } from '../../src/stats/conditional-chi-square';

/** Exact conditional p: every window composition, weighted by its multivariate hypergeometric probability. */
function exactConditional(reference: number[], current: number[]): number {
  const pooled = reference.map((r, j) => r + current[j]!);
  const n = current.reduce((a, b) => a + b, 0);
  const N = reference.reduce((a, b) => a + b, 0);
  const choose = (a: number, b: number) => {
    let r = 1;
    for (let i = 1; i <= b; i++) r = (r * (a - b + i)) / i;
    return r;
  };
  const x2 = (c: number[]) =>
    chiSquareHomogeneity(
      pooled.map((p, j) => p - c[j]!),
      c,
    ).statistic;
  const observed = x2(current) * (1 - 1e-12);
  let p = 0;
  for (let a = 0; a <= Math.min(pooled[0]!, n); a++)
    for (let b = 0; b <= Math.min(pooled[1]!, n - a); b++) {
      const c = n - a - b;
      if (c > pooled[2]!) continue;
      const prob = (choose(pooled[0]!, a) * choose(pooled[1]!, b) * choose(pooled[2]!, c)) / choose(N + n, n);
      if (x2([a, b, c]) >= observed) p += prob;
    }
  return p;
}

describe('conditionalChiSquarePValue', () => {
  it('agrees with the exact conditional p-value of every split, within its Monte Carlo error', () => {
    for (const [reference, current] of [
      [
        [40, 25, 15],
        [6, 10, 4],
      ],
      [
        [60, 30, 10],
        [9, 4, 7],
      ],
    ] as const) {
      const asymptotic = chiSquareHomogeneity(reference, current).pValue;
      assert.ok(asymptotic < SCREEN);
      const exact = exactConditional([...reference], [...current]);
      const mc = conditionalChiSquarePValue(reference, current, asymptotic);
      // Besag-Clifford with 20 exceedances: relative standard error about 1/√20 ≈ 22 %.
      assert.ok(Math.abs(mc - exact) < 0.75 * exact, `MC ${mc} vs exact ${exact} (asymptotic ${asymptotic})`);
    }
  });

  it('keeps the asymptotic p-value above the screen, and gives the same p for the same table', () => {
    assert.equal(conditionalChiSquarePValue([1000, 600, 400], [50, 30, 20], 0.9), 0.9);
    const a = conditionalChiSquarePValue([1000, 600, 400], [60, 15, 25], 0.0056);
    assert.equal(conditionalChiSquarePValue([1000, 600, 400], [60, 15, 25], 0.0056), a);
    assert.ok(a > 0 && a < 0.02, `${a}`);
  });

  it('a table far out in the tail gets the smallest p the simulation can show, 1/10,000', () => {
    assert.equal(conditionalChiSquarePValue([1000, 600, 400], [10, 10, 80], 1e-30), 1 / 10_000);
  });
});
