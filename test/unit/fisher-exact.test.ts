/** Fisher's exact test: published values (R's fisher.test) and an independent exact enumeration in BigInt. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fisherExact2x2 } from '../../src/stats/fisher-exact';
import { discreteDriftOfCounts } from '../../src/stats/feature-drift';

/** Two-sided p by exact rational arithmetic: Σ C(r1,x)C(r2,c1−x) over tables no more probable, / C(n,c1). */
function exactP(a: number, b: number, c: number, d: number): number {
  const choose = (n: number, k: number): bigint => {
    let r = 1n;
    for (let i = 1; i <= k; i++) r = (r * BigInt(n - k + i)) / BigInt(i);
    return r;
  };
  const [r1, r2, c1] = [a + b, c + d, a + c];
  const w = (x: number) => choose(r1, x) * choose(r2, c1 - x);
  const obs = w(a);
  let num = 0n;
  for (let x = Math.max(0, c1 - r2); x <= Math.min(r1, c1); x++) if (w(x) <= obs) num += w(x);
  const den = choose(r1 + r2, c1);
  // 15 significant digits of num/den
  const scale = 10n ** 18n;
  return Number((num * scale) / den) / 1e18;
}

describe('fisherExact2x2', () => {
  it("matches R's fisher.test on published tables", () => {
    // Fisher's tea tasting: fisher.test(matrix(c(3, 1, 1, 3), 2))$p.value = 0.4857143 (= 34/70)
    assert.ok(Math.abs(fisherExact2x2(3, 1, 1, 3) - 34 / 70) < 1e-12);
    // Wikipedia's dieting example [[1, 9], [11, 3]]: p = 0.002759
    assert.ok(Math.abs(fisherExact2x2(1, 9, 11, 3) - 0.002759) < 5e-7);
  });

  it('equals an exact BigInt enumeration on a drift-sized table (reference 2,000 rows, window 87)', () => {
    for (const [a, b, c, d] of [
      [1408, 592, 52, 35],
      [1408, 592, 61, 26],
      [1400, 600, 70, 17],
    ] as const) {
      const p = fisherExact2x2(a, b, c, d);
      const q = exactP(a, b, c, d);
      assert.ok(Math.abs(p - q) <= 1e-9 * Math.max(q, 1e-300) + 1e-15, `${p} vs ${q}`);
    }
  });

  it('a 0/1 drift is judged by the exact test; three or more cells stay on χ²', () => {
    const ref = new Map([
      [0, 1408],
      [1, 592],
    ]);
    const d = discreteDriftOfCounts(
      'binary',
      ref,
      new Map([
        [0, 52],
        [1, 35],
      ]),
    );
    assert.equal(d.test, 'fisher-exact');
    assert.equal(d.pValue, fisherExact2x2(1408, 592, 52, 35));
    assert.equal(d.psiTest?.pValue, d.pValue);
    const three = discreteDriftOfCounts(
      'categorical',
      new Map([
        [0, 1000],
        [1, 600],
        [2, 400],
      ]),
      new Map([
        [0, 50],
        [1, 25],
        [2, 25],
      ]),
    );
    assert.equal(three.test, 'chi-square');
  });
});
