import net from 'node:net';
import path from 'node:path';
import fs from 'node:fs';
import { Connection } from '@temporalio/client';
import type { Logger } from '../logging/logger';
import { spawnManaged, waitUntilReady, type ManagedProcess } from './process';

/** Search attributes every Vigil namespace needs (workflows upsert them; the UI filters on them). */
export const VIGIL_SEARCH_ATTRIBUTES = ['VigilStage', 'VigilModel', 'VigilOutcome'] as const;

export interface StartTemporalOptions {
  binDir: string;
  stateDir: string;
  port: number;
  uiPort?: number;
  headless?: boolean;
  log: Logger;
  readyTimeoutMs?: number;
}

export interface TemporalServer {
  address: string;
  uiUrl: string | undefined;
  process: ManagedProcess;
  stop(): Promise<void>;
}

export async function startTemporal(opts: StartTemporalOptions): Promise<TemporalServer> {
  fs.mkdirSync(opts.stateDir, { recursive: true });
  const address = `127.0.0.1:${opts.port}`;
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(opts.port),
    // A persistent SQLite file keeps workflows (and registered search attributes) across restarts.
    '--db-filename',
    path.join(opts.stateDir, 'temporal.sqlite'),
    // Re-registering existing attributes on restart is accepted by the dev server (verified).
    ...VIGIL_SEARCH_ATTRIBUTES.flatMap((name) => ['--search-attribute', `${name}=Keyword`]),
    '--log-level',
    'warn',
  ];
  if (opts.headless) args.push('--headless');
  else {
    if (opts.uiPort !== undefined) args.push('--ui-port', String(opts.uiPort));
    args.push('--ui-disable-news-fetch'); // no outbound requests from the UI
  }

  const started = Date.now();
  const proc = await spawnUntilServing(opts, args, address);
  const uiUrl = opts.headless ? undefined : `http://127.0.0.1:${opts.uiPort ?? opts.port + 1000}`;
  opts.log.info({ address, uiUrl, pid: proc.pid, startMs: Date.now() - started }, 'temporal dev server ready');
  return { address, uiUrl, process: proc, stop: () => proc.stop() };
}

/**
 * The dev server binds internal ports (history, matching, worker services, membership) of its own choosing; one
 * of them can be taken between its check and its bind by anything starting beside it, and it then panics with
 * "address already in use". That start is tried again (it picks new ones); any other failure is final.
 */
async function spawnUntilServing(opts: StartTemporalOptions, args: string[], address: string): Promise<ManagedProcess> {
  const logFile = path.join(opts.stateDir, 'temporal.log');
  for (let attempt = 1; ; attempt++) {
    const proc = spawnManaged({
      name: 'temporal',
      command: path.join(opts.binDir, 'temporal'),
      args,
      logFile,
      log: opts.log,
    });
    try {
      await waitUntilReady(proc, () => isServing(address, opts.port), opts.readyTimeoutMs ?? 60_000, 100);
      return proc;
    } catch (e) {
      const log = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '';
      if (attempt >= PORT_RACE_ATTEMPTS || !/address already in use/.test(log)) throw e;
      opts.log.warn({ attempt }, 'temporal lost a port race for an internal port; starting it again');
      fs.renameSync(logFile, `${logFile}.${attempt}`);
    }
  }
}

const PORT_RACE_ATTEMPTS = 3;

/** gRPC health check of the frontend: the same thing `temporal operator cluster health` asks. */
async function isServing(address: string, port: number): Promise<boolean> {
  // A gRPC connect to a closed port waits out its whole timeout; a TCP probe fails at once.
  if (!(await tcpOpen(port))) return false;
  const connection = await Connection.connect({ address, connectTimeout: 1000 });
  try {
    const res = await connection.healthService.check({ service: 'temporal.api.workflowservice.v1.WorkflowService' });
    return res.status === 1; // SERVING
  } finally {
    await connection.close();
  }
}

function tcpOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
