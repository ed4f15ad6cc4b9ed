import { Client } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities, WebhookNotifier, type ActivityDeps } from '../activities';
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

/** Real clients for the activities, from configuration. */
export async function realActivityDeps(config: VigilConfig, log: Logger): Promise<ActivityDeps> {
  const s3 = createS3Client(config.s3);
  const evidence = new EvidenceStore({ s3, bucket: config.s3.bucket, retention: config.retention });
  // Shadow, canary and monitoring all read the gateway's telemetry segments through one source.
  // Each read first waits for every gateway's upload watermark to pass the interval's end (VIGIL_TELEMETRY_WAIT_MS).
  const telemetry =
    config.liveSource === 'telemetry'
      ? new TelemetryLiveSource(new TelemetryReader(s3, config.s3.bucket, evidence), evidence, undefined, {
          store: new S3WatermarkStore(s3, config.s3.bucket),
          maxWaitMs: config.telemetryWaitMs,
        })
      : null;
  return {
    evidence,
    routes: new S3RouteStore(s3, config.s3.bucket),
    traffic: new SimulatedTraffic(config.trafficScenario ?? undefined),
    environment: await environmentFingerprint(),
    log,
    signer: loadOrCreateDevKey(config.signingKeyDir).signer,
    ...(config.notify ? { notifier: new WebhookNotifier(config.notify.url, config.notify.secret) } : {}),
    ...(telemetry ? { live: telemetry, telemetry } : {}),
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
