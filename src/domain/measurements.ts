/** What activities measure. Judging these against the policy is a pure function (src/judging). */

export interface SnapshotMeasurement {
  policySha256: string;
  /** Provenance fields required but absent. */
  missingFields: string[];
  /** Referenced artifacts whose stored bytes do not hash to the pinned digest. */
  digestMismatches: string[];
}

/** Operating-point summary of one model on one set of cases. */
export interface ArmStats {
  n: number;
  positives: number;
  truePositives: number;
  negatives: number;
  trueNegatives: number;
  alerts: number;
  /** null when there are no positives: undefined, not zero. */
  sensitivity: number | null;
  specificity: number | null;
  alertRate: number | null;
}

/** One pre-registered criterion's result: the full per-slice numbers stay in the evaluation report. */
export interface CriterionOutcome {
  id: string;
  kind: string;
  metric: string;
  status: 'pass' | 'fail' | 'insufficient';
  reason: string;
  /** Slices that failed or had insufficient data, e.g. "site=site-c". */
  failingSlices: string[];
}

export interface OfflineMeasurement {
  datasetSha256: string;
  n: number;
  positives: number;
  candidate: { auc: number | null; atThreshold: ArmStats };
  incumbent: { auc: number | null; atThreshold: ArmStats };
  criteria: CriterionOutcome[];
}

export interface ShadowMeasurement {
  cases: number;
  agreements: number;
  agreement: number | null;
  meanAbsScoreDifference: number | null;
  candidate: ArmStats;
  production: ArmStats;
}

/** Canary: treatment = candidate arm, comparator = concurrent control arm. Monitoring: comparator = validated baseline. */
export interface LiveMeasurement {
  window: string;
  treatment: ArmStats;
  comparator: ArmStats;
}
