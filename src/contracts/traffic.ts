/** Live traffic with outcomes, as the live stages' simulated source reads it (src/sim implements it). */

/** One case of live traffic: its features, the slice attributes and the outcome. */
export interface SimCase {
  caseId: string;
  /** Hashed (HMAC-SHA256, hex) patient id; one case per simulated patient, distinct across seeds. */
  patientId: string;
  site: string;
  sex: string;
  ageBand: string;
  features: number[];
  label: 0 | 1;
  /** What the candidate's own feature pipeline delivers when it differs from `features` (a simulated fault). */
  candidateFeatures?: number[];
  /** False while the outcome has not arrived (delayed ground truth); absent = arrived. */
  labelled?: boolean;
}

/** Live traffic with outcomes: simulated until the gateway's telemetry replaces it. */
export interface TrafficSource {
  /**
   * `window` names the observation window; the same window always yields the same cases. `interval` is the
   * 0-based canary/monitoring interval (absent in the shadow period), for sources whose world changes over time.
   */
  cases(window: string, n: number, interval?: number): Promise<{ columns: readonly string[]; cases: SimCase[] }>;
}
