import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  argsortAscending,
  aucInterval,
  averagePrecision,
  clopperPearsonInterval,
  delongAuc,
  holmAdjust,
  pairedDelong,
  rocAuc,
  StatsInputError,
  thresholdForSensitivity,
  wilsonInterval,
} from '../../src/stats';

/** Scores drawn from a few values so that ties are common, with both classes present. */
const labelled = fc
  .array(fc.record({ s: fc.integer({ min: 0, max: 12 }).map((k) => k / 4), y: fc.integer({ min: 0, max: 1 }) }), {
    minLength: 4,
    maxLength: 60,
  })
  .filter((rows) => rows.filter((r) => r.y === 1).length >= 2 && rows.filter((r) => r.y === 0).length >= 2);

const paired = labelled.chain((rows) =>
  fc
    .array(fc.integer({ min: 0, max: 9 }), { minLength: rows.length, maxLength: rows.length })
    .map((other) => ({ rows, other: other.map((k) => k / 3) })),
);

const psi = (x: number, y: number) => (x > y ? 1 : x === y ? 0.5 : 0);

/** DeLong 1988 directly: structural components V10, V01 by explicit O(n²) loops, sample (co)variances. */
function bruteDelong(a: number[], b: number[], y: number[]) {
  const pos = y.flatMap((v, i) => (v === 1 ? [i] : []));
  const neg = y.flatMap((v, i) => (v === 0 ? [i] : []));
  const comps = (s: number[]) => ({
    v10: pos.map((i) => neg.reduce((acc, j) => acc + psi(s[i]!, s[j]!), 0) / neg.length),
    v01: neg.map((j) => pos.reduce((acc, i) => acc + psi(s[i]!, s[j]!), 0) / pos.length),
  });
  const ca = comps(a);
  const cb = comps(b);
  const mean = (v: number[]) => v.reduce((x, z) => x + z, 0) / v.length;
  const cov = (u: number[], v: number[]) => {
    const mu = mean(u);
    const mv = mean(v);
    return u.reduce((acc, x, k) => acc + (x - mu) * (v[k]! - mv), 0) / (u.length - 1);
  };
  const varA = cov(ca.v10, ca.v10) / pos.length + cov(ca.v01, ca.v01) / neg.length;
  const varB = cov(cb.v10, cb.v10) / pos.length + cov(cb.v01, cb.v01) / neg.length;
  const covAB = cov(ca.v10, cb.v10) / pos.length + cov(ca.v01, cb.v01) / neg.length;
  return { aucA: mean(ca.v10), aucB: mean(cb.v10), varA, varB, varDiff: varA + varB - 2 * covAB };
}

const near = (a: number, b: number, tol = 1e-12) => Math.abs(a - b) <= tol;

describe('AUC and DeLong properties', () => {
  it('agree with the O(n²) structural-component DeLong (AUC, variances, variance of the difference)', () => {
    fc.assert(
      fc.property(paired, ({ rows, other }) => {
        const s = rows.map((r) => r.s);
        const y = rows.map((r) => r.y);
        const brute = bruteDelong(s, other, y);
        const t = pairedDelong(s, other, y)!;
        return (
          near(t.aucA, brute.aucA) &&
          near(t.aucB, brute.aucB) &&
          near(t.varianceA, brute.varA) &&
          near(t.varianceB, brute.varB) &&
          near(t.variance, Math.max(0, brute.varDiff))
        );
      }),
      { numRuns: 300 },
    );
  });

  it('AUC is invariant under strictly increasing transforms of the scores', () => {
    fc.assert(
      fc.property(labelled, (rows) => {
        const y = rows.map((r) => r.y);
        const a = delongAuc(
          rows.map((r) => r.s),
          y,
        );
        const b = delongAuc(
          rows.map((r) => Math.exp(3 * r.s) - 7),
          y,
        );
        return near(a.auc!, b.auc!) && near(a.variance!, b.variance!);
      }),
    );
  });

  it('AUC(1 − s) = 1 − AUC(s), with the same variance', () => {
    fc.assert(
      fc.property(labelled, (rows) => {
        const y = rows.map((r) => r.y);
        const a = delongAuc(
          rows.map((r) => r.s),
          y,
        );
        const b = delongAuc(
          rows.map((r) => 1 - r.s),
          y,
        );
        return near(b.auc!, 1 - a.auc!) && near(a.variance!, b.variance!);
      }),
    );
  });

  it('agrees with the existing rocAuc', () => {
    fc.assert(
      fc.property(labelled, (rows) =>
        near(
          delongAuc(
            rows.map((r) => r.s),
            rows.map((r) => r.y),
          ).auc!,
          rocAuc(
            rows.map((r) => r.s),
            rows.map((r) => r.y),
          )!,
        ),
      ),
    );
  });

  it('the DeLong interval contains the estimate and stays in [0, 1]', () => {
    fc.assert(
      fc.property(labelled, fc.double({ min: 0.5, max: 0.999, noNaN: true }), (rows, level) => {
        const e = delongAuc(
          rows.map((r) => r.s),
          rows.map((r) => r.y),
        );
        const ci = aucInterval(e, level)!;
        return ci.lower <= e.auc! && e.auc! <= ci.upper && ci.lower >= 0 && ci.upper <= 1;
      }),
    );
  });

  it('the paired test of a model against itself gives difference 0, variance 0, p = 1', () => {
    fc.assert(
      fc.property(labelled, (rows) => {
        const s = rows.map((r) => r.s);
        const t = pairedDelong(
          s,
          s,
          rows.map((r) => r.y),
        )!;
        return t.difference === 0 && t.variance === 0 && t.z === 0 && t.pValue === 1;
      }),
    );
  });

  it('reports an undefined AUC for a single-class input instead of throwing', () => {
    assert.equal(delongAuc([0.1, 0.2, 0.3], [1, 1, 1]).auc, null);
    assert.equal(delongAuc([0.1, 0.2, 0.3], [1, 0, 0]).variance, null);
    assert.equal(pairedDelong([0.1, 0.2], [0.2, 0.1], [0, 0]), null);
  });
});

