import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DatasetLineageSchema, missingProvenanceFields, type DatasetLineage } from '../domain/dataset-manifest';
import { canonicalBytes } from '../evidence/canonical-json';
import { rowInclusionProof } from './inclusion';
import { MerkleTreeBuilder } from './merkle';
import { rowDigest } from './row-digest';
import { buildDatasetManifest, ManifestInputError, type SplitKey } from './manifest-builder';
import { parseYamlOrJson, writeFileAtomic } from './files';
import { openTable, TableReadError, type TableFormat } from './table-reader';

/** The slice of the CLI's io these commands use (compatible with `CliIo` in src/cli/program.ts). */
export interface CommandIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

/** Same meanings as the `vigil` CLI's exit codes. */
export const CommandExit = { ok: 0, internal: 1, usage: 2 } as const;

class UsageError extends Error {}

export const DATASET_MANIFEST_USAGE =
  'usage: vigil dataset manifest <data.csv|data.parquet> --lineage <lineage.yaml|json> [--out manifest.json] ' +
  '[--leaves leaves.bin] [--split-key <key file>] [--format csv|parquet] [--json]';

/**
 * `vigil dataset manifest`: builds the manifest from a data file and a lineage file. With --out, writes the
 * manifest's RFC 8785 bytes (so `sha256sum` of the file is the manifest digest); with --leaves, the 32-byte
 * leaf hashes for later inclusion proofs. Missing provenance is reported, not fatal: the SNAPSHOT gate decides.
 */
export async function runDatasetManifest(args: string[], io: CommandIo): Promise<number> {
  return guard(io, async () => {
    const { values, positionals } = parseOrUsage(
      args,
      {
        lineage: { type: 'string' },
        out: { type: 'string' },
        leaves: { type: 'string' },
        'split-key': { type: 'string' },
        format: { type: 'string' },
        json: { type: 'boolean' },
      },
      DATASET_MANIFEST_USAGE,
    );
    const dataFile = onePositional(positionals, DATASET_MANIFEST_USAGE);
    if (!values.lineage) throw new UsageError(`--lineage is required\n${DATASET_MANIFEST_USAGE}`);
    const format = parseFormat(values.format);
    requireFile(dataFile, 'data file');
    const lineage = readLineage(values.lineage);
    const splitKey = values['split-key'] ? readSplitKey(values['split-key'], lineage) : undefined;

    const built = await buildDatasetManifest({
      dataFile,
      ...(format ? { format } : {}),
      lineage,
      lineageDir: path.dirname(path.resolve(values.lineage)),
      ...(splitKey ? { splitKey } : {}),
    });
    if (values.out) writeFileAtomic(values.out, canonicalBytes(built.manifest));
    if (values.leaves) writeFileAtomic(values.leaves, built.tree.leafHashes());
    const missing = missingProvenanceFields(built.manifest);

    if (values.json) {
      io.stdout(
        `${JSON.stringify({ manifestSha256: built.manifestSha256, missingProvenance: missing, manifest: built.manifest }, null, 2)}\n`,
      );
      return CommandExit.ok;
    }
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
    if (values.out) lines.push(`written          ${values.out}`);
    lines.push(
      missing.length ? `missing provenance (${missing.length}): ${missing.join(', ')}` : 'provenance complete',
    );
    io.stdout(`${lines.join('\n')}\n`);
    return CommandExit.ok;
  });
}

export const DATASET_PROVE_USAGE =
  'usage: vigil dataset prove <data.csv|data.parquet> --row <index, 0-based> [--manifest manifest.json] [--format csv|parquet] [--json]';

/**
 * `vigil dataset prove`: inclusion proof for one record. Re-reads the data (no stored leaves needed);
 * with --manifest, refuses unless the recomputed root equals the manifest's.
 */
