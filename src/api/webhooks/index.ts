// Webhook intake: signed git/data-refresh/generic deliveries → idempotent release starts.
export { createWebhookRoutes, WEBHOOK_DEFAULTS, type WebhookDeps, type WebhookSecrets } from './routes';
export { InMemoryDeliveryLedger, type DeliveryLedger, type LedgerEntry } from './ledger';
export { PgDeliveryLedger } from './pg-ledger';
export {
  decideConcurrentCandidate,
  InMemoryReleaseQueue,
  SUPERSEDABLE_STAGES,
  SupersedeNotSupportedError,
  unsupportedSuperseder,
  temporalSuperseder,
  type ConcurrencyPolicy,
  type ConcurrentDecision,
  type InFlightRelease,
  type QueuedRelease,
  type ReleaseQueue,
  type ReleaseSuperseder,
} from './concurrency';
export {
  branchMatches,
  fillTemplate,
  loadWebhookConfig,
  modelsForPush,
  parseWebhookConfig,
  WebhookConfigError,
  type ModelWebhookConfig,
  type WebhookConfig,
} from './config';
export { evidenceArtifactResolver, type ArtifactResolver, type EvidenceReader } from './resolver';
export { webhookDepsFromConfig } from './wiring';
// Signing is a shared service (the worker's notifications sign too); the webhook surface re-exports it for senders.
export {
  signGitHub,
  signVigil,
  verifyGitHubSignature,
  verifyGitLabToken,
  verifyVigilSignature,
} from '../../services/webhook-signatures';
