import type { Signer } from '../attestation/signer';
import type { LiveSource } from '../contracts/live-source';
import type {
  EnvironmentFingerprint,
  EvidencePort,
  HistoryPort,
  NotifyPort,
  RouteControl,
  WorkerBuild,
} from '../contracts/ports';
import type { WorkflowClientPort } from '../contracts/temporal-clients';
import type { TrafficSource } from '../contracts/traffic';
import type { Logger } from '../logging/logger';

/** What every activity factory is built from: the ports (src/contracts) wired to real clients or test fakes. */
export interface ActivityDeps {
  evidence: EvidencePort;
  routes: RouteControl;
  traffic: TrafficSource;
  environment: EnvironmentFingerprint;
  log: Logger;
  /** The system key: signs each e-signature record and the release's attestations as DSSE envelopes (src/attestation). */
  signer: Signer;
  /** Approval reminders and escalations also go out as a signed webhook when set (VIGIL_NOTIFY_URL). */
  notifier?: NotifyPort;
  /** Set by createVigilWorker, which has the Temporal connection and the workflow bundle. */
  history?: HistoryPort;
  build?: WorkerBuild;
  /** Starts queued releases and watches them close (the release queue); set by createVigilWorker. */
  temporal?: WorkflowClientPort;
  /**
   * Where SHADOW, CANARY and MONITORING measure live traffic, chosen once at start-up (VIGIL_LIVE_SOURCE,
   * src/workers/create-worker.ts); absent: the simulated world of `traffic`. Drills always use the simulated one.
   */
  live?: LiveSource;
}
