/** The real gateway process (src/gateway/main.ts) for integration tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { TestStack } from '../../src/stack';

const REPO = path.resolve(__dirname, '../..');

export interface GatewayChild {
  proc: ChildProcess;
  url: string;
}

/** Start it with `env` on top of this process's; resolves once it logs its port, rejects if it exits first. */
export function startGatewayProcess(env: NodeJS.ProcessEnv): Promise<GatewayChild> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/gateway/main.ts'], {
    cwd: REPO,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
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

/** The gateway's configuration against a test stack's S3: port 0, no route polling, WAL under `dir`. */
export function gatewayEnv(
  stack: TestStack,
  g: { modelsFile: string; controlToken: string; caseIdKey: string; dir: string },
): NodeJS.ProcessEnv {
  return {
    VIGIL_S3_ENDPOINT: stack.s3Config.endpoint,
    VIGIL_S3_ACCESS_KEY_ID: stack.credentials.accessKeyId,
    VIGIL_S3_SECRET_ACCESS_KEY: stack.credentials.secretAccessKey,
    VIGIL_S3_BUCKET: stack.bucket,
    VIGIL_RETENTION_MODE: 'GOVERNANCE',
    VIGIL_GATEWAY_PORT: '0',
    VIGIL_GATEWAY_MODELS: g.modelsFile,
    VIGIL_GATEWAY_CONTROL_TOKEN: g.controlToken,
    VIGIL_GATEWAY_CASE_ID_KEY: g.caseIdKey,
    VIGIL_GATEWAY_WAL_DIR: path.join(g.dir, 'wal'),
    VIGIL_GATEWAY_ROUTE_POLL_MS: '0',
    // Segments sealed (and the upload watermark moved) within 2 s: telemetry measurements wait seconds, not 10+.
    VIGIL_GATEWAY_SEGMENT_MAX_AGE_MS: '2000',
    VIGIL_LOG_LEVEL: 'info',
  };
}

/**
 * A gateway models file in `dir` serving the demo's sepsis-alert 1.4.0 and 2.0.0 (JSON logistic models), with
 * 1.4.0 in production under `routesVersion` until a newer table is adopted. Returns its path.
 */
export function writeDemoModelsFile(dir: string, routesVersion = 1): string {
  const file = path.join(dir, 'models.yaml');
  const model = (v: string): string =>
    `      "${v}": { file: ${path.join(REPO, `demo/models/sepsis-alert-${v}.json`)} }`;
  fs.writeFileSync(
    file,
    [
      'models:',
      '  sepsis-alert:',
      '    versions:',
      model('1.4.0'),
      model('2.0.0'),
      `    routes: { version: ${routesVersion}, production: "1.4.0", canary: null }`,
      '',
    ].join('\n'),
  );
  return file;
}
