// Evidence boundary: canonical JSON, the S3 client factory and the write-once evidence store.
export { canonicalBytes, sha256Hex } from './canonical-json';
export {
  pinnedPolicyDocument,
  policyDigest,
  policyDigestForm,
  requestPolicyDigest,
  type PolicyDigestForm,
} from './policy-digest';
export { createS3Client, type S3ClientConfig } from './s3-client';
export { EvidenceStore, contentKey, JSON_MEDIA_TYPE, type EvidenceStoreOptions, type Retention } from './store';
export {
  EvidenceError,
  EvidenceConflictError,
  EvidenceIntegrityError,
  EvidenceNotFoundError,
  EvidenceStorageError,
} from './errors';
export type { EvidenceRef } from '../domain/evidence';
