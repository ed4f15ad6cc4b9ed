import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import type { Logger } from '../logging/logger';

/** A server binary running as our child, with its output in a log file. */
export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Resolves when the process has exited (for any reason). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Last bytes of the log file, for error messages. */
  logTail(bytes?: number): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

const live = new Set<ChildProcess>();
let hooksInstalled = false;

/**
 * Children must not outlive us. 'exit' covers normal termination and uncaught errors; the signal
 * hooks cover Ctrl-C / kill when nobody else handles the signal (then we re-raise it so the
 * process still dies with the default behaviour). SIGKILL of the parent is covered by
 * PR_SET_PDEATHSIG via setpriv where available (see spawnManaged).
 */
function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    if (process.listenerCount(sig) > 0) continue; // the application owns this signal
    const handler = (): void => {
      for (const child of live) child.kill('SIGTERM');
      process.removeListener(sig, handler);
      process.kill(process.pid, sig);
    };
    process.on(sig, handler);
  }
}

const SETPRIV = '/usr/bin/setpriv';
const hasSetpriv = fs.existsSync(SETPRIV);

export interface SpawnOptions {
  name: string;
  command: string;
  args: string[];
  logFile: string;
  log: Logger;
  cwd?: string;
  /** Added to the inherited environment (secrets for the server only: never logged). */
  env?: Record<string, string>;
}

export function spawnManaged(opts: SpawnOptions): ManagedProcess {
  installExitHooks();
  if (!fs.existsSync(opts.command)) {
    throw new Error(`${opts.name}: binary not found at ${opts.command} (run infra/install-tools.sh)`);
  }
  const fd = fs.openSync(opts.logFile, 'a');
  // setpriv execs the server in place (same pid) with a parent-death signal, so even a
  // SIGKILLed parent leaves no orphan.
  const [cmd, args] = hasSetpriv
    ? [SETPRIV, ['--pdeathsig', 'SIGTERM', '--', opts.command, ...opts.args]]
    : [opts.command, opts.args];
  let child: ChildProcess;
  try {
    child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ? { ...process.env, ...opts.env } : process.env,
      stdio: ['ignore', fd, fd],
      detached: false,
    });
  } finally {
    fs.closeSync(fd);
  }
  if (child.pid === undefined) throw new Error(`${opts.name}: failed to spawn ${opts.command}`);
  const pid = child.pid;
  live.add(child);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      live.delete(child);
      opts.log.debug({ server: opts.name, pid, code, signal }, 'server exited');
      resolve({ code, signal });
    });
    child.once('error', (err) => {
      live.delete(child);
      opts.log.error({ server: opts.name, err }, 'server process error');
      resolve({ code: null, signal: null });
    });
  });
  opts.log.debug({ server: opts.name, pid, args: opts.args, logFile: opts.logFile }, 'server spawned');

  let stopping: Promise<void> | undefined;
  return {
    name: opts.name,
    pid,
    logFile: opts.logFile,
    exited,
    logTail: (bytes = 4000) => readTail(opts.logFile, bytes),
    stop(graceMs = 5000) {
      stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      })();
      return stopping;
    },
  };
}

function readTail(file: string, bytes: number): string {
  try {
    const { size } = fs.statSync(file);
    const start = Math.max(0, size - bytes);
    const buf = Buffer.alloc(size - start);
    const fd = fs.openSync(file, 'r');
    try {
      fs.readSync(fd, buf, 0, buf.length, start);
    } finally {
      fs.closeSync(fd);
    }
    return buf.toString('utf8');
  } catch {
    return '<no log>';
  }
}

/**
 * Poll `probe` until it returns true, the process exits, or the timeout passes. Errors from the
 * probe count as "not ready yet"; the last one is reported on timeout.
 */
export async function waitUntilReady(
  proc: ManagedProcess,
  probe: () => Promise<boolean>,
  timeoutMs: number,
  intervalMs = 100,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let died = false;
  void proc.exited.then(() => (died = true));
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (died) break;
    try {
      if (await probe()) return;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  const why = died ? 'exited before becoming ready' : `not ready after ${timeoutMs} ms`;
  await proc.stop();
  const last = lastError instanceof Error ? ` (last probe error: ${lastError.message})` : '';
  throw new Error(`${proc.name} ${why}${last}; log ${proc.logFile} ends with:\n${proc.logTail()}`);
}
