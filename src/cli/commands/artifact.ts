/** `vigil artifact put|get|ls`: single objects in the evidence store (content-addressed, create-only). */
import fs from 'node:fs';
import type { Command } from 'commander';
import { EvidenceError } from '../../evidence';
import { listObjects } from '../../release-files';
import { writeFileAtomic } from '../../provenance/files';
import { Exit, UsageError, type CliContext } from '../context';
import { humanBytes, storeFrom } from './store';

const MEDIA_TYPES: Array<[RegExp, string]> = [
  [/\.onnx$/i, 'application/onnx'],
  [/\.json$/i, 'application/json'],
  [/\.ya?ml$/i, 'application/yaml'],
  [/\.csv$/i, 'text/csv'],
  [/\.parquet$/i, 'application/vnd.apache.parquet'],
];

/** Registers `vigil artifact …`. */
export function registerArtifactCommands(program: Command, ctx: CliContext): void {
  const artifact = program
    .command('artifact')
    .description('single objects in the evidence store (VIGIL_S3_*; see docs/configuration.md)');

  artifact
    .command('put')
    .description('store a file at sha256/<its digest> (create-only: an existing object is confirmed, never replaced)')
    .argument('<file>')
    .option('--media-type <type>', 'content type (default: from the file name)')
    .option('--json', 'print machine-readable JSON only')
    .action((file: string, o: { mediaType?: string; json?: boolean }) =>
      guard(ctx, async () => {
        const bytes = readLocal(file);
        const mediaType = o.mediaType ?? MEDIA_TYPES.find(([re]) => re.test(file))?.[1] ?? 'application/octet-stream';
        const ref = await storeFrom(ctx.io.env).evidence.putBytes(bytes, mediaType);
        if (o.json) return ctx.printJson({ key: ref.key, sha256: ref.sha256, size: ref.size, mediaType });
        ctx.print(`${ref.key}  ${humanBytes(bytes.length)}  ${mediaType}`);
      }),
    );

  artifact
    .command('get')
    .description('read an object (its first, locked version), check its digest, and write it to --out or stdout')
    .argument('<key>', 'object key, e.g. sha256/<hex>')
    .option('--out <file>', 'write here instead of stdout')
    .option('--sha256 <hex>', 'the digest it must have (implied for sha256/<hex> keys)')
    .action((key: string, o: { out?: string; sha256?: string }) =>
      guard(ctx, async () => {
        const bytes = await storeFrom(ctx.io.env).evidence.getBytes(key, o.sha256);
        if (o.out) {
          writeFileAtomic(o.out, bytes);
          ctx.io.stderr(`wrote ${o.out} (${humanBytes(bytes.length)})\n`);
        } else process.stdout.write(bytes);
      }),
    );

  artifact
    .command('ls')
    .description('list objects under a prefix (default sha256/)')
    .argument('[prefix]', 'key prefix', 'sha256/')
    .option('--limit <n>', 'at most this many', (v) => Number(v), 1000)
    .option('--json', 'print machine-readable JSON only')
    .action((prefix: string, o: { limit: number; json?: boolean }) =>
      guard(ctx, async () => {
        if (!Number.isInteger(o.limit) || o.limit < 1) throw new UsageError('--limit must be a positive integer');
        const store = storeFrom(ctx.io.env);
        const objects = await listObjects(store.s3, store.bucket, prefix, o.limit);
        if (o.json) return ctx.printJson(objects);
        ctx.print(
          objects.map((x) => `${x.key}  ${humanBytes(x.size)}  ${x.lastModified ?? '-'}`).join('\n') || '(none)',
        );
      }),
    );
}

function readLocal(file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** Store problems (not found, digest mismatch, unreachable) are one line and exit 4; bad input exit 2. */
async function guard(ctx: CliContext, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (err) {
    if (err instanceof UsageError) throw err;
    ctx.io.stderr(
      `vigil: ${err instanceof EvidenceError ? err.message : `evidence store: ${(err as Error).message}`}\n`,
    );
    ctx.setExit(Exit.failed);
  }
}
