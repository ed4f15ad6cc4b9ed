/**
 * Post-release drift, judged per monitoring window. Pure: measurement + pinned policy → decision; the monitoring
 * workflow records it and the audit recomputes it from the activity result in history.
 *
 * Drift is detected when any of these holds (each names itself in the reasons):
 *   data         a feature's (or the site mix's) PSI exceeds maxPsi, or its KS (continuous) / chi-square (discrete) test
 *                rejects at ksAlpha after the Holm (1979) step-down correction over every test of the window — the
 *                family-wise false-alarm rate per window stays at ksAlpha however many features there are, and Holm
 *                rejects everything Bonferroni would and sometimes more;
 *   performance  over the labelled cases of the last `windowsForPerformance` windows, pooled: sensitivity more than
 *                maxSensitivityDrop below the validated baseline, or calibration-in-the-large (observed rate − mean
 *                predicted risk) more than maxCalibrationGap away from the candidate's on the evaluation split;
 *                with fewer than minPositives labelled positives this is not judged (said so, never passed);
 *   workflow     the window's alert rate outside [1/maxAlertRateRatio, maxAlertRateRatio] × the baseline's.
 * Verdicts: 'fail' = drift detected, 'pass' = no drift among the checks that ran, 'inconclusive' = none could run.
 */
import type { Decision, DriftMeasurement, DriftPolicy } from '../domain';
import { minDriftWindow } from '../stats/feature-drift';
import { holmAdjust } from '../stats/holm';
import { labelSource } from './source-label';

export interface DriftCheck {
  name: string;
  value: number | null;
  limit: number;
  status: 'pass' | 'fail' | 'inconclusive';
}

export interface DriftDecision extends Decision {
  /** Every check with its value and limit, for the status and evidence; the chain records verdict and reasons. */
  checks: DriftCheck[];
}

const f4 = (x: number | null): string => (x === null ? 'undefined' : x.toFixed(4));
const p3 = (p: number): string => p.toPrecision(3);

const ACTION: Record<DriftPolicy['onDrift'], string> = {
  notify: 'revalidation required (policy onDrift: notify — a notice is sent and surveillance continues)',
  revalidate: 'revalidation required (policy onDrift: revalidate — a new release cycle of this candidate is requested)',
  rollback: 'the window fails (policy onDrift: rollback)',
};

/**
 * Performance drift on the pooled labelled cases of the latest windows: sensitivity drop and
 * calibration-in-the-large gap against the validated baseline. Returns whether it was judged at all.
 */
function judgePerformance(
  m: DriftMeasurement,
  p: DriftPolicy,
  out: { drift: string[]; notes: string[]; checks: DriftCheck[] },
): boolean {
  const perf = m.performance;
  const { drift, notes, checks } = out;
  const span =
    perf.windows.length > 1
      ? `windows ${perf.windows[0]! + 1}–${perf.windows[perf.windows.length - 1]! + 1}`
      : `window ${m.interval + 1}`;
  if (perf.positives < p.minPositives) {
    notes.push(`performance not judged: ${perf.positives} labelled positives over ${span} (need ${p.minPositives})`);
    checks.push({ name: 'sensitivity-drop', value: null, limit: p.maxSensitivityDrop, status: 'inconclusive' });
    checks.push({ name: 'calibration-gap', value: null, limit: p.maxCalibrationGap, status: 'inconclusive' });
    return false;
  }
  if (perf.sensitivity !== null && perf.baseline.sensitivity !== null) {
    const drop = perf.baseline.sensitivity - perf.sensitivity;
    const bad = drop > p.maxSensitivityDrop;
    checks.push({
      name: 'sensitivity-drop',
      value: drop,
      limit: p.maxSensitivityDrop,
      status: bad ? 'fail' : 'pass',
    });
    if (bad) {
      drift.push(
        `performance drift: pooled sensitivity ${f4(perf.sensitivity)} over ${span} (${perf.positives} labelled positives) is ${f4(drop)} below the validated ${f4(perf.baseline.sensitivity)} (allowed ${p.maxSensitivityDrop})`,
      );
    }
  } else {
    checks.push({ name: 'sensitivity-drop', value: null, limit: p.maxSensitivityDrop, status: 'inconclusive' });
    notes.push('sensitivity drift not judged: the validated baseline has no sensitivity');
  }
  if (perf.calibrationInTheLarge !== null && perf.baseline.calibrationInTheLarge !== null) {
    const gap = Math.abs(perf.calibrationInTheLarge - perf.baseline.calibrationInTheLarge);
    const bad = gap > p.maxCalibrationGap;
    checks.push({ name: 'calibration-gap', value: gap, limit: p.maxCalibrationGap, status: bad ? 'fail' : 'pass' });
    if (bad) {
      drift.push(
        `performance drift: calibration-in-the-large ${f4(perf.calibrationInTheLarge)} over ${span} vs ${f4(perf.baseline.calibrationInTheLarge)} on the evaluation split (gap ${f4(gap)} > ${p.maxCalibrationGap})`,
      );
    }
  } else {
    checks.push({ name: 'calibration-gap', value: null, limit: p.maxCalibrationGap, status: 'inconclusive' });
    notes.push('calibration drift not judged: no calibration reference');
  }
  return true;
}

