import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { modelCurves, precisionRecallCurve, rocCurve, trapezoidArea } from '../../src/report';
import { averagePrecision, reliabilityCurve, rocAuc } from '../../src/stats';

/** Random rows: labels with both classes, scores with a tunable signal and deliberate ties (rounded to `grid`). */
const rows = fc
  .record({
    n: fc.integer({ min: 2, max: 3000 }),
    prevalence: fc.double({ min: 0.01, max: 0.99, noNaN: true }),
    signal: fc.double({ min: -2, max: 3, noNaN: true }),
    grid: fc.constantFrom(0, 10, 100, 1000),
    seed: fc.integer(),
  })
  .map(({ n, prevalence, signal, grid, seed }) => {
    let s = seed >>> 0 || 1;
    const rand = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296;
    const labels = new Uint8Array(n);
    const scores = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      labels[i] = i === 0 ? 1 : i === 1 ? 0 : rand() < prevalence ? 1 : 0;
      const z = signal * labels[i]! + Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
      const p = 1 / (1 + Math.exp(-z));
      scores[i] = grid === 0 ? p : Math.round(p * grid) / grid;
    }
    return { labels, scores };
  });

function assertMonotone(values: Float64Array, what: string): void {
  for (let i = 1; i < values.length; i++)
    assert.ok(values[i]! >= values[i - 1]!, `${what} decreases at ${i}: ${values[i - 1]} → ${values[i]}`);
}

describe('rocCurve', () => {
  it('starts at (0,0), ends at (1,1), is monotone, ≤ 200 points, and its area is within 0.005 of rocAuc', () => {
    fc.assert(
      fc.property(rows, ({ labels, scores }) => {
        const roc = rocCurve(scores, labels);
        const m = roc.fpr.length;
        assert.ok(m >= 2 && m <= 200, `points: ${m}`);
        assert.deepEqual([roc.fpr[0], roc.tpr[0], roc.thresholds[0]], [0, 0, Infinity]);
        assert.deepEqual([roc.fpr[m - 1], roc.tpr[m - 1]], [1, 1]);
        assertMonotone(roc.fpr, 'fpr');
        assertMonotone(roc.tpr, 'tpr');
        for (let i = 1; i < m; i++)
          assert.ok(roc.thresholds[i]! < roc.thresholds[i - 1]!, 'thresholds strictly descending');
        const auc = rocAuc(scores, labels)!;
        const area = trapezoidArea(roc.fpr, roc.tpr);
        assert.ok(Math.abs(area - auc) <= 0.005, `area ${area} vs AUC ${auc} with ${m} points`);
      }),
      { numRuns: 200 },
    );
  });

  it('keeps every point (exact area) when there are few distinct scores', () => {
    const scores = [0.1, 0.4, 0.35, 0.8, 0.8, 0.2];
    const labels = [0, 0, 1, 1, 0, 1];
    const roc = rocCurve(scores, labels);
    assert.equal(roc.fpr.length, 6); // 5 distinct scores + the origin
    assert.ok(Math.abs(trapezoidArea(roc.fpr, roc.tpr) - rocAuc(scores, labels)!) < 1e-12);
  });

  it("keeps a rare class's steps: one positive among many negatives", () => {
    const n = 20000;
    const scores = Float64Array.from({ length: n }, (_, i) => i / n);
    const labels = new Uint8Array(n);
    labels[12345] = 1;
    const roc = rocCurve(scores, labels);
    assert.ok(Math.abs(trapezoidArea(roc.fpr, roc.tpr) - rocAuc(scores, labels)!) < 1e-9);
  });

  it('is empty when a class is absent and rejects bad input', () => {
    assert.equal(rocCurve([0.1, 0.2], [1, 1]).fpr.length, 0);
    assert.throws(() => rocCurve([0.1, Number.NaN], [0, 1]), /not a finite number/);
    assert.throws(() => rocCurve([0.1, 0.2], [0, 2]), /must be 0 or 1/);
    assert.throws(() => rocCurve([0.1], [0, 1]), /rows/);
    assert.throws(() => rocCurve([0.1, 0.2], [0, 1], 2), /maxPoints/);
  });
});

describe('precisionRecallCurve', () => {
  it('has recall monotone from the top group to 1, precision in [0,1], ending at the prevalence, ≤ 200 points', () => {
    fc.assert(
      fc.property(rows, ({ labels, scores }) => {
        const pr = precisionRecallCurve(scores, labels);
        const m = pr.recall.length;
        assert.ok(m >= 1 && m <= 200);
        assertMonotone(pr.recall, 'recall');
        assert.equal(pr.recall[m - 1], 1);
        for (const p of pr.precision) assert.ok(p >= 0 && p <= 1);
        assert.ok(Math.abs(pr.precision[m - 1]! - pr.positives / (pr.positives + pr.negatives)) < 1e-12);
        // step-wise AP from the down-sampled points stays close to the exact AP
        let ap = 0;
        for (let i = 0; i < m; i++) ap += (pr.recall[i]! - (i === 0 ? 0 : pr.recall[i - 1]!)) * pr.precision[i]!;
        const exact = averagePrecision(scores, labels)!;
        assert.ok(Math.abs(ap - exact) < 0.05, `AP ${ap} vs ${exact}`);
      }),
      { numRuns: 100 },
    );
  });
});

describe('modelCurves', () => {
  it('shares one sort for ROC and PR and reuses reliabilityCurve from src/stats', () => {
    const scores = [0.05, 0.2, 0.2, 0.45, 0.6, 0.9, 0.95, 0.3];
    const labels = [0, 0, 1, 0, 1, 1, 1, 0];
    const c = modelCurves(scores, labels, { bins: 5 });
    assert.deepEqual(c.roc, rocCurve(scores, labels));
    assert.deepEqual(c.pr, precisionRecallCurve(scores, labels));
    assert.deepEqual(c.reliability, reliabilityCurve(scores, labels, 5));
    assert.deepEqual(modelCurves([2, -1], [0, 1]).reliability, [], 'non-probability scores have no reliability curve');
  });
});
