/**
 * What post-release drift surveillance measures per monitoring window (src/activities/drift.ts) and the pure
 * judge reads (src/judging/drift.ts). Aggregates only: the per-bin tables and the window's traffic identity are in
 * the `vigil.monitoring-drift/v1` evidence record, never case-level data in history.
 */
import type { EvidenceRef } from './evidence';
import type { MeasurementSource } from './measurements';
import type { Decision } from './stages';

/** One feature of the window compared with the locked evaluation split. */
export interface FeatureDrift {
  feature: string;
  kind: 'numeric' | 'categorical';
  /** Population Stability Index on bins declared from the reference (numeric: its deciles; categorical: categories). */
  psi: number;
  /**
   * Two-sample Kolmogorov-Smirnov (numeric) or chi-square homogeneity (categorical); Fisher's exact test for a discrete
   * input with two cells (since issue #22: Pearson's size is α itself there, the exact test's at most α).
   */
  test: 'ks' | 'chi-square' | 'fisher-exact';
  statistic: number;
  /** Unadjusted; the judge Holm-adjusts over every test of the window (all features plus the site mix). */
  pValue: number;
  /** Chi-square only. */
  df?: number;
  /**
   * The feature's type as measured (card-declared or inferred from the reference; issue #22). Present in
   * measurements that judge PSI with its sampling distribution: then `psiPValue` gates the PSI bound and the window
   * must hold at least the policy's minimum number of cases. Absent in older measurements (PSI bound alone).
   */
  featureType?: 'continuous' | 'binary' | 'count' | 'categorical';
  /** Pearson χ² p-value on the PSI's own cells (null: too few cases for two cells); joins the Holm family. */
  psiPValue?: number | null;
}

/** Labelled outcomes of one window, for pooled performance drift (carried by the workflow between windows). */
export interface PerformanceCounts {
  /** 0-based monitoring interval. */
  interval: number;
  /** Cases whose outcome had arrived. */
  labelled: number;
  positives: number;
  truePositives: number;
  /** Σ candidate risk over the labelled cases (calibration-in-the-large = positives/labelled − scoreSum/labelled). */
  scoreSum: number;
}

export interface DriftMeasurement {
  /** The live source that measured it; absent in histories recorded before sources were named. */
  source?: MeasurementSource;
  window: string;
  interval: number;
  cases: number;
  /** The locked validation reference: the release request's evaluation split. */
  reference: { dataset: string; sha256: string; rows: number };
  data: {
    features: FeatureDrift[];
    /** Features the window or the reference lacks (not compared), with why. */
    notCompared: string[];
  };
  performance: {
    /** This window's labelled counts (the workflow keeps the last few for the next windows). */
    current: PerformanceCounts;
    /** Intervals pooled, oldest first (the current one last). */
    windows: number[];
    labelled: number;
    positives: number;
    truePositives: number;
    sensitivity: number | null;
    calibrationInTheLarge: number | null;
    /** The validated operating point (OFFLINE_EVAL) and the candidate's calibration on the evaluation split. */
    baseline: { sensitivity: number | null; calibrationInTheLarge: number | null };
  };
  workflow: {
    alertRate: number | null;
    baselineAlertRate: number | null;
    alertRateRatio: number | null;
    /** Clinician overrides of alerts: null until a gateway-fed traffic source measures them. */
    overrideRate: number | null;
  };
}

/** What the monitoring child carries across continue-as-new when the policy has `monitoring.drift`. */
export interface DriftCarry {
  /** Performance counts of the latest windows (at most windowsForPerformance − 1), oldest first. */
  recent: PerformanceCounts[];
  /** First interval of the ongoing drift episode; null when the last judged window showed no drift. */
  episodeSince: number | null;
  /** Windows in which drift was detected so far. */
  detectedWindows: number;
  /** "Revalidation required" notices recorded so far. */
  notices: number;
  last: Decision | null;
}

/** Drift ended surveillance with "revalidation required" (onDrift: revalidate); the release stays in service. */
export interface RevalidationOutcome {
  /** 0-based monitoring interval in which drift was detected. */
  interval: number;
  reason: string;
  /** The new release queued (attempt + 1), or null when queueing failed (the reason says why). */
  queuedReleaseId: string | null;
  /** Drift record, notification and queue request. */
  evidence: EvidenceRef[];
}

/** The monitoring child's `monitoringStatus` drift fields (present only with `monitoring.drift`). */
export interface MonitoringDriftStatus {
  onDrift: 'notify' | 'revalidate' | 'rollback';
  last: Decision | null;
  detectedWindows: number;
  episodeSince: number | null;
  notices: number;
  revalidation: RevalidationOutcome | null;
}