describe('proportion interval properties', () => {
  const counts = fc
    .integer({ min: 1, max: 2000 })
    .chain((n) => fc.tuple(fc.integer({ min: 0, max: n }), fc.constant(n)));
  it('Wilson and Clopper-Pearson contain x/n and lie in [0, 1]', () => {
    fc.assert(
      fc.property(counts, ([x, n]) => {
        const p = x / n;
        const w = wilsonInterval(x, n);
        const cp = clopperPearsonInterval(x, n);
        return (
          w.lower <= p &&
          p <= w.upper &&
          cp.lower <= p &&
          p <= cp.upper &&
          w.lower >= 0 &&
          w.upper <= 1 &&
          cp.lower >= 0 &&
          cp.upper <= 1
        );
      }),
      { numRuns: 200 },
    );
  });

  it('rejects impossible counts', () => {
    assert.throws(() => wilsonInterval(5, 4), RangeError);
    assert.throws(() => wilsonInterval(0, 0), RangeError);
  });
});

describe('average precision properties', () => {
  /** Definition: mean over positives of precision at the positive's score (all rows scored ≥ it). */
  function bruteAp(s: number[], y: number[]): number {
    const pos = s.filter((_, i) => y[i] === 1);
    return (
      pos.reduce(
        (acc, t) => acc + s.filter((v, i) => v >= t && y[i] === 1).length / s.filter((v) => v >= t).length,
        0,
      ) / pos.length
    );
  }
  it('equals the brute-force definition, ties as one threshold', () => {
    fc.assert(
      fc.property(labelled, (rows) => {
        const s = rows.map((r) => r.s);
        const y = rows.map((r) => r.y);
        return near(averagePrecision(s, y)!, bruteAp(s, y));
      }),
    );
  });
});

describe('argsort', () => {
  it('sorts any finite doubles like a comparator sort, stably', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom(0, -0, 1, -1, 5e-324)), {
          maxLength: 200,
        }),
        (values) => {
          const scores = Float64Array.from(values, (v) => (v === 0 ? 0 : v));
          const order = Array.from(argsortAscending(scores));
          const expected = [...scores.keys()].sort((a, b) => scores[a]! - scores[b]! || a - b);
          assert.deepEqual(order, expected);
        },
      ),
    );
  });
});

describe('operating point chosen on the tuning split', () => {
  it('is the highest-specificity threshold with sensitivity ≥ target (brute force over all candidate thresholds)', () => {
    fc.assert(
      fc.property(labelled, fc.double({ min: 0.05, max: 1, noNaN: true }), (rows, target) => {
        const s = rows.map((r) => r.s);
        const y = rows.map((r) => r.y);
        const chosen = thresholdForSensitivity(s, y, target);
        const P = y.filter((v) => v === 1).length;
        const N = y.length - P;
        let best = -1;
        for (const t of new Set(s)) {
          const sens = s.filter((v, i) => v >= t && y[i] === 1).length / P;
          const spec = s.filter((v, i) => v < t && y[i] === 0).length / N;
          if (sens >= target && spec > best) best = spec;
        }
        return chosen.tuningSensitivity >= target && chosen.tuningSpecificity === best;
      }),
    );
  });

  it('refuses a tuning split without both classes', () => {
    assert.throws(() => thresholdForSensitivity([0.1, 0.9], [1, 1], 0.9), StatsInputError);
  });
});

describe('Holm properties', () => {
  it('adjusted p-values are ≥ the raw ones, ≤ 1, and monotone in the raw order', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 30 }), (ps) => {
        const adj = holmAdjust(ps);
        const order = ps.map((_, i) => i).sort((a, b) => ps[a]! - ps[b]!);
        return (
          adj.every((a, i) => a >= ps[i]! && a <= 1) && order.every((i, k) => k === 0 || adj[i]! >= adj[order[k - 1]!]!)
        );
      }),
    );
  });
});

describe('bad input', () => {
  it('names the column and row of NaN/infinite scores, bad labels and length mismatches', () => {
    assert.throws(
      () => delongAuc([0.1, Number.NaN], [0, 1]),
      (e: unknown) => e instanceof StatsInputError && e.row === 1 && /not a finite number/.test(e.message),
    );
    assert.throws(() => delongAuc([0.1, Infinity], [0, 1]), StatsInputError);
    assert.throws(
      () => delongAuc([0.1, 0.2], [0, 2]),
      (e: unknown) => e instanceof StatsInputError && e.column === 'labels' && e.row === 1,
    );
    assert.throws(() => delongAuc([0.1, 0.2, 0.3], [0, 1]), /3 rows but labels has 2/);
    assert.throws(() => pairedDelong([0.1, 0.2], [0.1], [0, 1]), StatsInputError);
  });
});
