/**
 * SHADOW judges input drift by feature type (issue #22): a 0/1 input with no drift does not fail SHADOW through the
 * gateway's telemetry (its sketch's deciles gave PSI 2.5–2.8 in every window) nor offline, a real shift does, and
 * measurements recorded before typed drift are judged as they were.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { drawWindow, reference, rng } from '../../bench/drift-scenarios';
import { shadowSketchDrift, shadowValuesDrift } from '../../src/activities/live-source/typed-drift';
import type { ArmStats, ReleasePolicy, ShadowMeasurement } from '../../src/domain';
import { FeatureSketcher } from '../../src/gateway/feature-sketches';
import { judgeShadow, SHADOW_DRIFT_ALPHA } from '../../src/judging';
import { sketchPsi } from '../../src/stats/log-sketch';
import type { SketchEvent } from '../../src/telemetry';
import { mergeWindowSketches } from '../../src/telemetry/input-sketches';

const arm: ArmStats = {
  n: 200,
  positives: 20,
  truePositives: 16,
  negatives: 180,
  trueNegatives: 160,
  alerts: 36,
  sensitivity: 0.8,
  specificity: 0.889,
  alertRate: 0.18,
};
const policy: ReleasePolicy['shadow'] = { durationSeconds: 60, cases: 100, minAgreement: 0.8, maxPsi: 0.25 };
const measurement = (
  features: NonNullable<ShadowMeasurement['drift']>['features'],
  cases: number,
): ShadowMeasurement => ({
  cases,
  agreements: cases,
  agreement: 1,
  meanAbsScoreDifference: 0,
  candidate: arm,
  production: arm,
  drift: { reference: { dataset: 'eval', sha256: '0'.repeat(64), rows: 2000 }, features, site: null },
});

/** The window through the gateway: FeatureSketcher → mergeWindowSketches, as telemetry-shadow reads it. */
function sketched(window: readonly number[]) {
  const events: SketchEvent[] = [];
  const sketcher = new FeatureSketcher({ emit: (e) => events.push(e), bucketMs: 10_000 });
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  window.forEach((v, i) =>
    sketcher.add(
      'm',
      { featureNames: ['x'], features: Float32Array.of(v), rows: 1, quality: [], missing: null },
      t0 + Math.floor(i / 100) * 10_000,
    ),
  );
  sketcher.flush();
  return mergeWindowSketches(events, 'm', '2025-01-01T00:00:00Z', '2027-01-01T00:00:00Z');
}

describe('SHADOW input drift by feature type', () => {
  it('a 0/1 input with no drift passes through gateway telemetry, where the sketch PSI was > 2', () => {
    const windows = 200;
    let failed = 0;
    let oldPsiOver = 0;
    for (let w = 0; w < windows; w++) {
      const ref = reference('binary', 7_919 + w);
      const win = drawWindow('binary', 200, false, 100_003 + w);
      const s = sketched(win);
      const sketch = s.features.get('x')!;
      if (sketchPsi(ref.values, sketch).psi > 2) oldPsiOver++;
      const d = shadowSketchDrift('x', ref.values, sketch, s.values.get('x') ?? null);
      assert.ok(!('notCompared' in d), JSON.stringify(d));
      assert.equal(d.featureType, 'binary');
      if (judgeShadow(measurement([d], 200), policy).verdict === 'fail') failed++;
    }
    assert.equal(oldPsiOver, windows, 'the untyped sketch PSI of a 0/1 input exceeded 2 in every window');
    // α = 1 %: at most 3σ above 2 expected false failures of 200.
    assert.ok(failed <= 2 + 3 * Math.sqrt(2), `${failed} of ${windows} no-drift windows failed SHADOW`);
  });

  it('a 0/1 input with no drift passes offline (simulated traffic) at 100 cases', () => {
    let failed = 0;
    for (let w = 0; w < 200; w++) {
      const d = shadowValuesDrift('x', reference('binary', 31 + w).values, drawWindow('binary', 100, false, 977 + w));
      if (judgeShadow(measurement([d], 100), policy).verdict === 'fail') failed++;
    }
    assert.ok(failed <= 6, `${failed} of 200`);
  });

  it('a PSI over the bound within sampling noise is noted, not failed', () => {
    // No shift, 100-case windows of a continuous input: PSI exceeds 0.25 by chance alone in a few per cent of them,
    // mostly with a χ² on its cells that does not reject (the first such window is taken).
    let tried = 0;
    let d = shadowValuesDrift('x', reference('continuous', 1).values, drawWindow('continuous', 100, false, 1));
    while (!(d.psi > 0.25 && d.psiPValue! > SHADOW_DRIFT_ALPHA) && tried < 1000) {
      tried++;
      d = shadowValuesDrift(
        'x',
        reference('continuous', 1 + tried).values,
        drawWindow('continuous', 100, false, 9 + tried),
      );
    }
    assert.ok(d.psi > 0.25 && d.psiPValue! > SHADOW_DRIFT_ALPHA, JSON.stringify(d));
    const decision = judgeShadow(measurement([d], 100), policy);
    assert.equal(decision.verdict, 'pass', decision.reasons.join('; '));
    assert.ok(decision.reasons.some((x) => /within sampling noise/.test(x)));
  });

  it('a window too small for two χ² cells is inconclusive for drift, never a pass', () => {
    const r = rng(5);
    const ref = Array.from({ length: 2000 }, () => (r() < 0.3 ? 1 : 0));
    const d = shadowValuesDrift('flag', ref, [0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    assert.equal(d.psiPValue, null);
    const decision = judgeShadow(measurement([d], 10), { ...policy, cases: 10 });
    assert.equal(decision.verdict, 'inconclusive');
    assert.match(decision.reasons.join('; '), /too few cases to judge drift of flag/);
  });

  it('a real shift of the 0/1 input (P(1) 0.30 → 0.60, 500 cases) fails SHADOW through the gateway', () => {
    const r = rng(9);
    const ref = Array.from({ length: 2000 }, () => (r() < 0.3 ? 1 : 0));
    const win = Array.from({ length: 500 }, () => (r() < 0.6 ? 1 : 0));
    const s = sketched(win);
    const d = shadowSketchDrift('flag', ref, s.features.get('x')!, s.values.get('x') ?? null);
    assert.ok(!('notCompared' in d));
    const decision = judgeShadow(measurement([d], 500), policy);
    assert.equal(decision.verdict, 'fail');
    assert.match(
      decision.reasons[0]!,
      /^input drift: PSI above 0\.25 for flag \(0\.\d+, χ² on its cells Holm-adjusted p .+ < 0\.01\)/,
    );
  });

  it('measurements recorded before typed drift are judged by the PSI bound alone, as before', () => {
    const old = [{ feature: 'x', psi: 0.3, ks: 0.1, ksPValue: 0.5, n: 200 }];
    assert.deepEqual(judgeShadow(measurement(old, 200), policy).reasons, [
      'input drift: PSI above 0.25 for x (0.3000)',
    ]);
  });
});
