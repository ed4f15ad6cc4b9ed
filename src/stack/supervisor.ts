// Building blocks for the `stack` command (src/stack/main.ts): pre-flight port checks, a
// per-state-dir lock, the persisted API token, and Node services (worker, API) run as
// supervised children with their output in log files.
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import pino from 'pino';
import type { Logger } from '../logging/logger';
import { spawnManaged, waitUntilReady, type ManagedProcess } from './process';

/** The repository root (src/stack/../..): children run from here so `--import tsx` resolves. */
export const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** A start-up problem with a message meant for a human; no stack trace needed. */
export class StackStartError extends Error {
  override name = 'StackStartError';
}

/** A structured logger writing to a file, so the terminal stays readable. */
export function fileLogger(file: string, name: string, level: string): Logger {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  return pino({ name, level, base: { service: name } }, pino.destination({ dest: file, append: true, sync: true }));
}

export interface PortClaim {
  port: number;
  host: string;
  /** What wants it, e.g. "Temporal gRPC (VIGIL_TEMPORAL_ADDRESS)". */
  what: string;
}

/** Resolves true when nothing listens on host:port (we could bind it ourselves). */
export function portFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** Fail with one message naming every port that is taken, and how to move it. */
export async function assertPortsFree(claims: PortClaim[]): Promise<void> {
  const seen = new Map<number, PortClaim>();
  const problems: string[] = [];
  for (const c of claims) {
    const dup = seen.get(c.port);
    if (dup) problems.push(`port ${c.port} is configured twice: ${dup.what} and ${c.what}`);
    seen.set(c.port, c);
  }
  const taken = await Promise.all(claims.map(async (c) => ((await portFree(c.port, c.host)) ? null : c)));
  for (const c of taken) {
    if (c) problems.push(`port ${c.port} on ${c.host} is already in use (needed for ${c.what})`);
  }
  if (problems.length > 0) {
    throw new StackStartError(
      `cannot start the stack:\n  ${problems.join('\n  ')}\n` +
        'Is another Vigil stack (or another Temporal / S3 server) running? Stop it, or choose other ports ' +
        '(VIGIL_TEMPORAL_ADDRESS, VIGIL_S3_ENDPOINT, VIGIL_API_PORT, --ui-port).',
    );
  }
}

/**
 * One stack per state dir: two would share Temporal's SQLite file and SeaweedFS's data. The
 * lock is a pid file; a stale one (its process gone) is taken over.
 */
export function acquireStateLock(stateDir: string): () => void {
  fs.mkdirSync(stateDir, { recursive: true });
  const file = path.join(stateDir, 'stack.pid');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
      return () => {
        try {
          if (fs.readFileSync(file, 'utf8').trim() === String(process.pid)) fs.unlinkSync(file);
        } catch {
          /* already gone */
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(fs.readFileSync(file, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) {
        throw new StackStartError(
          `another Vigil stack (pid ${pid}) is already running from ${stateDir}; stop it first ` +
            '(Ctrl-C in its terminal) or use another VIGIL_STATE_DIR.',
        );
      }
      fs.rmSync(file, { force: true }); // stale
    }
  }
  throw new StackStartError(`could not take the stack lock ${file}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface ApiToken {
  token: string;
  /** Where it came from: the environment, or a file under the state dir (created on first start). */
  source: 'env' | 'file';
  file: string | null;
  created: boolean;
}

/**
 * VIGIL_API_TOKEN wins when set. Otherwise a random token is generated once, kept at
 * <stateDir>/api-token (mode 0600) and reused on later starts, so CLI sessions keep working.
 */
export function ensureApiToken(stateDir: string, configured: string | undefined): ApiToken {
  if (configured) return { token: configured, source: 'env', file: null, created: false };
  const file = path.join(stateDir, 'api-token');
  try {
    const token = fs.readFileSync(file, 'utf8').trim();
    if (token.length >= 16) return { token, source: 'file', file, created: false };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const token = crypto.randomBytes(32).toString('base64url');
  fs.mkdirSync(stateDir, { recursive: true });
  fs.writeFileSync(file, `${token}\n`, { mode: 0o600 });
  fs.chmodSync(file, 0o600); // the mode option does not apply to an existing (e.g. empty) file
  return { token, source: 'file', file, created: true };
}

export type Readiness =
  /** A line containing `text` appears in the child's output (after this start). */
  | { kind: 'log-line'; text: string }
  /** GET `url` answers 200. */
  | { kind: 'http'; url: string };

export interface NodeServiceOptions {
  name: string;
  /** Script path relative to the repository root, run as `node --import tsx <script>`. */
  script: string;
  logFile: string;
  ready: Readiness;
  readyTimeoutMs: number;
  log: Logger;
  /** Added to the inherited environment (e.g. the API's read-only S3 identity); never logged. */
  env?: Record<string, string>;
}

/**
 * Start a TypeScript entry point as a supervised child (same exit guarantees as the servers:
 * SIGTERM on our death, SIGKILL on our exit) and wait until it is ready. It inherits our
 * environment. On failure the child is stopped and the error carries its log tail.
 */
export async function startNodeService(opts: NodeServiceOptions): Promise<ManagedProcess> {
  const scriptPath = path.join(REPO_ROOT, opts.script);
  if (!fs.existsSync(scriptPath)) throw new StackStartError(`${opts.name}: entry point ${scriptPath} does not exist`);
  fs.mkdirSync(path.dirname(opts.logFile), { recursive: true });
  fs.appendFileSync(opts.logFile, ''); // make sure it exists so the offset is meaningful
  const startOffset = fs.statSync(opts.logFile).size; // the file is appended to across restarts
  const proc = spawnManaged({
    name: opts.name,
    command: process.execPath,
    args: ['--import', 'tsx', scriptPath],
    logFile: opts.logFile,
    log: opts.log,
    cwd: REPO_ROOT,
    ...(opts.env ? { env: opts.env } : {}),
  });
  const probe =
    opts.ready.kind === 'log-line'
      ? logLineProbe(opts.logFile, startOffset, opts.ready.text)
      : httpProbe(opts.ready.url);
  try {
    await waitUntilReady(proc, probe, opts.readyTimeoutMs, 200);
  } catch (err) {
    throw new StackStartError((err as Error).message);
  }
  return proc;
}

function logLineProbe(file: string, offset: number, text: string): () => Promise<boolean> {
  let pos = offset;
  let carry = '';
  return async () => {
    const fd = await fs.promises.open(file, 'r');
    try {
      const { size } = await fd.stat();
      if (size <= pos) return false;
      const buf = Buffer.alloc(size - pos);
      await fd.read(buf, 0, buf.length, pos);
      pos = size;
      const chunk = carry + buf.toString('utf8');
      if (chunk.includes(text)) return true;
      carry = chunk.slice(-text.length); // a match split across reads
      return false;
    } finally {
      await fd.close();
    }
  };
}

function httpProbe(url: string): () => Promise<boolean> {
  return async () => {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await res.body?.cancel();
    return res.status === 200;
  };
}

/** The loopback address to probe a server that binds `host` (0.0.0.0 / :: are not dialable). */
export function dialHost(host: string): string {
  return host === '0.0.0.0' || host === '::' || host === '' ? '127.0.0.1' : host;
}

/** Path for humans: relative to the working directory when inside it. */
export function displayPath(p: string): string {
  const rel = path.relative(process.cwd(), p);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : p;
}
