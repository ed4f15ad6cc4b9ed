// Attestations: in-toto Statement v1 in DSSE envelopes, Ed25519 signing behind a KMS-friendly interface.
export { type Signer, type Verifier, Ed25519Signer, PublicKeyVerifier, keyIdFor } from './signer';
export {
  pae,
  signEnvelope,
  verifyEnvelope,
  DsseEnvelopeSchema,
  IN_TOTO_PAYLOAD_TYPE,
  type DsseEnvelope,
  type EnvelopeVerification,
} from './dsse';
export {
  statement,
  candidateProvenanceStatement,
  evaluationStatement,
  approvalStatement,
  StatementSchema,
  SlsaProvenanceSchema,
  EvaluationPredicateSchema,
  ApprovalPredicateSchema,
  KNOWN_PREDICATES,
  STATEMENT_TYPE,
  SLSA_PROVENANCE_V1,
  VIGIL_EVALUATION_V1,
  VIGIL_APPROVAL_V1,
  VIGIL_CANDIDATE_BUILD_TYPE,
  type Statement,
  type Subject,
  type ResourceDescriptor,
  type SlsaProvenance,
  type EvaluationPredicate,
  type ApprovalPredicate,
  type CandidateProvenanceInput,
} from './statement';
export {
  signStatement,
  verifyAttestation,
  type AttestationVerification,
  type VerifyAttestationOptions,
} from './attest';
export { loadOrCreateDevKey, DevKeyError, DEV_KEY_FILE } from './dev-key';
