import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LogBucketIndex, MIN_FAST_ALPHA } from '../../src/stats/log-bucket-index';
import { LogSketchBuilder, MAX_INDEXABLE, MIN_INDEXABLE } from '../../src/stats/log-sketch';

const logGammaOf = (alpha: number) => Math.log((1 + alpha) / (1 - alpha));
const formula = (a: number, lg: number) => Math.ceil(Math.log(a) / lg);

/** The double `n` ulps away from positive x (the bit pattern as an integer, independent of the module's stepping). */
function ulps(x: number, n: number): number {
  const bits = new BigInt64Array(new Float64Array([x]).buffer);
  bits[0] = bits[0]! + BigInt(n);
  return new Float64Array(bits.buffer)[0]!;
}

/** A fixed-seed generator (mulberry32): the same values every run. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('log-sketch bucket index from tables', () => {
  for (const alpha of [0.004, 0.01, 0.02, 0.05, 0.1]) {
    it(`equals ⌈ln a / ln γ⌉ within 40 ulps of every bucket boundary γ^k in [2^-31, 2^31] (α ${alpha})`, () => {
      const lg = logGammaOf(alpha);
      const index = new LogBucketIndex(lg, alpha);
      let checked = 0;
      for (let k = Math.floor((-31 * Math.LN2) / lg); k <= Math.ceil((31 * Math.LN2) / lg); k++) {
        const edge = Math.exp(k * lg);
        for (let d = -40; d <= 40; d++) {
          const a = ulps(edge, d);
          if (index.of(a) !== formula(a, lg)) assert.fail(`α ${alpha}, γ^${k} ${d >= 0 ? '+' : ''}${d} ulps: ${a}`);
          checked++;
        }
      }
      assert.ok(checked > (80 * 2 * 31 * Math.LN2) / lg);
    });
  }

  it('equals the formula on a million log-uniform values in [1e-12, 1e12] and at the ends of its tables', () => {
    const alpha = 0.01;
    const lg = logGammaOf(alpha);
    const index = new LogBucketIndex(lg, alpha);
    const next = rng(7);
    for (let i = 0; i < 1_000_000; i++) {
      const a = Math.exp((next() * 2 - 1) * 12 * Math.LN10);
      if (index.of(a) !== formula(a, lg)) assert.fail(`${a}`);
    }
    const ends = [2 ** -30, 2 ** 30, MIN_INDEXABLE, MAX_INDEXABLE, 1, Number.MIN_VALUE, Number.MAX_VALUE];
    for (const a of ends.flatMap((x) => [ulps(x, -1), x, ulps(x, 1)]).filter((x) => x > 0 && Number.isFinite(x)))
      assert.equal(index.of(a) + 0, formula(a, lg) + 0, `${a}`); // + 0: index −0 (just below 1) is index 0
  });

  it('below MIN_FAST_ALPHA (buckets narrower than a table cell) uses the formula itself', () => {
    const alpha = MIN_FAST_ALPHA / 2;
    const lg = logGammaOf(alpha);
    const index = new LogBucketIndex(lg, alpha);
    const next = rng(11);
    for (let i = 0; i < 10_000; i++) {
      const a = Math.exp((next() * 2 - 1) * 20);
      assert.equal(index.of(a) + 0, formula(a, lg) + 0);
    }
  });

  it('gives LogSketchBuilder the buckets the formula gives (negative, zero, tiny and huge values included)', () => {
    const alpha = 0.01;
    const lg = logGammaOf(alpha);
    const next = rng(3);
    const values = Array.from({ length: 50_000 }, (_, i) =>
      i % 1000 === 0 ? 0 : i % 997 === 0 ? 1e12 : i % 991 === 0 ? -3e-10 : (next() - 0.4) * 10 ** (next() * 8 - 4),
    );
    const builder = new LogSketchBuilder(alpha);
    for (const v of values) builder.add(v);
    const sketch = builder.toSketch();
    // The reference: every value's bucket by the formula, clamped as the builder clamps.
    const pos: Record<string, number> = {};
    const neg: Record<string, number> = {};
    const lo = formula(MIN_INDEXABLE, lg);
    const hi = formula(MAX_INDEXABLE, lg);
    let zero = 0;
    for (const v of values) {
      const a = Math.abs(v);
      if (a < MIN_INDEXABLE) {
        zero++;
        continue;
      }
      const k = String(Math.min(hi, Math.max(lo, formula(a, lg))));
      const store = v > 0 ? pos : neg;
      store[k] = (store[k] ?? 0) + 1;
    }
    assert.deepEqual(sketch.positive, pos);
    assert.deepEqual(sketch.negative, neg);
    assert.equal(sketch.zero, zero);
  });
});
