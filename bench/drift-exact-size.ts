/**
 * bench/drift-exact-size.ts — the exact false-alarm rate of the discrete drift test (count and categorical inputs),
 * computed rather than sampled: is the 0.95–1.04 % the Monte-Carlo windows of `bench:drift` showed at α = 1 % noise
 * around a level-α test, or a liberal test?
 *
 * Under no shift the reference and the window are exchangeable, so given the pooled counts per value (the
 * "margins") every window composition has its multivariate hypergeometric probability. For one set of margins this
 * enumerates every composition of the (merged) cells, runs the implementation (`discreteDriftOfCounts`, seeded by
 * the counts, so its p-value is a fixed function of the table) on each, and sums the probability of the tables it
 * calls drift: the exact conditional false-alarm rate of the code as it is. Averaged over margins drawn from the
 * no-shift world it is the unconditional rate, with an error from the margins alone (far smaller than from windows).
 * Beside it: the rate the Besag-Clifford rule has in expectation over its own simulation (reject iff fewer than 20
 * of the first 2,000 simulated statistics reach the observed one: Σ P(t)·P(Bin(2000, G(t)) ≤ 19)), and the exact
 * permutation test's (Σ P(t)·[G(t) < α]), where G(t) is the exact conditional tail of Pearson's statistic.
 * Independent of the code under test: log-factorials, enumeration, Pearson's statistic and tails are computed here.
 *
 *   node --import tsx bench/drift-exact-size.ts [--margins 40] [--seed 5] [--rows categorical:87,count:87,count:200]
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { discreteDriftOfCounts, mergeSparseCells, valueCounts } from '../src/stats/feature-drift';
import { drawWindow, reference } from './drift-scenarios';

const ALPHA = 0.01;
/** Tables less probable than this are skipped (their total mass is reported; they are all far in the tail). */
const NEGLIGIBLE = 1e-14;

const logFact: number[] = [0];
const lf = (n: number) => {
  for (let i = logFact.length; i <= n; i++) logFact.push(logFact[i - 1]! + Math.log(i));
  return logFact[n]!;
};
const logChoose = (n: number, k: number) => lf(n) - lf(k) - lf(n - k);

function pearson(ref: readonly number[], cur: readonly number[]): number {
  const N = ref.reduce((a, b) => a + b, 0);
  const n = cur.reduce((a, b) => a + b, 0);
  let x2 = 0;
  for (let j = 0; j < ref.length; j++) {
    const col = ref[j]! + cur[j]!;
    if (col === 0) continue;
    const er = (N * col) / (N + n);
    const ec = (n * col) / (N + n);
    x2 += (ref[j]! - er) ** 2 / er + (cur[j]! - ec) ** 2 / ec;
  }
  return x2;
}

/** Every composition of n over cells with caps, depth-first. */
function* compositions(caps: readonly number[], n: number, prefix: number[] = []): Generator<number[]> {
  const j = prefix.length;
  if (j === caps.length - 1) {
    if (n <= caps[j]!) yield [...prefix, n];
    return;
  }
  const restCap = caps.slice(j + 1).reduce((a, b) => a + b, 0);
  for (let c = Math.max(0, n - restCap); c <= Math.min(caps[j]!, n); c++)
    yield* compositions(caps, n - c, [...prefix, c]);
}

/** P(Bin(m, g) ≤ k). */
function binomCdf(k: number, m: number, g: number): number {
  if (g <= 0) return 1;
  if (g >= 1) return k >= m ? 1 : 0;
  let s = 0;
  for (let i = 0; i <= k; i++) s += Math.exp(logChoose(m, i) + i * Math.log(g) + (m - i) * Math.log1p(-g));
  return Math.min(1, s);
}

export interface ConditionalSize {
  /** The implementation's exact false-alarm rate given these margins. */
  code: number;
  /** Besag-Clifford in expectation over its simulation. */
  besagClifford: number;
  /** The exact permutation test (p = G(t)). */
  exact: number;
  tables: number;
  /** Tables on which the implementation ran (the rest are settled by the rule, see below). */
  ran: number;
  skippedMass: number;
}

