/**
 * Where SHADOW, CANARY and MONITORING measure live traffic: one `LiveSource`, chosen once when the worker starts
 * (VIGIL_LIVE_SOURCE, src/workers/create-worker.ts) and injected into the activity factory. Two implementations:
 * `simulated` (the worker's simulated world, src/activities/live-source/simulated.ts) and `gateway-telemetry`
 * (the inference gateway's telemetry segments, src/activities/live-source/gateway-telemetry.ts). Every
 * measurement a source returns, and every evidence record it writes, names the source.
 */
import type {
  ArmStats,
  DriftMeasurement,
  EvidenceRef,
  LiveMeasurement,
  MeasurementSource,
  PerformanceCounts,
  ReleaseRequest,
  ShadowMeasurement,
  TrafficScenario,
} from '../domain';

export type { MeasurementSource };

/** What a measuring activity returns: aggregates for the judge, and the evidence they were recorded in. */
export interface StageOutput<M> {
  measurement: M;
  artifacts: EvidenceRef[];
}

/** SHADOW: the candidate on mirrored production traffic, compared with production. */
export interface ObserveShadowInput {
  releaseId: string;
  request: ReleaseRequest;
  at: string;
}

/** One canary step's look, or one monitoring guardrail window. */
export interface ObserveLiveInput {
  releaseId: string;
  request: ReleaseRequest;
  mode: 'canary' | 'monitoring';
  step: number;
  percent: number;
  cases: number;
  /** Monitoring compares against the validated operating point; canary against the concurrent control arm. */
  baseline: ArmStats | null;
  at: string;
  /** Re-observation of an inconclusive step (0 = first look at it); absent in earlier histories. */
  extension?: number;
  /** 0-based live interval across the whole canary, for traffic whose world changes over time. */
  interval?: number;
  /** A drill's simulated world, applied on top of the worker's traffic (drills are always simulated). */
  scenario?: TrafficScenario;
}

/** One monitoring window's drift against the locked evaluation split (policy `monitoring.drift`). */
export interface ObserveDriftInput {
  releaseId: string;
  request: ReleaseRequest;
  /** 0-based monitoring interval: the same window (and traffic) observeLive measured. */
  step: number;
  cases: number;
  /** The validated operating point from OFFLINE_EVAL. */
  baseline: ArmStats;
  /** Labelled counts of the previous windows to pool with this one (at most windowsForPerformance − 1), oldest first. */
  recent: PerformanceCounts[];
  at: string;
}

/**
 * Live traffic measured for the live stages. Each method measures one window, writes its evidence record (which,
 * like the measurement, carries `source: kind`) and returns both; judging stays in the workflow.
 */
export interface LiveSource {
  readonly kind: MeasurementSource;
  /** SHADOW's window: agreement, κ, latency, missingness, input drift, the disagreement sample. */
  shadow(input: ObserveShadowInput): Promise<StageOutput<ShadowMeasurement>>;
  /**
   * A canary step or monitoring window per arm (treatment vs comparator). Per-cohort measurement belongs here:
   * both implementations build the arms in one function (`simulatedWindow` / `telemetryWindow`).
   */
  window(input: ObserveLiveInput): Promise<StageOutput<LiveMeasurement>>;
  /** A monitoring window's data, performance and workflow drift. */
  drift(input: ObserveDriftInput): Promise<StageOutput<DriftMeasurement>>;
}
