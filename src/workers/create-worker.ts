import { Client } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { S3Client } from '@aws-sdk/client-s3';
import {
  createActivities,
  gatewayTelemetryLiveSource,
  simulatedLiveSource,
  WebhookNotifier,
  type ActivityDeps,
  type LiveSource,
} from '../activities';
import type { TrafficSource } from '../contracts/traffic';
import { bundleCodeOf, temporalHistoryPort, workerBuild } from '../audit/build';
import { loadOrCreateDevKey } from '../attestation/dev-key';
import type { VigilConfig } from '../config';
import { ORCHESTRATION_TASK_QUEUE } from '../domain/messages';
import { createS3Client, EvidenceStore } from '../evidence';
import { S3RouteStore } from '../gateway/route-store';
import type { Logger } from '../logging/logger';
import { SimulatedTraffic } from '../sim/traffic';
import { S3WatermarkStore, TelemetryLiveSource, TelemetryReader } from '../telemetry';
import { environmentFingerprint } from './environment';

/**
 * The live stages' source, chosen once here (VIGIL_LIVE_SOURCE): the gateway's telemetry segments, each read after
 * every gateway's upload watermark passed the window's end (VIGIL_TELEMETRY_WAIT_MS), or the simulated world.
 */
export function liveSourceFor(
  config: VigilConfig,
  clients: { s3: S3Client; evidence: EvidenceStore; traffic: TrafficSource },
): LiveSource {
  const { s3, evidence, traffic } = clients;
  if (config.liveSource !== 'gateway-telemetry') return simulatedLiveSource({ evidence, traffic });
  const telemetry = new TelemetryLiveSource(new TelemetryReader(s3, config.s3.bucket, evidence), evidence, undefined, {
    store: new S3WatermarkStore(s3, config.s3.bucket),
    maxWaitMs: config.telemetryWaitMs,
  });
  return gatewayTelemetryLiveSource({ evidence, telemetry });
}

/** Real clients for the activities, from configuration. */
export async function realActivityDeps(config: VigilConfig, log: Logger): Promise<ActivityDeps> {
  const s3 = createS3Client(config.s3);
  const evidence = new EvidenceStore({ s3, bucket: config.s3.bucket, retention: config.retention });
  const traffic = new SimulatedTraffic(config.trafficScenario ?? undefined);
  const live = liveSourceFor(config, { s3, evidence, traffic });
  log.info({ liveSource: live.kind }, 'live source chosen');
  return {
    evidence,
    routes: new S3RouteStore(s3, config.s3.bucket),
    traffic,
    environment: await environmentFingerprint(),
    log,
    signer: loadOrCreateDevKey(config.signingKeyDir).signer,
    ...(config.notify ? { notifier: new WebhookNotifier(config.notify.url, config.notify.secret) } : {}),
    live,
  };
}

export interface VigilWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  deps: ActivityDeps;
  taskQueue?: string;
  /** A pre-built bundle (production image, tests); otherwise the workflows are bundled at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Payload encryption (src/codec), when configured. */
  dataConverter?: WorkerOptions['dataConverter'];
}

export async function createVigilWorker(opts: VigilWorkerOptions): Promise<Worker> {
  // Bundled here rather than inside Worker.create so the code that runs is known and archived with histories.
  const code = opts.workflowBundle
    ? await bundleCodeOf(opts.workflowBundle)
    : (await bundleWorkflowCode({ workflowsPath: require.resolve('../workflows') })).code;
  // With the payload codec, so releases the queue starts carry encrypted arguments like the API's.
  const client = new Client({
    connection: opts.connection,
    namespace: opts.namespace,
    ...(opts.dataConverter ? { dataConverter: opts.dataConverter } : {}),
  });
  const history = opts.deps.history ?? temporalHistoryPort(client);
  const build = opts.deps.build ?? workerBuild(code);
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue ?? ORCHESTRATION_TASK_QUEUE,
    workflowBundle: { code },
    ...(opts.dataConverter ? { dataConverter: opts.dataConverter } : {}),
    // Stamped on every workflow task in history: names the exact bundle archived with the history.
    buildId: build.buildId,
    activities: createActivities({ ...opts.deps, history, build, temporal: opts.deps.temporal ?? client }),
    // An activity that never returns must not hold shutdown forever.
    shutdownForceTime: '10 seconds',
  });
}
