/**
 * judgeDrift: data drift (PSI, KS / chi-square with Holm across the window's tests), pooled performance drift and
 * alert-burden drift, and the policy's onDrift in the verdict's first reason.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DriftPolicySchema,
  ReleasePolicySchema,
  type DriftMeasurement,
  type DriftPolicy,
  type FeatureDrift,
} from '../../src/domain';
import { judgeDrift } from '../../src/judging';
import { validPolicy } from '../support/fixtures';

const policy = (patch: Partial<DriftPolicy> = {}): DriftPolicy =>
  DriftPolicySchema.parse({ onDrift: 'notify', ...patch });

const numeric = (feature: string, pValue: number, psi = 0.01): FeatureDrift => ({
  feature,
  kind: 'numeric',
  psi,
  test: 'ks',
  statistic: 0.02,
  pValue,
});

function measurement(
  patch: {
    features?: FeatureDrift[];
    positives?: number;
    truePositives?: number;
    labelled?: number;
    scoreSum?: number;
    alertRate?: number | null;
  } = {},
): DriftMeasurement {
  const positives = patch.positives ?? 200;
  const truePositives = patch.truePositives ?? 160;
  const labelled = patch.labelled ?? 1000;
  const scoreSum = patch.scoreSum ?? 200;
  const alertRate = patch.alertRate === undefined ? 0.2 : patch.alertRate;
  return {
    window: 'monitoring interval 4',
    interval: 3,
    cases: 1000,
    reference: { dataset: 'eval', sha256: 'e'.repeat(64), rows: 3000 },
    data: {
      features: patch.features ?? [
        numeric('x0', 0.5),
        numeric('x1', 0.7),
        { feature: 'site', kind: 'categorical', psi: 0.002, test: 'chi-square', statistic: 1.2, pValue: 0.75, df: 3 },
      ],
      notCompared: [],
    },
    performance: {
      current: { interval: 3, labelled, positives, truePositives, scoreSum },
      windows: [1, 2, 3],
      labelled,
      positives,
      truePositives,
      sensitivity: positives > 0 ? truePositives / positives : null,
      calibrationInTheLarge: positives / labelled - scoreSum / labelled,
      baseline: { sensitivity: 0.8, calibrationInTheLarge: 0 },
    },
    workflow: {
      alertRate,
      baselineAlertRate: 0.2,
      alertRateRatio: alertRate === null ? null : alertRate / 0.2,
      overrideRate: null,
    },
  };
}

describe('judgeDrift', () => {
  it('passes a window that looks like the reference, naming what it checked', () => {
    const d = judgeDrift(measurement(), policy());
    assert.equal(d.verdict, 'pass');
    assert.match(
      d.reasons[0]!,
      /^no drift in monitoring interval 4: largest PSI 0\.0100 \(x0\), smallest Holm-adjusted p 1\.00 over 3 tests, alert rate ratio 1\.0000, pooled sensitivity 0\.8000 vs 0\.8000/,
    );
    assert.ok(
      d.checks.every((c) => c.status === 'pass'),
      JSON.stringify(d.checks),
    );
  });

  it('detects data drift by PSI alone, and says what the policy does about it', () => {
    const d = judgeDrift(
      measurement({ features: [numeric('x0', 0.5), numeric('x7', 0.4, 0.31)] }),
      policy({ maxPsi: 0.25, onDrift: 'revalidate' }),
    );
    assert.equal(d.verdict, 'fail');
    assert.match(
      d.reasons[0]!,
      /^drift detected in monitoring interval 4: revalidation required \(policy onDrift: revalidate/,
    );
    assert.deepEqual(d.reasons.slice(1), ['data drift in x7: PSI 0.3100 > 0.25']);
  });

  it('Holm: a p-value below α that does not survive the correction over the window is no drift', () => {
    // 3 tests, α = 0.01: p = 0.004 alone would reject, Holm makes it 3 × 0.004 = 0.012.
    const d = judgeDrift(
      measurement({ features: [numeric('x0', 0.004), numeric('x1', 0.5), numeric('x2', 0.9)] }),
      policy({ ksAlpha: 0.01 }),
    );
    assert.equal(d.verdict, 'pass');
    assert.equal(d.checks.find((c) => c.name === 'ks:x0')!.value!.toFixed(3), '0.012');
    assert.match(d.reasons[0]!, /smallest Holm-adjusted p 0\.0120 over 3 tests/);
  });

  it('Holm, not Bonferroni: the step-down rejects a second test Bonferroni would keep', () => {
    // α = 0.05, p = (0.02, 0.03): Bonferroni compares both with 0.025 (rejects x0 only); Holm adjusts to (0.04, 0.04).
    const d = judgeDrift(
      measurement({ features: [numeric('x0', 0.02), numeric('x1', 0.03)] }),
      policy({ ksAlpha: 0.05 }),
    );
    assert.equal(d.verdict, 'fail');
    const flagged = d.reasons.filter((r) => r.startsWith('data drift in'));
    assert.deepEqual(flagged, [
      'data drift in x0: KS D 0.0200, p 0.0200, Holm-adjusted over 2 tests 0.0400 < α 0.05',
      'data drift in x1: KS D 0.0200, p 0.0300, Holm-adjusted over 2 tests 0.0400 < α 0.05',
    ]);
  });

  it('the site mix is one of the family: its chi-square is adjusted with the features and named as a mix', () => {
    const site: FeatureDrift = {
      feature: 'site',
      kind: 'categorical',
      psi: 0.4,
      test: 'chi-square',
      statistic: 80.5,
      pValue: 1e-12,
      df: 3,
    };
    const d = judgeDrift(measurement({ features: [numeric('x0', 0.5), site] }), policy());
    assert.equal(d.verdict, 'fail');
    assert.deepEqual(d.reasons.slice(1), [
      'data drift in site mix: PSI 0.4000 > 0.25',
      'data drift in site mix: χ² 80.50 (df 3), p 1.00e-12, Holm-adjusted over 2 tests 2.00e-12 < α 0.01',
    ]);
  });

  it('performance drift on the pooled windows: sensitivity below the baseline by more than allowed', () => {
    const d = judgeDrift(measurement({ positives: 200, truePositives: 140 }), policy({ maxSensitivityDrop: 0.05 }));
    assert.equal(d.verdict, 'fail');
    assert.match(
      d.reasons[1]!,
      /^performance drift: pooled sensitivity 0\.7000 over windows 2–4 \(200 labelled positives\) is 0\.1000 below the validated 0\.8000 \(allowed 0\.05\)$/,
    );
  });

  it('performance drift: calibration-in-the-large away from the evaluation split', () => {
    // observed rate 0.2, mean predicted 0.3 → CITL −0.1 vs 0 on the evaluation split.
    const d = judgeDrift(measurement({ scoreSum: 300 }), policy({ maxCalibrationGap: 0.05 }));
    assert.equal(d.verdict, 'fail');
    assert.match(
      d.reasons[1]!,
      /^performance drift: calibration-in-the-large -0\.1000 over windows 2–4 vs 0\.0000 on the evaluation split \(gap 0\.1000 > 0\.05\)$/,
    );
  });

  it('too few labelled positives: performance is not judged (noted), never counted as drift or as a pass of it', () => {
    const d = judgeDrift(measurement({ positives: 10, truePositives: 2 }), policy({ minPositives: 30 }));
    assert.equal(d.verdict, 'pass');
    assert.ok(
      d.reasons.includes('performance not judged: 10 labelled positives over windows 2–4 (need 30)'),
      d.reasons.join(' | '),
    );
    assert.equal(d.checks.find((c) => c.name === 'sensitivity-drop')!.status, 'inconclusive');
  });

  it('workflow drift either way: more alerts and fewer alerts than the baseline', () => {
    const up = judgeDrift(measurement({ alertRate: 0.3 }), policy({ maxAlertRateRatio: 1.25 }));
    assert.equal(up.verdict, 'fail');
    assert.match(up.reasons[1]!, /^workflow drift: alert rate 0\.3000 is 1\.5000× the validated 0\.2000/);
    const down = judgeDrift(measurement({ alertRate: 0.1 }), policy({ maxAlertRateRatio: 1.25 }));
    assert.equal(down.verdict, 'fail');
    assert.match(down.reasons[1]!, /^workflow drift: alert rate 0\.1000 is 0\.5000×/);
    assert.equal(judgeDrift(measurement({ alertRate: 0.22 }), policy({ maxAlertRateRatio: 1.25 })).verdict, 'pass');
  });

  it('inconclusive only when no check could run at all', () => {
    const d = judgeDrift(
      { ...measurement({ features: [], positives: 0, truePositives: 0, alertRate: null }) },
      policy(),
    );
    assert.equal(d.verdict, 'inconclusive');
    assert.match(d.reasons[0]!, /^no drift check could run in monitoring interval 4/);
  });

  it('rollback is a failed window in the verdict’s own words', () => {
    const d = judgeDrift(measurement({ alertRate: 0.5 }), policy({ onDrift: 'rollback' }));
    assert.equal(d.verdict, 'fail');
    assert.match(d.reasons[0]!, /the window fails \(policy onDrift: rollback\)/);
  });
});

describe('monitoring.drift in the release policy', () => {
  it('is optional; present, it needs onDrift and fills the documented defaults', () => {
    assert.equal(ReleasePolicySchema.parse(validPolicy()).monitoring.drift, undefined);
    const base = validPolicy();
    const withDrift = ReleasePolicySchema.parse({
      ...base,
      monitoring: { ...base.monitoring, drift: { onDrift: 'notify' } },
    });
    assert.deepEqual(withDrift.monitoring.drift, {
      maxPsi: 0.25,
      ksAlpha: 0.01,
      maxAlertRateRatio: 1.25,
      windowsForPerformance: 6,
      maxSensitivityDrop: 0.05,
      maxCalibrationGap: 0.05,
      minPositives: 30,
      onDrift: 'notify',
    });
    assert.equal(
      ReleasePolicySchema.safeParse({ ...base, monitoring: { ...base.monitoring, drift: {} } }).success,
      false,
    );
    assert.equal(
      ReleasePolicySchema.safeParse({ ...base, monitoring: { ...base.monitoring, drift: { onDrift: 'page-someone' } } })
        .success,
      false,
    );
  });
});
