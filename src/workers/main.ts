/** Worker entry point: wiring only. */
import { NativeConnection } from '@temporalio/worker';
import { payloadDataConverter } from '../codec';
import { loadConfig } from '../config';
import { createLogger } from '../logging/logger';
import { createVigilWorker, realActivityDeps } from './create-worker';
import { installRuntimeLogger } from './runtime';

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger('vigil-worker', config.logLevel);
  installRuntimeLogger(log);
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  const worker = await createVigilWorker({
    connection,
    namespace: config.temporal.namespace,
    deps: await realActivityDeps(config, log),
    ...(config.payloadCodec ? { dataConverter: payloadDataConverter(config.payloadCodec) } : {}),
    ...(config.workflowBundle ? { workflowBundle: { codePath: config.workflowBundle } } : {}),
  });
  log.info({ taskQueue: worker.options.taskQueue, temporal: config.temporal.address }, 'worker started');
  try {
    await worker.run();
  } finally {
    await connection.close();
    log.info({}, 'worker stopped');
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
