// Releases from local files: the release file checked offline, what it uploads, and the policy file reader.
export { LocalEvidence } from './local-evidence';
export { loadPolicyFile, PolicyFileError } from './policy-file';
export { planRelease, ReleaseFileError, type PlannedUpload, type ReleasePlan, type ScoreCheck } from './plan';
export { hasObject, listObjects, uploadMissing, type StoredObject, type UploadProgress } from './upload';
export { scaffoldRelease, type Scaffold, type ScaffoldOptions } from './scaffold';
export {
  planRegistration,
  registerModel,
  UNRECORDED_COMMIT,
  type RegisterOptions,
  type RegistrationPlan,
  type RegistrationResult,
} from './register';
