/** judgeWindowCompleteness: an incomplete telemetry window never passes; fails stay fails; complete windows unchanged. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ActivityCall } from '../../src/audit/history';
import { recomputeDecisions } from '../../src/audit/decisions';
import {
  ReleasePolicySchema,
  type ChainEntry,
  type Decision,
  type LiveMeasurement,
  type WindowCompleteness,
} from '../../src/domain';
import { judgeGuardrails, judgeWindowCompleteness } from '../../src/judging';
import { validPolicy } from '../support/fixtures';

/** 1000 cases, 100 positives, 90 caught, 200 alerts. */
const counts = () => ({
  n: 1000,
  positives: 100,
  truePositives: 90,
  negatives: 900,
  trueNegatives: 790,
  alerts: 200,
  sensitivity: 0.9,
  specificity: 790 / 900,
  alertRate: 0.2,
});
const pass: Decision = { verdict: 'pass', reasons: ['guardrails held in w'] };
const fail: Decision = { verdict: 'fail', reasons: ['alert rate ratio 2.0000 exceeds the allowed 1.5'] };
const gap: WindowCompleteness = { complete: false, gateways: 3, lagging: 2, waitedMs: 4500 };

describe('judgeWindowCompleteness', () => {
  it('returns the decision itself for complete, undetermined and unmeasured completeness', () => {
    for (const completeness of [undefined, { ...gap, complete: true }, { ...gap, complete: null }])
      assert.equal(
        judgeWindowCompleteness(pass, { ...(completeness ? { completeness } : {}), window: 'w' }, false),
        pass,
      );
  });
  it('turns a pass on an incomplete window into inconclusive, naming the gap first', () => {
    assert.deepEqual(judgeWindowCompleteness(pass, { completeness: gap, window: 'w' }, false), {
      verdict: 'inconclusive',
      reasons: [
        'telemetry window w incomplete: 2 of 3 gateways had not uploaded past its end after waiting 4.5 s: not passed on part of its traffic',
        'measured so far: guardrails held in w',
      ],
    });
  });
  it('keeps a fail a fail and names the gap after its reasons', () => {
    const d = judgeWindowCompleteness(fail, { completeness: gap }, false);
    assert.equal(d.verdict, 'fail');
    assert.deepEqual(d.reasons, [
      fail.reasons[0],
      'the telemetry window incomplete: 2 of 3 gateways had not uploaded past its end after waiting 4.5 s',
    ]);
  });
  it('with acceptIncompleteWindows keeps the verdict and notes the gap', () => {
    const d = judgeWindowCompleteness(pass, { completeness: gap, window: 'w' }, true);
    assert.equal(d.verdict, 'pass');
    assert.match(d.reasons[1]!, /accepted: the policy sets acceptIncompleteWindows/);
  });
});

describe('vigil audit recomputes decisions on incomplete windows', () => {
  const policy = ReleasePolicySchema.parse(validPolicy());
  const m: LiveMeasurement = {
    source: 'gateway-telemetry',
    completeness: gap,
    window: 'monitoring 0',
    treatment: counts(),
    comparator: counts(),
  };
  const call: ActivityCall = {
    workflowId: 'w',
    runId: 'r',
    name: 'observeLive',
    scheduledEventId: 5,
    completedEventId: 7,
    input: { request: { policy }, mode: 'monitoring', step: 0 },
    result: { measurement: m },
  };
  const entry = (decision: Decision): ChainEntry => ({
    releaseId: 'r',
    seq: 4,
    stage: 'MONITORING',
    step: 0,
    prevEntryDigest: null,
    artifacts: [],
    decision,
    at: '2026-01-01T00:00:00.000Z',
  });

  it('matches the inconclusive decision the workflow records, and flags a pass recorded on the incomplete window', () => {
    const judged = judgeGuardrails(m, policy.monitoring.guardrails);
    assert.equal(judged.verdict, 'pass');
    const recorded = judgeWindowCompleteness(judged, m, false);
    assert.deepEqual(
      recomputeDecisions([call], [entry(recorded)]).checks.map((c) => c.match),
      [true],
    );
    assert.deepEqual(
      recomputeDecisions([call], [entry(judged)]).checks.map((c) => c.match),
      [false],
    );
  });
});
