/**
 * Stratified sampling without replacement, deterministic for a given seed.
 *
 * Allocation: every non-empty stratum gets one case first (strata with more cases first when the sample is
 * smaller than the number of strata); the rest is handed out one case at a time to the stratum with the largest
 * available / (allocated + 1) — D'Hondt's highest-averages rule — so allocation stays close to proportional while
 * small strata are never left out. Within a stratum the cases with the smallest sha256(seed, key) are taken, which
 * is a uniform random choice that any auditor can redo.
 */
import { createHash } from 'node:crypto';
import { StatsInputError } from './errors';

export interface Stratum<T> {
  /** Stable name of the stratum (e.g. "site-a|candidate-only"): ties are broken by it. */
  name: string;
  items: readonly T[];
}

export interface StratumAllocation {
  name: string;
  available: number;
  sampled: number;
}

/** How many cases each stratum contributes to a sample of `size` (capped by what is available). */
export function allocateStrata(
  available: ReadonlyArray<{ name: string; available: number }>,
  size: number,
): StratumAllocation[] {
  if (!Number.isInteger(size) || size < 0)
    throw new StatsInputError(`sample size must be a non-negative integer, got ${size}`, 'size');
  const names = new Set<string>();
  for (const s of available) {
    if (names.has(s.name)) throw new StatsInputError(`stratum "${s.name}" appears twice`, 'strata');
    names.add(s.name);
    if (!Number.isInteger(s.available) || s.available < 0)
      throw new StatsInputError(`stratum "${s.name}": available must be a non-negative integer`, 'strata');
  }
  const out = available.map((s) => ({ name: s.name, available: s.available, sampled: 0 }));
  const total = out.reduce((t, s) => t + s.available, 0);
  let left = Math.min(size, total);
  const byName = (a: StratumAllocation, b: StratumAllocation) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  // One each, the largest strata first.
  for (const s of [...out].filter((s) => s.available > 0).sort((a, b) => b.available - a.available || byName(a, b))) {
    if (left === 0) break;
    s.sampled = 1;
    left--;
  }
  while (left > 0) {
    let best: StratumAllocation | null = null;
    for (const s of out) {
      if (s.sampled >= s.available) continue;
      if (best === null) {
        best = s;
        continue;
      }
      // s.available / (s.sampled + 1) > best.available / (best.sampled + 1), in integers
      const lhs = s.available * (best.sampled + 1);
      const rhs = best.available * (s.sampled + 1);
      if (lhs > rhs || (lhs === rhs && byName(s, best) < 0)) best = s;
    }
    best!.sampled++;
    left--;
  }
  return out;
}

/** The sample: per stratum (in the given order) the allocated number of items, each stratum's in rank order. */
export function stratifiedSample<T>(
  strata: ReadonlyArray<Stratum<T>>,
  size: number,
  seed: string,
  keyOf: (item: T) => string,
): { allocation: StratumAllocation[]; sample: Array<{ stratum: string; item: T }> } {
  const allocation = allocateStrata(
    strata.map((s) => ({ name: s.name, available: s.items.length })),
    size,
  );
  const sample: Array<{ stratum: string; item: T }> = [];
  strata.forEach((s, i) => {
    const take = allocation[i]!.sampled;
    if (take === 0) return;
    const ranked = s.items
      .map((item) => ({ item, rank: createHash('sha256').update(seed).update('\0').update(keyOf(item)).digest('hex') }))
      .sort((a, b) => (a.rank < b.rank ? -1 : a.rank > b.rank ? 1 : 0));
    for (const r of ranked.slice(0, take)) sample.push({ stratum: s.name, item: r.item });
  });
  return { allocation, sample };
}
