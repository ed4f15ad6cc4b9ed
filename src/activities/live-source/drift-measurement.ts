import type { ArmStats, DatasetRef, DriftMeasurement, MeasurementSource, PerformanceCounts } from '../../domain';

/** The locked reference as drift needs it: per-feature columns and declared bins, the site mix, the candidate's calibration. */
export interface Reference {
  dataset: DatasetRef;
  rows: number;
  columns: Map<string, number[]>;
  edges: Map<string, number[]>;
  sites: string[] | null;
  calibrationInTheLarge: number | null;
  /** The candidate's score and the label of each row (monitoring's validated figures per cohort). */
  scores?: ArrayLike<number>;
  labels?: ArrayLike<number>;
}

/** A window's labelled counts and alert burden, from each case's score and label (1, 0, or −1: no outcome yet). */
export interface WindowCounts {
  current: PerformanceCounts;
  cases: number;
  alerts: number;
}

export function countCases(
  step: number,
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  threshold: number,
): WindowCounts {
  const current: PerformanceCounts = { interval: step, labelled: 0, positives: 0, truePositives: 0, scoreSum: 0 };
  let alerts = 0;
  for (let i = 0; i < scores.length; i++) {
    const alert = scores[i]! >= threshold;
    if (alert) alerts++;
    if (labels[i] === -1) continue;
    current.labelled++;
    current.scoreSum += scores[i]!;
    if (labels[i] === 1) {
      current.positives++;
      if (alert) current.truePositives++;
    }
  }
  return { current, cases: scores.length, alerts };
}

/**
 * The window's measurement, whatever the traffic source: labelled counts of this window pooled with the previous
 * windows the workflow carried, alert burden against the validated baseline, the data drift found.
 */
export function driftMeasurement(a: {
  source: MeasurementSource;
  step: number;
  recent: readonly PerformanceCounts[];
  baseline: ArmStats;
  reference: Reference;
  counts: WindowCounts;
  data: DriftMeasurement['data'];
  overrideRate: number | null;
}): DriftMeasurement {
  const { current, cases: n, alerts } = a.counts;
  const pooled = [...a.recent.filter((r) => r.interval < a.step), current];
  const sum = (k: keyof Omit<PerformanceCounts, 'interval'>) => pooled.reduce((s, w) => s + w[k], 0);
  const [labelled, positives, truePositives, scoreSum] = [
    sum('labelled'),
    sum('positives'),
    sum('truePositives'),
    sum('scoreSum'),
  ];
  const alertRate = n > 0 ? alerts / n : null;
  const baselineAlertRate = a.baseline.alertRate;
  const ref = a.reference;
  return {
    source: a.source,
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
      alertRateRatio:
        alertRate !== null && baselineAlertRate !== null && baselineAlertRate > 0
          ? alertRate / baselineAlertRate
          : null,
      overrideRate: a.overrideRate,
    },
  };
}

/**
 * The opening fields of a `vigil.monitoring-drift/v1` record, whatever the traffic source: which window, which
 * traffic, which locked reference, at which operating threshold. Each source adds its aggregates after these.
 */
export function driftRecordHead(
  input: { releaseId: string; at: string; step: number },
  source: MeasurementSource,
  trafficWindow: unknown,
  ref: Reference,
  threshold: number,
) {
  return {
    kind: 'vigil.monitoring-drift/v1',
    releaseId: input.releaseId,
    at: input.at,
    source,
    trafficWindow,
    step: input.step,
    reference: {
      role: ref.dataset.role,
      name: ref.dataset.name,
      key: ref.dataset.artifact.key,
      sha256: ref.dataset.artifact.sha256,
      rows: ref.rows,
    },
    threshold,
  };
}
