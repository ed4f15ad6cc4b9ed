/**
 * Ports: the interfaces through which activities, the API, the UI, the gateway and the tools reach the outside
 * world. They live here, beside src/domain, so every layer can name them without importing the code that
 * implements or uses them (src/evidence, src/gateway, src/workers, src/activities).
 */
import type { EvidenceRef, RouteState } from '../domain';

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
  /** The model's live table (null: none set yet); SNAPSHOT checks the declared incumbent against its production. */
  current(modelName: string): Promise<Pick<RouteState, 'production'> | null>;
}

/** The worker's runtime, recorded at SNAPSHOT (src/workers/environment.ts measures it). */
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

/**
 * Where notifications go besides the evidence store: an HMAC-signed webhook (X-Vigil-Signature,
 * src/services/webhook-signatures.ts; `WebhookNotifier` in src/activities/notify.ts).
 */
export interface NotifyPort {
  deliver(body: Uint8Array, deliveryId: string): Promise<void>;
}
