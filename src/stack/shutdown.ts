/**
 * The stack supervisor's shutdown: stop the children in reverse order (API, worker, then the servers) exactly
 * once, on a signal, on the front's death, or when a child dies unexpectedly; a second Ctrl-C kills the rest.
 */
import { ConfigError } from '../config';
import { DemoError, type Printer } from '../demo/run-demo';
import { PolicyFileError } from '../demo/seed';
import type { LocalStack } from './local-stack';
import type { ManagedProcess } from './process';
import { displayPath, StackStartError } from './supervisor';

/** What has been started so far (each stopped, if present, in reverse order). */
export interface Running {
  stack?: LocalStack;
  worker?: ManagedProcess;
  api?: ManagedProcess;
  gateway?: ManagedProcess;
  traffic?: { stop(): void };
}

/** One supervisor's shutdown state. */
export interface Shutdown {
  running: Running;
  /** Aborted when the shutdown begins (the demo stops narrating). */
  signal: AbortSignal;
  /** The shutdown in progress, or null while running. */
  stopping(): Promise<void> | null;
  /** Stops everything (once) and exits with `code`. */
  stopAll(code: number): Promise<void>;
  /** Reports the error, stops everything and exits 1. */
  fatal(err: unknown): Promise<never>;
  /** The state lock to release after the children have stopped. */
  holdLock(release: () => void): void;
  /** A child that exits while we are not stopping is fatal (with the end of its log). */
  watchForDeath(proc: ManagedProcess, what: string): void;
}

/** The shutdown for one supervisor run, narrating to `out`. */
export function createShutdown(out: Printer): Shutdown {
  const running: Running = {};
  const abort = new AbortController();
  let releaseLock: () => void = () => undefined;
  let stopping: Promise<void> | null = null;

  const stopAll = (code: number): Promise<void> => {
    stopping ??= (async () => {
      abort.abort();
      out.clearLive();
      // A start-up failure before anything ran needs no shutdown narrative.
      const narrate = code === 0 || Boolean(running.stack || running.worker || running.api || running.gateway);
      if (narrate) out.event('stopping the stack …');
      await stopChildren(out, running);
      releaseLock();
      if (narrate) out.event('stopped');
      process.exit(code);
    })();
    return stopping;
  };

  const fatal = async (err: unknown): Promise<never> => {
    out.clearLive();
    process.stderr.write(`\n✘ ${stackErrorMessage(err)}\n`);
    if (!stopping) await stopAll(1);
    await stopping;
    process.exit(1);
  };

  return {
    running,
    signal: abort.signal,
    stopping: () => stopping,
    stopAll,
    fatal,
    holdLock: (release) => (releaseLock = release),
    watchForDeath(proc, what) {
      void proc.exited.then(({ code, signal }) => {
        if (stopping) return;
        void fatal(
          new StackStartError(
            `${what} exited unexpectedly (${signal ?? `code ${code}`}); log ${displayPath(proc.logFile)} ends with:\n${indent(proc.logTail(3000))}`,
          ),
        );
      });
    },
  };
}

async function stopChildren(out: Printer, running: Running): Promise<void> {
  running.traffic?.stop(); // no more requests to a gateway about to stop
  const steps: Array<[string, (() => Promise<void>) | undefined]> = [
    ['API', running.api && (() => running.api!.stop(5_000))],
    // The worker finishes its in-flight tasks; its own shutdownForceTime is 10 s.
    ['worker', running.worker && (() => running.worker!.stop(15_000))],
    // After the worker (which reads its telemetry); it uploads its last segment to S3 before exiting.
    ['gateway', running.gateway && (() => running.gateway!.stop(10_000))],
    ['Temporal + SeaweedFS', running.stack && (() => running.stack!.stop())],
  ];
  for (const [name, stop] of steps) {
    if (!stop) continue;
    const started = Date.now();
    await stop().catch((e: unknown) => out.event(`  ${name}: ${(e as Error).message}`));
    out.event(`  ${name} stopped (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  }
}

/** SIGINT/SIGTERM/SIGHUP stop the stack; the front's death (when setpriv is unavailable) too. */
export function installSignalHandlers(sd: Shutdown, out: Printer, frontPid: number): void {
  let firstSignalAt = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    const now = Date.now();
    if (sd.stopping()) {
      // Front + npm can deliver the same Ctrl-C twice; only a later one means "hurry up".
      if (now - firstSignalAt > 1500) {
        out.event(`${sig} again: killing the remaining processes`);
        process.exit(130); // process.ts's exit hook SIGKILLs every live child
      }
      return;
    }
    firstSignalAt = now;
    void sd.stopAll(0);
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, onSignal);
  // Fallback for the front's death when setpriv is unavailable.
  if (frontPid > 0) {
    setInterval(() => {
      if (process.ppid !== frontPid && !sd.stopping()) void sd.stopAll(1);
    }, 1000).unref();
  }
}

/** The message of an expected failure alone; anything else with its error name. */
export function stackErrorMessage(err: unknown): string {
  if (
    err instanceof StackStartError ||
    err instanceof ConfigError ||
    err instanceof PolicyFileError ||
    err instanceof DemoError
  ) {
    return err.message;
  }
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}

function indent(text: string): string {
  return text
    .trimEnd()
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}
