/**
 * `vigil dataset manifest|prove`: the dataset manifest (row digests, Merkle root, agreement, split counts) and one
 * record's inclusion proof, from local files. Bad input is one `error:` line and exit 2.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Option, type Command } from 'commander';
import { missingProvenanceFields } from '../../domain/dataset-manifest';
import { canonicalBytes } from '../../evidence/canonical-json';
import { writeFileAtomic } from '../../provenance/files';
import { rowInclusionProof } from '../../provenance/inclusion';
import { readLineage, readSplitKey, requireFile } from '../../provenance/lineage-file';
import { buildDatasetManifest, ManifestInputError, type BuiltManifest } from '../../provenance/manifest-builder';
import { MerkleTreeBuilder } from '../../provenance/merkle';
import { rowDigest } from '../../provenance/row-digest';
import { openTable, TableReadError, type TableFormat } from '../../provenance/table-reader';
import { Exit, UsageError, type CliContext } from '../context';

type ManifestOptions = {
  lineage?: string;
  out?: string;
  leaves?: string;
  splitKey?: string;
  format?: TableFormat;
  json?: boolean;
};
type ProveOptions = { row: string; manifest?: string; format?: TableFormat; json?: boolean };

const formatOption = () =>
  new Option('--format <format>', 'table format (default: from the file name)').choices(['csv', 'parquet']);

/** Registers `vigil dataset …`. */
export function registerDatasetCommands(program: Command, ctx: CliContext): void {
  const dataset = program.command('dataset').description('dataset manifests and record inclusion proofs (local files)');

  dataset
    .command('manifest')
    .description(
      'build the dataset manifest from a data file and its lineage; missing provenance is reported, not fatal (the SNAPSHOT gate decides)',
    )
    .argument('<data>', 'data file (.csv or .parquet)')
    .option('--lineage <file>', 'lineage file (YAML or JSON); required')
    .option('--out <file>', "write the manifest's RFC 8785 bytes (sha256sum of the file is the manifest digest)")
    .option('--leaves <file>', 'write the 32-byte leaf hashes for later inclusion proofs')
    .option('--split-key <file>', "HMAC key of the lineage's patient-level split")
    .addOption(formatOption())
    .option('--json', 'print machine-readable JSON only')
    .action(async (dataFile: string, o: ManifestOptions) =>
      ctx.setExit(await guard(ctx, () => manifest(ctx, dataFile, o))),
    );

  dataset
    .command('prove')
    .description("prove one record's inclusion (Merkle); with --manifest, refuse unless the roots match")
    .argument('<data>', 'data file (.csv or .parquet)')
    .requiredOption('--row <index>', 'row index, 0-based')
    .option('--manifest <file>', 'manifest whose Merkle root the data must match')
    .addOption(formatOption())
    .option('--json', 'print machine-readable JSON only')
    .action(async (dataFile: string, o: ProveOptions) => ctx.setExit(await guard(ctx, () => prove(ctx, dataFile, o))));
}

async function manifest(ctx: CliContext, dataFile: string, o: ManifestOptions): Promise<number> {
  if (!o.lineage) throw new UsageError('--lineage is required (run with --help for usage)');
  requireFile(dataFile, 'data file');
  const lineage = readLineage(o.lineage);
  const splitKey = o.splitKey ? readSplitKey(o.splitKey, lineage) : undefined;

  const built = await buildDatasetManifest({
    dataFile,
    ...(o.format ? { format: o.format } : {}),
    lineage,
    lineageDir: path.dirname(path.resolve(o.lineage)),
    ...(splitKey ? { splitKey } : {}),
  });
  if (o.out) writeFileAtomic(o.out, canonicalBytes(built.manifest));
  if (o.leaves) writeFileAtomic(o.leaves, built.tree.leafHashes());
  const missing = missingProvenanceFields(built.manifest);
  if (o.json) {
    ctx.printJson({ manifestSha256: built.manifestSha256, missingProvenance: missing, manifest: built.manifest });
    return Exit.ok;
  }
  ctx.print(manifestSummary(built, missing, o.out));
  return Exit.ok;
}

function manifestSummary(built: BuiltManifest, missing: string[], out: string | undefined): string {
  const m = built.manifest;
  const lines = [
    `dataset ${m.dataset.name} ${m.dataset.version}: ${m.rows.count} rows × ${m.columns.length} columns (${m.file.format}, ${m.file.bytes} bytes)`,
    `merkle root      ${m.rows.merkle.root}`,
    `manifest sha256  ${built.manifestSha256}`,
  ];
  if (m.split)
    lines.push(
      `split            ${Object.entries(m.split.rowCounts)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ')}`,
    );
  for (const step of m.steps ?? []) {
    if (step.kind === 'labelling' && step.interRaterAgreement) {
      const a = step.interRaterAgreement;
      lines.push(
        `agreement        ${a.method} κ=${a.kappa.toFixed(3)} (SE ${a.standardError?.toFixed(3) ?? '-'}, ${a.raters} raters, ${a.subjects} subjects)`,
      );
    }
  }
  if (out) lines.push(`written          ${out}`);
  lines.push(missing.length ? `missing provenance (${missing.length}): ${missing.join(', ')}` : 'provenance complete');
  return lines.join('\n');
}

/** Re-reads the data (no stored leaves needed) and proves the row's inclusion. */
async function prove(ctx: CliContext, dataFile: string, o: ProveOptions): Promise<number> {
  const index = Number(o.row);
  if (!Number.isSafeInteger(index) || index < 0) throw new UsageError('--row must be a non-negative integer');
  requireFile(dataFile, 'data file');

  const table = await openTable(dataFile, o.format);
  const tree = new MerkleTreeBuilder();
  let record: (string | null)[] | undefined;
  for await (const batch of table.batches) {
    for (const row of batch) {
      if (tree.treeSize === index) record = row;
      tree.append(rowDigest(row));
    }
  }
  if (!record) throw new ManifestInputError(`row ${index} does not exist: the file has ${tree.treeSize} rows`);
  const proof = rowInclusionProof(tree, index, record);
  if (o.manifest) {
    requireFile(o.manifest, 'manifest');
    const m = JSON.parse(fs.readFileSync(o.manifest, 'utf8')) as { rows?: { merkle?: { root?: string } } };
    if (m.rows?.merkle?.root !== proof.root)
      throw new ManifestInputError(`${path.basename(dataFile)} does not match ${o.manifest}: Merkle roots differ`);
  }
  ctx.io.stdout(
    o.json
      ? `${JSON.stringify(proof, null, 2)}\n`
      : `row ${index} of ${proof.treeSize}\nroot       ${proof.root}\nrow digest ${proof.rowDigest}\nproof      ${proof.proof.join('\n           ')}\n`,
  );
  return Exit.ok;
}

/** Input problems are one `error:` line and exit 2; anything else is an internal error (exit 1). */
async function guard(ctx: CliContext, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (err) {
    const inputError =
      err instanceof UsageError ||
      err instanceof ManifestInputError ||
      err instanceof TableReadError ||
      (err instanceof RangeError && /split HMAC key/.test(err.message));
    if (inputError) {
      ctx.io.stderr(`error: ${err.message}\n`);
      return Exit.usage;
    }
    ctx.io.stderr(`internal error: ${err instanceof Error ? err.message : String(err)}\n`);
    return Exit.internal;
  }
}
