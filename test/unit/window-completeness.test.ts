/** judgeWindowCompleteness: an incomplete telemetry window never passes; fails stay fails; complete windows unchanged. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Decision, WindowCompleteness } from '../../src/domain';
import { judgeWindowCompleteness } from '../../src/judging';

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