export function judgeDrift(m: DriftMeasurement, p: DriftPolicy): DriftDecision {
  return labelSource(judgeDriftWindow(m, p), m.source);
}

function judgeDriftWindow(m: DriftMeasurement, p: DriftPolicy): DriftDecision {
  const drift: string[] = [];
  const notes: string[] = [];
  const checks: DriftCheck[] = [];
  const where = `monitoring interval ${m.interval + 1}`;

  // Data drift: PSI per feature, tests Holm-adjusted over the whole window.
  const features = m.data.features;
  // Measurements that carry feature types judge PSI with its sampling distribution (issue #22); older ones as before.
  const typed = features.some((f) => f.featureType !== undefined);
  const minCases = typed ? Math.max(p.minWindowCases ?? 0, minDriftWindow(p.maxPsi, p.ksAlpha)) : 0;
  const judged = m.cases >= minCases ? features : [];
  if (judged.length < features.length) {
    notes.push(
      `data drift not judged: ${m.cases} cases in the window, fewer than the ${minCases} in which a PSI of ${p.maxPsi} can be told from sampling noise at α ${p.ksAlpha} (docs/statistics.md)`,
    );
    for (const f of features)
      checks.push({ name: `psi:${f.feature}`, value: f.psi, limit: p.maxPsi, status: 'inconclusive' });
  }
  // The family: each feature's test, and for continuous features the χ² on the PSI's bins that gates the PSI bound.
  const family: number[] = judged.map((f) => f.pValue);
  const gateAt = judged.map((f) => {
    if (!typed) return -1;
    if (f.kind === 'categorical' || (f.featureType !== undefined && f.featureType !== 'continuous')) return -2;
    if (f.psiPValue === null || f.psiPValue === undefined) return -3;
    family.push(f.psiPValue);
    return family.length - 1;
  });
  const adjusted = holmAdjust(family);
  judged.forEach((f, i) => {
    const name = f.kind === 'categorical' ? `${f.feature} mix` : f.feature;
    const q = adjusted[i]!;
    const g = gateAt[i]!;
    // The PSI bound alarms only where sampling noise does not explain it: its gate rejects after Holm.
    const gateQ = g >= 0 ? adjusted[g]! : g === -2 ? q : g === -3 ? 1 : 0;
    const psiBad = f.psi > p.maxPsi && gateQ < (typed ? p.ksAlpha : Infinity);
    checks.push({ name: `psi:${f.feature}`, value: f.psi, limit: p.maxPsi, status: psiBad ? 'fail' : 'pass' });
    if (psiBad)
      drift.push(
        `data drift in ${name}: PSI ${f4(f.psi)} > ${p.maxPsi}` +
          (typed ? ` (χ² on its cells: Holm-adjusted p ${p3(gateQ)} < α ${p.ksAlpha})` : ''),
      );
    else if (typed && f.psi > p.maxPsi)
      notes.push(
        `${name}: PSI ${f4(f.psi)} > ${p.maxPsi} but within sampling noise (Holm-adjusted p ${p3(gateQ)} ≥ α ${p.ksAlpha})`,
      );
    const testBad = q < p.ksAlpha;
    checks.push({ name: `${f.test}:${f.feature}`, value: q, limit: p.ksAlpha, status: testBad ? 'fail' : 'pass' });
    if (testBad) {
      const stat =
        f.test === 'ks'
          ? `KS D ${f4(f.statistic)}`
          : `${f.test === 'fisher-exact' ? "Fisher's exact test, " : ''}χ² ${f.statistic.toFixed(2)} (df ${f.df ?? '?'})`;
      drift.push(
        `data drift in ${name}: ${stat}, p ${p3(f.pValue)}, Holm-adjusted over ${family.length} tests ${p3(q)} < α ${p.ksAlpha}`,
      );
    }
  });
  if (m.data.notCompared.length > 0) notes.push(`not compared with the reference: ${m.data.notCompared.join('; ')}`);

  // Performance drift on the pooled labelled cases of the latest windows.
  const perf = m.performance;
  const perfJudged = judgePerformance(m, p, { drift, notes, checks });

  // Workflow drift: alert burden either way (a silent model is as much a change as a noisy one).
  const w = m.workflow;
  const ratio = w.alertRateRatio;
  if (ratio === null) {
    checks.push({ name: 'alert-rate-ratio', value: null, limit: p.maxAlertRateRatio, status: 'inconclusive' });
    notes.push(`alert-rate drift not judged: alert rate ${f4(w.alertRate)} vs baseline ${f4(w.baselineAlertRate)}`);
  } else {
    const bad = ratio > p.maxAlertRateRatio || ratio < 1 / p.maxAlertRateRatio;
    checks.push({ name: 'alert-rate-ratio', value: ratio, limit: p.maxAlertRateRatio, status: bad ? 'fail' : 'pass' });
    if (bad) {
      drift.push(
        `workflow drift: alert rate ${f4(w.alertRate)} is ${f4(ratio)}× the validated ${f4(w.baselineAlertRate)} (allowed between ${f4(1 / p.maxAlertRateRatio)}× and ${p.maxAlertRateRatio}×)`,
      );
    }
  }

  if (drift.length > 0) {
    return {
      verdict: 'fail',
      reasons: [`drift detected in ${where}: ${ACTION[p.onDrift]}`, ...drift, ...notes],
      checks,
    };
  }
  if (judged.length === 0 && !perfJudged && ratio === null) {
    return { verdict: 'inconclusive', reasons: [`no drift check could run in ${where}`, ...notes], checks };
  }
  const worstPsi = judged.reduce<{ f: string; v: number } | null>(
    (a, f) => (a === null || f.psi > a.v ? { f: f.feature, v: f.psi } : a),
    null,
  );
  const minQ = adjusted.length ? Math.min(...adjusted) : null;
  const summary = [
    worstPsi ? `largest PSI ${f4(worstPsi.v)} (${worstPsi.f})` : null,
    minQ !== null ? `smallest Holm-adjusted p ${p3(minQ)} over ${family.length} tests` : null,
    ratio !== null ? `alert rate ratio ${f4(ratio)}` : null,
    perfJudged
      ? `pooled sensitivity ${f4(perf.sensitivity)} vs ${f4(perf.baseline.sensitivity)}, calibration-in-the-large ${f4(perf.calibrationInTheLarge)} vs ${f4(perf.baseline.calibrationInTheLarge)}`
      : null,
  ].filter((s): s is string => s !== null);
  return { verdict: 'pass', reasons: [`no drift in ${where}: ${summary.join(', ')}`, ...notes], checks };
}
