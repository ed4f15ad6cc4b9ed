/**
 * Issue #15 item 2: a decision judged on simulated traffic says so in its headline reason; one judged on gateway
 * telemetry, or on a measurement recorded before sources were named, reads exactly as before.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ArmStats, LiveMeasurement, MeasurementSource, ShadowMeasurement } from '../../src/domain';
import { ReleasePolicySchema } from '../../src/domain';
import {
  judgeGuardrails,
  judgeGuardrailsSequential,
  judgeShadow,
  labelSource,
  SIMULATED_LABEL,
  withMonitoringCohorts,
} from '../../src/judging';
import { validPolicy } from '../support/fixtures';

const arm = (n: number, positives: number, truePositives: number, alerts: number): ArmStats => ({
  n,
  positives,
  truePositives,
  negatives: n - positives,
  trueNegatives: n - positives - (alerts - truePositives),
  alerts,
  sensitivity: positives > 0 ? truePositives / positives : null,
  specificity: null,
  alertRate: n > 0 ? alerts / n : null,
});
const shadow: ShadowMeasurement = {
  cases: 1000,
  agreements: 950,
  agreement: 0.95,
  meanAbsScoreDifference: 0.02,
  candidate: arm(1000, 100, 80, 180),
  production: arm(1000, 100, 80, 180),
};
const shadowPolicy = { durationSeconds: 60, cases: 1000, minAgreement: 0.8 };
const live = (source?: MeasurementSource): LiveMeasurement => ({
  ...(source ? { source } : {}),
  window: 'step 1',
  treatment: arm(1000, 100, 80, 180),
  comparator: arm(1000, 100, 80, 180),
});
const guardrails = { maxSensitivityDrop: 0.1, maxAlertRateRatio: 1.5, minPositives: 20 };
const sequential = {
  alpha: 0.05,
  harmMargin: 0,
  planned: { treatmentPositives: 400, comparatorPositives: 400 },
  minPositives: 20,
  maxAlertRateRatio: 1.5,
};

describe('simulated measurements are labelled in the judges’ text', () => {
  it('judgeShadow: pass, fail and inconclusive headlines carry the label; telemetry and legacy do not', () => {
    const legacy = judgeShadow(shadow, shadowPolicy);
    assert.deepEqual(legacy.reasons, ['agreement with production 0.9500 on 1000 mirrored cases']);
    assert.deepEqual(judgeShadow({ ...shadow, source: 'gateway-telemetry' }, shadowPolicy), legacy);
    assert.deepEqual(judgeShadow({ ...shadow, source: 'simulated' }, shadowPolicy), {
      verdict: 'pass',
      reasons: ['agreement with production 0.9500 on 1000 mirrored cases (simulated traffic)'],
    });
    const failed = judgeShadow({ ...shadow, source: 'simulated', agreement: 0.7 }, shadowPolicy);
    assert.equal(failed.verdict, 'fail');
    assert.equal(failed.reasons[0], 'agreement with production 0.7000 is below the minimum 0.8 (simulated traffic)');
    const short = judgeShadow({ ...shadow, source: 'simulated', cases: 10 }, shadowPolicy);
    assert.equal(short.reasons[0], 'only 10 of 1000 required shadow cases observed (simulated traffic)');
  });

  it('judgeGuardrails and the monitoring window decision label the headline once', () => {
    const legacy = judgeGuardrails(live(), guardrails);
    assert.equal(legacy.verdict, 'pass');
    assert.ok(!legacy.reasons[0]!.includes('simulated'));
    assert.deepEqual(judgeGuardrails(live('gateway-telemetry'), guardrails), legacy);
    const simulated = judgeGuardrails(live('simulated'), guardrails);
    assert.deepEqual(simulated.reasons, [legacy.reasons[0] + SIMULATED_LABEL]);

    const policy = ReleasePolicySchema.parse(validPolicy());
    const cohorts = { 'site=site-a': { treatment: arm(1000, 100, 80, 180), comparator: arm(1000, 100, 80, 180) } };
    const m = { ...live('simulated'), cohorts };
    const window = withMonitoringCohorts(judgeGuardrails(m, guardrails), m, policy);
    const head = window.reasons[0]!;
    assert.ok(head.endsWith(SIMULATED_LABEL), head);
    assert.equal(head.split(SIMULATED_LABEL).length, 2, `labelled once: ${head}`);
    const legacyWindow = { ...m, source: undefined };
    const unlabelled = withMonitoringCohorts(judgeGuardrails(legacyWindow, guardrails), legacyWindow, policy);
    assert.equal(head, unlabelled.reasons[0]! + SIMULATED_LABEL);
  });

  it('judgeGuardrailsSequential labels a canary look on simulated traffic', () => {
    const legacy = judgeGuardrailsSequential([live()], sequential);
    const simulated = judgeGuardrailsSequential([live('simulated')], sequential);
    assert.equal(simulated.verdict, legacy.verdict);
    assert.deepEqual(simulated.reasons, [legacy.reasons[0] + SIMULATED_LABEL, ...legacy.reasons.slice(1)]);
    assert.deepEqual(simulated.evidence, legacy.evidence);
    assert.deepEqual(judgeGuardrailsSequential([live('gateway-telemetry')], sequential).reasons, legacy.reasons);
  });

  it('labelSource is idempotent and leaves empty decisions alone', () => {
    const d = { verdict: 'pass' as const, reasons: ['x'] };
    const once = labelSource(d, 'simulated');
    assert.deepEqual(labelSource(once, 'simulated'), once);
    assert.deepEqual(labelSource({ verdict: 'pass', reasons: [] }, 'simulated').reasons, []);
  });
});
