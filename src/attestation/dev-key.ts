import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Ed25519Signer } from './signer';

export const DEV_KEY_FILE = 'dev-signing-key.ed25519.pem';

export class DevKeyError extends Error {
  override name = 'DevKeyError';
}

/**
 * The development signing key: loaded from `<dir>/dev-signing-key.ed25519.pem`, or generated there on first
 * use (PKCS#8 PEM, mode 0600, directory 0700). `dir` comes from config (e.g. ~/.config/vigil or the state
 * dir); a directory inside a git work tree is refused so the key cannot be committed by accident.
 * Concurrent first starts are safe: the key is written to a temp file and hard-linked into place, and the
 * loser of the race loads the winner's key.
 */
export function loadOrCreateDevKey(dir: string): { signer: Ed25519Signer; file: string; created: boolean } {
  const absDir = path.resolve(dir);
  const repo = enclosingGitWorkTree(absDir);
  if (repo)
    throw new DevKeyError(
      `refusing to keep a signing key inside the git work tree ${repo}; configure a directory outside it`,
    );
  fs.mkdirSync(absDir, { recursive: true, mode: 0o700 });
  const file = path.join(absDir, DEV_KEY_FILE);
  if (fs.existsSync(file)) return { signer: load(file), file, created: false };

  const { privateKey } = crypto.generateKeyPairSync('ed25519');
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' });
  const tmp = path.join(absDir, `.${DEV_KEY_FILE}.${process.pid}.${crypto.randomBytes(6).toString('hex')}`);
  fs.writeFileSync(tmp, pem, { mode: 0o600, flag: 'wx' });
  try {
    fs.linkSync(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return { signer: load(file), file, created: false };
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  return { signer: load(file), file, created: true };
}

function load(file: string): Ed25519Signer {
  const mode = fs.statSync(file).mode & 0o777;
  if ((mode & 0o077) !== 0)
    throw new DevKeyError(`${file} is readable by others (mode ${mode.toString(8)}); chmod 600 it`);
  try {
    return Ed25519Signer.fromPem(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new DevKeyError(`${file} is not an Ed25519 private key: ${(err as Error).message}`);
  }
}

function enclosingGitWorkTree(dir: string): string | undefined {
  for (let d = dir; ; d = path.dirname(d)) {
    if (fs.existsSync(path.join(d, '.git'))) return d;
    if (path.dirname(d) === d) return undefined;
  }
}
