import type { ArmStats, DatasetRef, DriftMeasurement, PerformanceCounts } from '../domain';

/** The locked reference as drift needs it: per-feature columns and declared bins, the site mix, the candidate's calibration. */
export interface Reference {
  dataset: DatasetRef;
  rows: number;
  columns: Map<string, number[]>;
  edges: Map<string, number[]>;
  sites: string[] | null;
  calibrationInTheLarge: number | null;
}

/** One window's cases as drift counts them: the released model's score and the case's label (−1: none yet). */
export interface ScoredCase {
  score: number;
  /** 1, 0, or −1 (no outcome yet: counts for alerts only). */
  label: number;
}

/**
 * The window's measurement, whatever the traffic source: labelled counts of this window pooled with the previous
 * windows the workflow carried, alert burden against the validated baseline, the data drift found.
 */
export function driftMeasurement(a: {
  step: number;
  recent: readonly PerformanceCounts[];
  baseline: ArmStats;
  threshold: number;
  reference: Reference;
  cases: Iterable<ScoredCase>;
  data: DriftMeasurement['data'];
  overrideRate: number | null;
}): DriftMeasurement {
  const current: PerformanceCounts = { interval: a.step, labelled: 0, positives: 0, truePositives: 0, scoreSum: 0 };
  let n = 0;
  let alerts = 0;
  for (const c of a.cases) {
    n++;
    const alert = c.score >= a.threshold;
    if (alert) alerts++;
    if (c.label === -1) continue;
    current.labelled++;
    current.scoreSum += c.score;
    if (c.label === 1) {
      current.positives++;
      if (alert) current.truePositives++;
    }
  }
  const pooled = [...a.recent.filter((r) => r.interval < a.step), current];
  const sum = (k: keyof Omit<PerformanceCounts, 'interval'>) => pooled.reduce((s, w) => s + w[k], 0);
  const [labelled, positives, truePositives, scoreSum] = [sum('labelled'), sum('positives'), sum('truePositives'), sum('scoreSum')];
  const alertRate = n > 0 ? alerts / n : null;
  const baselineAlertRate = a.baseline.alertRate;
  const ref = a.reference;
  return {
    window: `monitoring interval ${a.step + 1}`,
    interval: a.step,
    cases: n,
    reference: { dataset: ref.dataset.name, sha256: ref.dataset.artifact.sha256, rows: ref.rows },
    data: a.data,
    performance: {
      current,
      windows: pooled.map((w) => w.interval),
      labelled,
      positives,
      truePositives,
      sensitivity: positives > 0 ? truePositives / positives : null,
      calibrationInTheLarge: labelled > 0 ? positives / labelled - scoreSum / labelled : null,
      baseline: { sensitivity: a.baseline.sensitivity, calibrationInTheLarge: ref.calibrationInTheLarge },
    },
    workflow: {
      alertRate,
      baselineAlertRate,
      alertRateRatio: alertRate !== null && baselineAlertRate !== null && baselineAlertRate > 0 ? alertRate / baselineAlertRate : null,
      overrideRate: a.overrideRate,
    },
  };
}

