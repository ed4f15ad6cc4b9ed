import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities';
import type { VigilConfig } from '../config';
import { ORCHESTRATION_TASK_QUEUE } from '../domain/messages';
import { createS3Client, EvidenceStore } from '../evidence';
import { S3RouteStore } from '../gateway/route-store';
import type { Logger } from '../logging/logger';
import { SimulatedTraffic } from '../sim/traffic';
import { environmentFingerprint } from './environment';

/** Real clients for the activities, from configuration. */
export async function realActivityDeps(config: VigilConfig, log: Logger): Promise<ActivityDeps> {
  const s3 = createS3Client(config.s3);
  return {
    evidence: new EvidenceStore({ s3, bucket: config.s3.bucket, retention: config.retention }),
    routes: new S3RouteStore(s3, config.s3.bucket),
    traffic: new SimulatedTraffic(),
    environment: await environmentFingerprint(),
    log,
  };
}

export interface VigilWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  deps: ActivityDeps;
  taskQueue?: string;
  /** A pre-built bundle (production image, tests); otherwise the workflows are bundled at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
}

export function createVigilWorker(opts: VigilWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue ?? ORCHESTRATION_TASK_QUEUE,
    ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowsPath: require.resolve('../workflows') }),
    activities: createActivities(opts.deps),
    // An activity that never returns must not hold shutdown forever.
    shutdownForceTime: '10 seconds',
  });
}
