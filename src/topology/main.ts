/**
 * Runs the production topology in a terminal until Ctrl-C:
 *   node --import tsx src/topology/main.ts [state-dir]      (default .vigil-topology)
 * Needs infra/install-tools.sh, infra/install-temporal-server.sh, infra/install-postgres.sh and infra/install-nginx.sh.
 */
import path from 'node:path';
import { createLogger } from '../logging/logger';
import { startTopology } from './launcher';

async function main(): Promise<void> {
  const stateDir = path.resolve(process.argv[2] ?? '.vigil-topology');
  const log = createLogger('vigil-topology', process.env.VIGIL_LOG_LEVEL ?? 'info');
  const topology = await startTopology({ stateDir, log });
  const lines = [
    `API (nginx)   ${topology.apiUrl}`,
    ...topology.replicas.api.map((r) => `  ${r.id.padEnd(11)} ${r.url}`),
    ...topology.replicas.gateway.map((r) => `${r.id.padEnd(13)} ${r.url}`),
    `Temporal      ${topology.temporal.address}`,
    `S3            ${topology.s3Config.endpoint} bucket ${topology.s3Config.bucket}`,
    `State, logs   ${stateDir}`,
    `API token     ${path.join(stateDir, 'secrets', 'api-token')}`,
    `Started in    ${(topology.timings.total! / 1000).toFixed(1)} s`,
  ];
  process.stdout.write(`${lines.join('\n')}\nCtrl-C stops everything.\n`);
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    void topology.stop().finally(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`vigil topology: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
