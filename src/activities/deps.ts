import type { EvidenceRef, RouteState } from '../domain';
import type { Logger } from '../logging/logger';
import type { SimCase } from '../sim/cohort';

/** The evidence store as activities see it (implemented by src/evidence over S3). */
export interface EvidencePort {
  putJson(value: unknown): Promise<EvidenceRef>;
  putBytes(bytes: Uint8Array, mediaType: string): Promise<EvidenceRef>;
  putNamed(key: string, value: unknown): Promise<EvidenceRef>;
  getBytes(key: string, expectedSha256?: string): Promise<Uint8Array>;
}

/** Where routing decisions take effect (the inference gateway reads this). */
export interface RouteControl {
  apply(modelName: string, routes: RouteState): Promise<void>;
}

/** Live traffic with outcomes: simulated until the gateway's telemetry replaces it. */
export interface TrafficSource {
  /** `window` names the observation window; the same window always yields the same cases. */
  cases(window: string, n: number): Promise<{ columns: readonly string[]; cases: SimCase[] }>;
}

export interface EnvironmentFingerprint {
  node: string;
  platform: string;
  arch: string;
  lockfileSha256: string | null;
}

export interface ActivityDeps {
  evidence: EvidencePort;
  routes: RouteControl;
  traffic: TrafficSource;
  environment: EnvironmentFingerprint;
  log: Logger;
}
