/** The stratified disagreement sampler: allocation by hand (D'Hondt), invariants (property) and reproducibility. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { allocateStrata, stratifiedSample } from '../../src/stats/stratified-sample';

const alloc = (available: number[], size: number) =>
  allocateStrata(
    available.map((n, i) => ({ name: String.fromCharCode(97 + i), available: n })),
    size,
  ).map((s) => s.sampled);

describe('stratum allocation', () => {
  it("one per stratum, then D'Hondt: 50/30/20 available, 10 sampled → 5/3/2", () => {
    assert.deepEqual(alloc([50, 30, 20], 10), [5, 3, 2]);
  });
  it('a small stratum is never left out, and is taken whole when it is all there is', () => {
    assert.deepEqual(alloc([100, 1, 0, 2], 6), [4, 1, 0, 1]);
    assert.deepEqual(alloc([3, 1], 50), [3, 1]);
  });
  it('fewer slots than strata: the largest strata first, ties by name', () => {
    assert.deepEqual(alloc([5, 1, 3], 2), [1, 0, 1]);
    assert.deepEqual(alloc([2, 2, 2], 2), [1, 1, 0]);
  });
  it('sums to min(size, total), never exceeds a stratum, covers every stratum when it can (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 60 }), { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 0, max: 120 }),
        (available, size) => {
          const got = alloc(available, size);
          const total = available.reduce((a, b) => a + b, 0);
          const nonEmpty = available.filter((n) => n > 0).length;
          return (
            got.reduce((a, b) => a + b, 0) === Math.min(size, total) &&
            got.every((g, i) => g >= 0 && g <= available[i]!) &&
            (size < nonEmpty || available.every((n, i) => n === 0 || got[i]! >= 1))
          );
        },
      ),
    );
  });
});

describe('stratified sample', () => {
  const strata = [
    { name: 'site-a|candidate-only', items: Array.from({ length: 40 }, (_, i) => `a${i}`) },
    { name: 'site-a|production-only', items: Array.from({ length: 10 }, (_, i) => `b${i}`) },
    { name: 'site-b|candidate-only', items: [] as string[] },
    { name: 'site-b|production-only', items: ['c0', 'c1'] },
  ];
  it('takes the allocated number from each stratum, without repeats, reproducibly for a seed', () => {
    const one = stratifiedSample(strata, 12, 'release-1', (x) => x);
    const again = stratifiedSample(strata, 12, 'release-1', (x) => x);
    assert.deepEqual(one, again);
    // 40:10:0:2 → one each, then D'Hondt: 9 / 2 / 0 / 1 (proportional 9.2 / 2.3 / 0 / 0.5, the small stratum kept)
    assert.deepEqual(
      one.allocation.map((a) => a.sampled),
      [9, 2, 0, 1],
    );
    assert.equal(new Set(one.sample.map((s) => s.item)).size, 12);
    for (const s of one.sample) assert.ok(strata.find((x) => x.name === s.stratum)!.items.includes(s.item));
    const other = stratifiedSample(strata, 12, 'release-2', (x) => x);
    assert.notDeepEqual(
      other.sample.map((s) => s.item),
      one.sample.map((s) => s.item),
      'another seed draws other cases',
    );
  });
  it('does not depend on the order of items within a stratum', () => {
    const shuffled = strata.map((s) => ({ ...s, items: [...s.items].reverse() }));
    const key = (r: ReturnType<typeof stratifiedSample<string>>) => r.sample.map((s) => s.item).sort();
    assert.deepEqual(
      key(stratifiedSample(shuffled, 9, 'seed', (x) => x)),
      key(stratifiedSample(strata, 9, 'seed', (x) => x)),
    );
  });
});
