/** The SHADOW stage's evidence record kinds and the disagreement sample's shape (shared by both shadow sources). */
import type { DisagreementCase, MeasurementSource, ShadowMeasurement } from '../domain';

export const SHADOW_DISAGREEMENTS_KIND = 'vigil.shadow-disagreements/v1';
export const ADJUDICATION_KIND = 'vigil.adjudication/v1';
export const SHADOW_ADJUDICATION_KIND = 'vigil.shadow-adjudication/v1';

/** The disagreement sample as stored (and shown to reviewers). */
export interface DisagreementSample {
  kind: typeof SHADOW_DISAGREEMENTS_KIND;
  releaseId: string;
  at: string;
  /** The live source the cases come from (absent in samples recorded before sources were named: simulated). */
  source?: MeasurementSource;
  threshold: number;
  /**
   * How case ids were pseudonymised: HMAC-SHA256 keyed per release (simulated traffic), so samples of two releases
   * do not link; or the gateway's own telemetry hash (one key for every release, as in its telemetry segments).
   */
  caseIdHash: string;
  features: string[];
  strata: NonNullable<ShadowMeasurement['disagreements']>['strata'];
  cases: DisagreementCase[];
}
