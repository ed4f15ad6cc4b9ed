import type { ChangeClass } from './change-control';
import type { EvidenceRef } from './evidence';
import type { AdjudicationTally, DisagreementDirection } from './shadow-adjudication';
import type { ChangeDimension } from './policy';

/** What activities measure. Judging these against the policy is a pure function (src/judging). */

export interface SnapshotMeasurement {
  /** The pinned policy digest: of the policy as written, or (releases before it was kept) of the effective policy. */
  policySha256: string;
  /**
   * 'as-written' when `policySha256` is of the document the author wrote; absent in releases that pinned the
   * effective policy. `effectivePolicySha256` is the digest of the policy judged (defaults made explicit).
   */
  policyDigestOf?: 'as-written';
  effectivePolicySha256?: string;
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
  /**
   * The incumbent the release declares and the version the route store serves as production (null: the model has
   * no route table yet, e.g. before `vigil model register`). A release must replace what production serves.
   */
  production?: { declared: string; serving: string | null };
  /** How each evaluation/training dataset's labels were made (lineage `labelSource`), for the record. */
  labelSources?: { dataset: string; kind: string }[];
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

/** Where a live measurement came from: the worker's simulated world or the inference gateway's telemetry. */
export type MeasurementSource = 'simulated' | 'gateway-telemetry';

export interface ShadowMeasurement {
  /** The live source that measured it; absent in histories recorded before sources were named. */
  source?: MeasurementSource;
  /** The activity attempt that took it (1: the first); absent in histories recorded before it was. */
  attempt?: number;
  cases: number;
  agreements: number;
  agreement: number | null;
  meanAbsScoreDifference: number | null;
  candidate: ArmStats;
  production: ArmStats;
  // Everything below is absent in histories recorded before the clinical shadow measurement existed.
  /** Cohen's κ of the two models' alerts; null when undefined (both made one and the same call on every case). */
  kappa?: number | null;
  /** Correlation of the two models' scores; null when either is constant. */
  correlation?: { pearson: number | null; spearman: number | null };
  /** Wall-clock time of each scoring call (one case per call), measured around the scorer; milliseconds. */
  latencyMs?: { candidate: LatencySummary; production: LatencySummary };
  /** Cases a model failed to score (they are left out of every statistic above). */
  errors?: { candidate: number; production: number; cases: number };
  /** Non-finite input values per feature (as the candidate received them). */
  missing?: Record<string, number>;
  /** Input drift against the locked evaluation dataset of the release. */
  drift?: ShadowDrift;
  /** Disagreements at the threshold and the stratified sample written for adjudication (evidence only). */
  disagreements?: {
    candidateOnly: number;
    productionOnly: number;
    sampled: number;
    sample: EvidenceRef | null;
    strata: { site: string; direction: DisagreementDirection; available: number; sampled: number }[];
  };
  /** Tally of the clinical adjudication the gate waited for (closeShadowReview). */
  adjudication?: AdjudicationTally;
  // Present only when the shadow was measured from the inference gateway's telemetry (VIGIL_LIVE_SOURCE=telemetry).
  /**
   * How much of production the gateway mirrored: the incumbent's production predictions in the window, those
   * with the candidate's shadow prediction of the same request (same case, instant and route-table version) —
   * the `cases` compared above — and those without one (mirror dropped, failed or timed out; or made before the
   * gateway adopted the shadow route). `orphanShadow`: shadow predictions with no production partner;
   * `invalidScores`: pairs left out of every statistic because a score was not a finite number.
   */
  /** Whether every gateway's telemetry for the window had arrived (gateway-fed only). */
  completeness?: WindowCompleteness;
  /** `failed`: mirrors the gateway recorded as failed or timed out (the rest of `unpaired` were dropped under backpressure or not recorded). */
  mirror?: {
    production: number;
    paired: number;
    unpaired: number;
    coverage: number | null;
    orphanShadow: number;
    invalidScores: number;
    failed?: number;
  };
  /** Gateway input-quality flags (e.g. missing_value, out_of_range) on the compared production requests, by flag. */
  inputQuality?: { requests: number; flags: Record<string, number> };
  /** What this source cannot measure, with why (e.g. drift: telemetry events carry no feature values). */
  notMeasured?: Partial<Record<'drift' | 'missing' | 'errors', string>>;
}

export interface LatencySummary {
  calls: number;
  /** Cases per call. */
  batchSize: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export interface ShadowDrift {
  reference: { dataset: string; sha256: string; rows: number };
  /**
   * Per model input feature in both the reference and the traffic: PSI and two-sample KS. Since issue #22 also the
   * feature's type and `psiPValue`, the χ² on the PSI's cells (discrete inputs: exact value counts; continuous:
   * reference deciles) that gates the PSI bound; absent in older measurements (PSI bound alone, on deciles).
   */
  features: {
    feature: string;
    psi: number;
    ks: number;
    ksPValue: number;
    n: number;
    featureType?: 'continuous' | 'binary' | 'count' | 'categorical';
    psiPValue?: number | null;
  }[];
  /** Features in the traffic whose drift could not be measured, with why (e.g. a sketch too coarse for the feature). */
  notCompared?: string[];
  /** Site mix against the reference (chi-square test of homogeneity); null when the reference has no site column. */
  site: { chiSquare: number; df: number; pValue: number; psi: number } | null;
}

/** Canary: treatment = candidate arm, comparator = concurrent control arm. Monitoring: comparator = validated baseline. */
/**
 * Whether a telemetry window was whole when it was measured: every gateway alive in it had uploaded past its
 * end (its upload watermark). `complete: false` = a gateway lagged or died with events in its local WAL, so
 * the window missed them; `null` = no gateway publishes watermarks (cannot tell). Gateway-fed measurements only.
 */
export interface WindowCompleteness {
  complete: boolean | null;
  /** Gateways whose watermarks were judged. */
  gateways: number;
  /** Of which had not uploaded past the window's end when the measurement stopped waiting. */
  lagging: number;
  /** How long the measurement waited for them, milliseconds. */
  waitedMs: number;
}

export interface LiveMeasurement {
  /** The live source that measured it; absent in histories recorded before sources were named. */
  source?: MeasurementSource;
  /** The activity attempt that took it (1: the first); absent in histories recorded before it was. */
  attempt?: number;
  /** Gateway-fed windows: whether every gateway's telemetry for the window had arrived (absent: simulated, or earlier histories). */
  completeness?: WindowCompleteness;
  window: string;
  treatment: ArmStats;
  comparator: ArmStats;
  /** Operational signals of the canary arm; absent in histories recorded before they were measured. */
  errors?: { failed: number; requests: number };
  /** Data-quality anomalies in this interval's canary inputs (e.g. non-finite features). */
  dataQualityAnomalies?: string[];
  /** Clinician overrides of the treatment arm's alerts in this interval (gateway-fed measurements only). */
  overrides?: { overridden: number; alerts: number };
  /** 99th percentile latency of the treatment arm in this interval, milliseconds (gateway-fed only). */
  latencyP99Ms?: number | null;
  /** Cases whose outcome had not arrived by the analysis (they count for alerts, not for sensitivity). */
  unlabelled?: { treatment: number; comparator: number };
  /**
   * The same two arms per cohort, keyed "<attribute>=<level>" (e.g. "site=site-b"), for the attributes the policy
   * guards; cases without the attribute are counted under "<attribute>=(none)". Absent in earlier histories.
   */
  cohorts?: Record<string, CohortArms>;
}

/** One cohort's two arms in one interval (canary vs control, or released model vs its validated figures). */
export interface CohortArms {
  treatment: ArmStats;
  comparator: ArmStats;
}

/**
 * How a stage decision's measurement was taken, as fields (status, UI, dossier, audit show them beside the decision):
 * the live source, whether its telemetry window was complete, how much of production the gateway mirrored (SHADOW
 * from telemetry), and the activity attempt that took it.
 */
export interface MeasuredBy {
  source: MeasurementSource;
  /** Telemetry windows only. */
  completeness?: WindowCompleteness;
  /** SHADOW from telemetry: production predictions with the candidate's mirrored prediction, as a share (null: none). */
  mirrorCoverage?: number | null;
  /** Attempts the measuring activity took (1: the first try succeeded). */
  attempts?: number;
}