/** The exact conditional sizes for one reference and window (their pooled counts are the margins). */
export function conditionalSize(
  type: 'count' | 'categorical',
  refValues: readonly number[],
  winValues: readonly number[],
): ConditionalSize {
  const rc = valueCounts(refValues);
  const wc = valueCounts(winValues);
  const values = [...new Set([...rc.keys(), ...wc.keys()])].sort((a, b) => a - b);
  const ref = values.map((v) => rc.get(v) ?? 0);
  const win = values.map((v) => wc.get(v) ?? 0);
  const pooled = values.map((_, i) => ref[i]! + win[i]!);
  const n = winValues.length;
  const total = refValues.length + n;
  // The merge depends on the pooled counts only, so it is the same for every table with these margins.
  const { starts } = mergeSparseCells(ref, win);
  const groups = starts.map((s, g) => values.map((_, i) => i).slice(s, starts[g + 1] ?? values.length));
  const caps = groups.map((idx) => idx.reduce((a, i) => a + pooled[i]!, 0));
  const logAll = logChoose(total, n);
  const tables: { p: number; x2: number; c: number[] }[] = [];
  let skippedMass = 0;
  let mass = 0;
  for (const c of compositions(caps, n)) {
    const p = Math.exp(c.reduce((a, x, g) => a + logChoose(caps[g]!, x), 0) - logAll);
    mass += p;
    if (p < NEGLIGIBLE) {
      skippedMass += p;
      continue;
    }
    tables.push({
      p,
      x2: pearson(
        caps.map((k, g) => k - c[g]!),
        c,
      ),
      c,
    });
  }
  if (Math.abs(mass - 1) > 1e-9) throw new Error(`enumeration lost mass: ${mass}`);
  // Exact upper tail G(t) = P(X² ≥ X²(t)) over every table (skipped ones are the most extreme: they count in).
  const order = [...tables].sort((a, b) => b.x2 - a.x2);
  const tail = new Map<(typeof tables)[number], number>();
  let acc = skippedMass;
  for (let i = 0; i < order.length;) {
    let j = i;
    let block = 0;
    while (j < order.length && order[j]!.x2 >= order[i]!.x2 * (1 - 1e-12)) block += order[j++]!.p;
    acc += block;
    for (let k = i; k < j; k++) tail.set(order[k]!, acc);
    i = j;
  }
  const out: ConditionalSize = {
    code: skippedMass,
    besagClifford: skippedMass,
    exact: skippedMass,
    tables: tables.length,
    ran: 0,
    skippedMass,
  };
  for (const t of tables) {
    const g = tail.get(t)!;
    if (g < ALPHA) out.exact += t.p;
    out.besagClifford += t.p * binomCdf(19, 2000, g);
    // A raw window with these merged counts (any split within a group keeps the pooled counts, so the same merge).
    if (g >= 1e-4 && g <= 0.03) out.ran++;
    const w = new Map<number, number>();
    const r = new Map<number, number>();
    groups.forEach((idx, g) => {
      let left = t.c[g]!;
      for (const i of idx) {
        const take = Math.min(left, pooled[i]!);
        left -= take;
        if (take) w.set(values[i]!, take);
        if (pooled[i]! - take) r.set(values[i]!, pooled[i]! - take);
      }
    });
    // Outside [1e-4, 0.03] the code's verdict is settled to within 1e-7 (P(Bin(2000, 1e-4) ≥ 20) < 1e-25,
    // P(Bin(2000, 0.03) ≤ 19) < 1e-7): count it by the rule there, and run the code where it is in doubt.
    if (g < 1e-4 || g > 0.03) out.code += t.p * binomCdf(19, 2000, g);
    else if (discreteDriftOfCounts(type, r, w).pValue < ALPHA) out.code += t.p;
  }
  return out;
}

function main(): void {
  const { values } = parseArgs({
    options: {
      margins: { type: 'string', default: '40' },
      seed: { type: 'string', default: '5' },
      rows: { type: 'string', default: 'categorical:87,categorical:200,count:87' },
    },
  });
  const M = Number(values.margins);
  const seed = Number(values.seed);
  const load = () =>
    os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ');
  console.log(`exact conditional false-alarm rates at α ${ALPHA}, ${M} margins per row, seed ${seed}; load ${load()}`);
  console.log(
    '| feature | n | margins | tables/margin | code: mean (SE) | code: max | Besag-Clifford mean | exact test mean | s |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  const rows = values.rows.split(',').map((r) => {
    const [kind, n] = r.split(':');
    if ((kind !== 'count' && kind !== 'categorical') || !(Number(n) > 0)) throw new Error(`--rows: bad row "${r}"`);
    return [kind, Number(n)] as const;
  });
  for (const [kind, n] of rows) {
    const t0 = Date.now();
    const sizes: ConditionalSize[] = [];
    for (let m = 0; m < M; m++) {
      const ref = reference(kind, `${seed}/${m}`);
      const win = drawWindow(kind, n, false, `${seed}/${m}`);
      sizes.push(conditionalSize(kind, ref.values, win));
    }
    const mean = (f: (s: ConditionalSize) => number) => sizes.reduce((a, s) => a + f(s), 0) / M;
    const code = mean((s) => s.code);
    const se = Math.sqrt(sizes.reduce((a, s) => a + (s.code - code) ** 2, 0) / (M - 1) / M);
    const pc = (x: number) => `${(100 * x).toFixed(3)} %`;
    console.log(
      `| ${kind} | ${n} | ${M} | ${Math.round(mean((s) => s.tables))} | ${pc(code)} (${pc(se)}) | ${pc(Math.max(...sizes.map((s) => s.code)))} | ${pc(mean((s) => s.besagClifford))} | ${pc(mean((s) => s.exact))} | ${((Date.now() - t0) / 1000).toFixed(0)} |`,
    );
  }
  console.log(
    `bound for Besag-Clifford with h = 20 at the first 2,000 draws: 20/2001 = ${pc4(20 / 2001)}; load ${load()}`,
  );
}

const pc4 = (x: number) => `${(100 * x).toFixed(4)} %`;

if (process.argv[1]?.endsWith('drift-exact-size.ts')) main();
