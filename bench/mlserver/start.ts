/**
 * Starts Seldon's MLServer (scikit-learn runtime) serving the demo's production model with the same
 * weights, for bench:gateway's comparison. Needs the venv of `bench/mlserver/setup.sh`
 * (.tools/mlserver/venv); returns null, with the reason, when it is not there or does not come up.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const VENV = path.join(ROOT, '.tools', 'mlserver', 'venv', 'bin');

export interface Mlserver {
  port: number;
  proc: ChildProcess;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** The score MLServer gives the bench's one-row body must equal the demo model's (same model, same machine). */
export async function startMlserver(modelJson: string): Promise<Mlserver | { skipped: string }> {
  const bin = path.join(VENV, 'mlserver');
  if (!fs.existsSync(bin)) return { skipped: `MLServer not installed (run bench/mlserver/setup.sh): no ${bin}` };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-mlserver-'));
  const [http, grpc, metrics] = [await freePort(), await freePort(), await freePort()];
  const make = spawn(
    path.join(VENV, 'python'),
    [path.join(__dirname, 'make_model.py'), modelJson, dir, String(http), String(grpc), String(metrics)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const code = await new Promise<number | null>((r) => make.on('exit', r));
  if (code !== 0) return { skipped: `MLServer model repository not written (exit ${code})` };
  const proc = spawn(bin, ['start', '.'], { cwd: dir, stdio: ['ignore', 'ignore', 'ignore'], detached: false });
  const stop = async (): Promise<void> => {
    if (proc.exitCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (proc.exitCode === null) proc.kill('SIGKILL');
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && proc.exitCode === null) {
    try {
      const res = await fetch(`http://127.0.0.1:${http}/v2/models/sepsis-alert/ready`);
      if (res.ok) return { port: http, proc, stop };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  await stop();
  return { skipped: 'MLServer did not become ready within 60 s' };
}
