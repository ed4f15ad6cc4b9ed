import path from 'node:path';

/** Where infra/install-tools.sh puts the pinned server binaries: <repo>/.tools/bin. */
export function defaultBinDir(): string {
  return path.resolve(__dirname, '..', '..', '.tools', 'bin');
}
