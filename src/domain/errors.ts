/**
 * Business failure types carried by ApplicationFailure across the Temporal boundary.
 * Bugs stay plain errors; these are the reasons a person can act on.
 */
export const ErrorType = {
  InvalidRequest: 'VigilInvalidRequest',
  ProvenanceIncomplete: 'VigilProvenanceIncomplete',
  DigestMismatch: 'VigilDigestMismatch',
  EvidenceConflict: 'VigilEvidenceConflict',
  EvidenceIntegrity: 'VigilEvidenceIntegrity',
  NotAwaitingApproval: 'VigilNotAwaitingApproval',
  ReleaseFinished: 'VigilReleaseFinished',
  StaleDigest: 'VigilStaleDigest',
  RoleNotRequired: 'VigilRoleNotRequired',
  RoleAlreadySigned: 'VigilRoleAlreadySigned',
  DuplicateSigner: 'VigilDuplicateSigner',
  SelfApproval: 'VigilSelfApproval',
  InvalidArtifact: 'VigilInvalidArtifact',
  NotSupersedable: 'VigilNotSupersedable',
  /** A withdrawal names a signer with no approval on this release. */
  NoApprovalToWithdraw: 'VigilNoApprovalToWithdraw',
  AlreadyWithdrawn: 'VigilAlreadyWithdrawn',
  /** This process lacks a dependency the activity needs (e.g. a worker without a Temporal client). */
  NotConfigured: 'VigilNotConfigured',
  /** An adjudication arrived while the shadow stage is not collecting them. */
  NotAdjudicating: 'VigilNotAdjudicating',
  /** An adjudication names a sample id that is not in the release's disagreement sample. */
  UnknownSample: 'VigilUnknownSample',
  /** This reviewer has already adjudicated this sampled case. */
  AlreadyAdjudicated: 'VigilAlreadyAdjudicated',
  /** A canary decision arrived while the canary is not held for one. */
  NotAwaitingCanaryDecision: 'VigilNotAwaitingCanaryDecision',
} as const;
export type ErrorType = (typeof ErrorType)[keyof typeof ErrorType];

/** Failure types that retrying cannot fix. */
export const NON_RETRYABLE_ERROR_TYPES: ErrorType[] = [
  ErrorType.InvalidRequest,
  ErrorType.DigestMismatch,
  ErrorType.EvidenceConflict,
  ErrorType.EvidenceIntegrity,
  ErrorType.InvalidArtifact,
];
