import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { EnvironmentFingerprint } from '../contracts/ports';

/** What the worker runs on, recorded at SNAPSHOT. Read once at start-up. */
export async function environmentFingerprint(root = path.resolve(__dirname, '../..')): Promise<EnvironmentFingerprint> {
  let lockfileSha256: string | null;
  try {
    lockfileSha256 = createHash('sha256')
      .update(await readFile(path.join(root, 'package-lock.json')))
      .digest('hex');
  } catch {
    lockfileSha256 = null;
  }
  let onnxruntime: string | null;
  try {
    onnxruntime = (
      JSON.parse(await readFile(path.join(root, 'node_modules/onnxruntime-node/package.json'), 'utf8')) as {
        version: string;
      }
    ).version;
  } catch {
    onnxruntime = null;
  }
  return { node: process.version, platform: process.platform, arch: process.arch, lockfileSha256, onnxruntime };
}
