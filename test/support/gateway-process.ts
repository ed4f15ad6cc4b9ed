/** The real gateway process (src/gateway/main.ts) for integration tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const REPO = path.resolve(__dirname, '../..');

export interface GatewayChild {
  proc: ChildProcess;
  url: string;
}

/** Start it with `env` on top of this process's; resolves once it logs its port, rejects if it exits first. */
export function startGatewayProcess(env: NodeJS.ProcessEnv): Promise<GatewayChild> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/gateway/main.ts'], { cwd: REPO, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    proc.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    proc.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      for (const line of out.split('\n')) {
        if (!line.includes('gateway listening')) continue;
        const { port } = JSON.parse(line) as { port: number };
        resolve({ proc, url: `http://127.0.0.1:${port}` });
      }
    });
    proc.on('exit', (code) => reject(new Error(`gateway exited (${code}) before listening:\n${out}\n${err}`)));
  });
}

/** Resolves once the process has exited (at once if it already has). */
export function processExited(proc: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
    proc.once('exit', () => resolve());
  });
}
