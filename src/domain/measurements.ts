import type { ChangeClass } from './change-control';
import type { ChangeDimension } from './policy';

/** What activities measure. Judging these against the policy is a pure function (src/judging). */

export interface SnapshotMeasurement {
  policySha256: string;
  /** Provenance fields required but absent. */
  missingFields: string[];
  /** Referenced artifacts whose stored bytes do not hash to the pinned digest. */
  digestMismatches: string[];
  /** Class of the change against the incumbent under the policy's change control plan (decides the sign-offs). */
  changeClass?: ChangeClass;
  /** Dimensions that changed (or could not be compared) against the incumbent. */
  changed?: ChangeDimension[];
  /** When the acceptance criteria were registered and when the candidate was trained (pre-registration). */
  preRegistration?: { registeredAt: string; trainingStartedAt: string | null };
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

/** Train/evaluation (and tuning/evaluation) leakage: the verdict and each finding's reason; hashed details stay in the report. */
export interface LeakageOutcome {
  verdict: 'pass' | 'fail';
  /** Checks that ran, e.g. patient-overlap, duplicate-rows, single-feature. */
  checks: string[];
  findings: { check: string; reason: string }[];
  /** Checks that could not run, with why (e.g. no patient id column). */
  notRun: { check: string; reason: string }[];
}

export interface OfflineMeasurement {
  datasetSha256: string;
  n: number;
  positives: number;
  candidate: { auc: number | null; atThreshold: ArmStats };
  incumbent: { auc: number | null; atThreshold: ArmStats };
  criteria: CriterionOutcome[];
  /** Thresholds the counts were taken at, and the rule that set them. Absent in histories recorded before. */
  operatingPoint?: { rule: string; candidateThreshold: number; incumbentThreshold: number };
  /** Absent in histories recorded before leakage checks existed. */
  leakage?: LeakageOutcome;
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
  /** Operational signals of the canary arm; absent in histories recorded before they were measured. */
  errors?: { failed: number; requests: number };
  /** Data-quality anomalies in this interval's canary inputs (e.g. non-finite features). */
  dataQualityAnomalies?: string[];
  /** Cases whose outcome had not arrived by the analysis (they count for alerts, not for sensitivity). */
  unlabelled?: { treatment: number; comparator: number };
}
