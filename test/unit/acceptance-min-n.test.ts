/**
 * Offline minimums that mean something (issue 16, item 5): without `minN`, a slice with fewer rows than
 * MIN_SLICE_ROWS is insufficient and fails the criterion; before, the default 1 let a one-row slice pass a
 * "sensitivity lower bound ≥ 0.1" criterion.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MIN_SLICE_ROWS } from '../../src/domain';
import { acceptancePolicyJsonSchema, evaluateAcceptance, validateAcceptancePolicy } from '../../src/evaluation';

describe('default minN', () => {
  // 400 rows at site-a, 1 row (a detected positive) at site-z; scores perfectly separate the classes.
  const n = 401;
  const labels = Array.from({ length: n }, (_, i) => (i % 4 === 0 ? 1 : 0));
  const scores = labels.map((y) => (y ? 0.9 : 0.1));
  const site = labels.map((_, i) => (i === 0 ? 'site-z' : 'site-a'));
  const policy = validateAcceptancePolicy({
    version: 1,
    criteria: [
      {
        kind: 'metric-threshold',
        metric: 'sensitivity',
        bound: 'lower',
        op: '>=',
        value: 0.1,
        slices: { attributes: ['site'] },
      },
    ],
  });

  it(`is ${MIN_SLICE_ROWS}, so a one-row slice is insufficient and fails instead of passing`, () => {
    assert.equal(policy.criteria[0]!.minN, MIN_SLICE_ROWS);
    const report = evaluateAcceptance({
      labels,
      candidateScores: scores,
      incumbentScores: scores,
      attributes: { site },
      thresholdRule: { kind: 'fixed', threshold: 0.5 },
      policy,
    });
    const c = report.criteria[0]!;
    assert.equal(c.passed, false);
    assert.equal(c.slices.find((s) => s.slice === 'site=site-z')!.status, 'insufficient');
    assert.equal(c.slices.find((s) => s.slice === 'site=site-a')!.status, 'pass');
  });

  it('the policy schema states the default and why', () => {
    const text = JSON.stringify(acceptancePolicyJsonSchema());
    assert.match(text, /"default":100/);
    assert.match(text, /Default 100: with fewer rows a 95% interval/);
  });
});
