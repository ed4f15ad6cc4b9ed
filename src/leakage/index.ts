/** Train/evaluation leakage checks; a detected leak, or a required check that cannot run, fails the gate. */
export {
  hashPatientId,
  LeakageInputError,
  leakageVerdict,
  patientOverlap,
  type LeakageCheck,
  type LeakageFinding,
  type LeakageVerdict,
} from './checks';
export { DEFAULT_MAX_FEATURE_AUC, labelProxies, type LabelProxyInput } from './label-proxy';
export {
  duplicateFinding,
  duplicateStats,
  NEAR_RTOL,
  type DuplicateStats,
  type FeatureMatrix,
} from './near-duplicates';
export { comparablePatientIds, normalisePatientId } from './patient-ids';
export { siteHeldOut, temporalOrder } from './split-design';
export { checkLeakage, leakageColumns, type LeakageResult, type LeakageTable } from './splits';
