/** Train/evaluation leakage checks; a detected leak fails the gate. */
export {
  duplicateRows,
  featureRowDigests,
  hashPatientId,
  LeakageInputError,
  leakageVerdict,
  patientOverlap,
  singleFeatureLeakage,
  type LeakageCheck,
  type LeakageFinding,
  type LeakageVerdict,
  type SingleFeatureOptions,
} from './checks';
export { checkLeakage, type LeakageResult } from './splits';
