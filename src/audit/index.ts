// Audit: re-derive a release's record from primary evidence (chain, artifacts, histories, builds).
export {
  auditRelease,
  verifyEvidence,
  type AuditCheck,
  type AuditDeps,
  type AuditReport,
  type CheckId,
  type TemporalHistorySource,
} from './audit';
export { buildIdFor, bundleCodeOf, temporalHistoryPort, workerBuild } from './build';
export { nestedRefs, verifyChain, type ChainVerification, type Finding, type VerifiedEntry } from './chain';
export { chainWritesMatch, recomputeDecisions, type DecisionCheck } from './decisions';
export { completedActivities, describeRun, firstDifferingEvent, parseHistory, type RunHistory } from './history';
export { inspectObject, type Expectation, type ObjectReport, type ObjectState } from './objects';
export {
  EvidenceUnreadableError,
  MemoryEvidenceReader,
  S3EvidenceReader,
  type EvidenceReader,
  type ObjectVersion,
} from './reader';
export { replayAgainst } from './replay';
export { formatChecks, formatMeasured, renderAuditHtml } from './report';
export { checkActAuthentications, collectSignatures, type SignatureManifestation } from './signature-manifestations';
