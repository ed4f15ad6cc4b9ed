import type { Signer } from '../attestation/signer';
import type { EvidenceRef, RouteState } from '../domain';
import type { Logger } from '../logging/logger';
import type { SimCase } from '../sim/cohort';
import type { LiveTelemetryPort, TelemetryWindowReader } from '../telemetry/live-source';
import type { NotifyPort } from './notify';
import type { WorkflowClientPort } from './queue';

/** The evidence store as activities see it (implemented by src/evidence over S3). */
export interface EvidencePort {
  putJson(value: unknown): Promise<EvidenceRef>;
  putBytes(bytes: Uint8Array, mediaType: string): Promise<EvidenceRef>;
  putNamed(key: string, value: unknown): Promise<EvidenceRef>;
  getBytes(key: string, expectedSha256?: string): Promise<Uint8Array>;
}

/** Where routing decisions take effect (the inference gateway reads this). */
export interface RouteControl {
  /**
   * Make `routes` the model's live table. `revision` (`<releaseId>#<release-local version>`) names the change:
   * the store numbers tables per model, so versions keep moving forward across releases, and a retried
   * activity with the same revision changes nothing.
   */
  apply(modelName: string, routes: RouteState, revision?: string): Promise<void>;
}

/** Live traffic with outcomes: simulated until the gateway's telemetry replaces it. */
export interface TrafficSource {
  /**
   * `window` names the observation window; the same window always yields the same cases. `interval` is the
   * 0-based canary/monitoring interval (absent in the shadow period), for sources whose world changes over time.
   */
  cases(window: string, n: number, interval?: number): Promise<{ columns: readonly string[]; cases: SimCase[] }>;
}

export interface EnvironmentFingerprint {
  node: string;
  platform: string;
  arch: string;
  lockfileSha256: string | null;
  /** onnxruntime-node version the worker scores ONNX models with (null when not installed). */
  onnxruntime?: string | null;
}

/** Reads a workflow's history so far from Temporal, as `historyToJSON` text (the worker wires it). */
export interface HistoryPort {
  fetch(workflowId: string, runId: string): Promise<string>;
}

/** The workflow code this worker runs: recorded with every archived history so audits replay against it. */
export interface WorkerBuild {
  buildId: string;
  sdkVersion: string;
  bundleSha256: string;
  bundleCode: () => Promise<string>;
}

export interface ActivityDeps {
  evidence: EvidencePort;
  routes: RouteControl;
  traffic: TrafficSource;
  environment: EnvironmentFingerprint;
  log: Logger;
  /** The system key: signs each e-signature record and the release's attestations as DSSE envelopes (src/attestation). */
  signer: Signer;
  /** Approval reminders and escalations also go out as a signed webhook when set (VIGIL_NOTIFY_URL). */
  notifier?: NotifyPort;
  /** Set by createVigilWorker, which has the Temporal connection and the workflow bundle. */
  history?: HistoryPort;
  build?: WorkerBuild;
  /** Starts queued releases and watches them close (the release queue); set by createVigilWorker. */
  temporal?: WorkflowClientPort;
  /** Canary and monitoring measured from the gateway's telemetry instead of `traffic` (VIGIL_LIVE_SOURCE=telemetry). */
  live?: LiveTelemetryPort;
  /**
   * SHADOW measured from the gateway's telemetry instead of `traffic` (VIGIL_LIVE_SOURCE=telemetry): the shadow
   * window's segments. Set together with `live` (one TelemetryLiveSource serves both).
   */
  telemetry?: TelemetryWindowReader;
}