export async function runDatasetProve(args: string[], io: CommandIo): Promise<number> {
  return guard(io, async () => {
    const { values, positionals } = parseOrUsage(
      args,
      {
        row: { type: 'string' },
        manifest: { type: 'string' },
        format: { type: 'string' },
        json: { type: 'boolean' },
      },
      DATASET_PROVE_USAGE,
    );
    const dataFile = onePositional(positionals, DATASET_PROVE_USAGE);
    const index = Number(values.row);
    if (values.row === undefined || !Number.isSafeInteger(index) || index < 0)
      throw new UsageError(`--row must be a non-negative integer\n${DATASET_PROVE_USAGE}`);
    requireFile(dataFile, 'data file');
    const format = parseFormat(values.format);

    const table = await openTable(dataFile, format);
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
    if (values.manifest) {
      requireFile(values.manifest, 'manifest');
      const manifest = JSON.parse(fs.readFileSync(values.manifest, 'utf8')) as {
        rows?: { merkle?: { root?: string } };
      };
      if (manifest.rows?.merkle?.root !== proof.root) {
        throw new ManifestInputError(
          `${path.basename(dataFile)} does not match ${values.manifest}: Merkle roots differ`,
        );
      }
    }
    io.stdout(
      values.json
        ? `${JSON.stringify(proof, null, 2)}\n`
        : `row ${index} of ${proof.treeSize}\nroot       ${proof.root}\nrow digest ${proof.rowDigest}\nproof      ${proof.proof.join('\n           ')}\n`,
    );
    return CommandExit.ok;
  });
}

type Options = NonNullable<Parameters<typeof parseArgs>[0]>['options'];

function parseOrUsage<O extends Options>(args: string[], options: O, usage: string) {
  try {
    return parseArgs({ args, options: options!, allowPositionals: true, strict: true }) as {
      values: { [K in keyof O]?: O[K] extends { type: 'boolean' } ? boolean : string };
      positionals: string[];
    };
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n${usage}`);
  }
}

function onePositional(positionals: string[], usage: string): string {
  if (positionals.length !== 1) throw new UsageError(`expected exactly one data file\n${usage}`);
  return positionals[0]!;
}

function parseFormat(format: string | undefined): TableFormat | undefined {
  if (format === undefined || format === 'csv' || format === 'parquet') return format;
  throw new UsageError(`--format must be csv or parquet, not "${format}"`);
}

function requireFile(file: string, what: string): void {
  if (!fs.existsSync(file) || !fs.statSync(file).isFile()) throw new ManifestInputError(`${what} not found: ${file}`);
}

export function readLineage(file: string): DatasetLineage {
  requireFile(file, 'lineage file');
  let raw: unknown;
  try {
    raw = parseYamlOrJson(fs.readFileSync(file, 'utf8'), file);
  } catch (err) {
    throw new ManifestInputError(`${file}: not valid YAML/JSON (${(err as Error).message.split('\n')[0]})`);
  }
  const parsed = DatasetLineageSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length ? issue.path.join('.') : '(root)';
    const more = parsed.error.issues.length > 1 ? ` (+${parsed.error.issues.length - 1} more)` : '';
    throw new ManifestInputError(`${file}: ${where}: ${issue.message}${more}`);
  }
  return parsed.data;
}

function readSplitKey(file: string, lineage: DatasetLineage): SplitKey {
  requireFile(file, 'split key file');
  const assembly = lineage.steps?.find((s) => s.kind === 'assembly');
  const keyId = assembly?.kind === 'assembly' ? assembly.split?.keyId : undefined;
  if (!keyId) throw new ManifestInputError('--split-key given but the lineage has no assembly.split with a keyId');
  const secret = fs.readFileSync(file);
  // A trailing newline from an editor or `echo` is not part of the key.
  const end = secret.length > 0 && secret[secret.length - 1] === 0x0a ? secret.length - 1 : secret.length;
  return { keyId, secret: secret.subarray(0, end) };
}

async function guard(io: CommandIo, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof UsageError || err instanceof ManifestInputError || err instanceof TableReadError) {
      io.stderr(`error: ${err.message}\n`);
      return CommandExit.usage;
    }
    if (err instanceof RangeError && /split HMAC key/.test(err.message)) {
      io.stderr(`error: ${err.message}\n`);
      return CommandExit.usage;
    }
    io.stderr(`internal error: ${err instanceof Error ? err.message : String(err)}\n`);
    return CommandExit.internal;
  }
}
