import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  DATASET_MANIFEST_SCHEMA_VERSION,
  DatasetManifestSchema,
  type DatasetLineage,
  type DatasetManifest,
  type InterRaterAgreement,
  type LineageStep,
} from '../domain/dataset-manifest';
import { readCsvRecords } from '../data/csv-records';
import { parseDecimal } from '../data/decimal';
import { canonicalBytes, sha256Hex } from '../evidence/canonical-json';
import { agreementFromLabels, KappaError, type RaterLabel } from '../stats/kappa';
import { MerkleTreeBuilder } from './merkle';
import { ROW_DIGEST_METHOD, rowDigest, sha256Bytes, type Cell } from './row-digest';
import { SplitAssigner, SPLIT_METHOD } from './split';
import { asciiText, scanTable, type RowSink, type TableFormat } from './table-reader';

/** Bad input to the manifest builder (the message is meant for the person who wrote the input). */
export class ManifestInputError extends Error {
  override name = 'ManifestInputError';
}

export interface SplitKey {
  keyId: string;
  secret: Buffer;
}

export interface BuildManifestInput {
  dataFile: string;
  format?: TableFormat;
  lineage: DatasetLineage;
  /** Directory that relative paths in the lineage (rater label files) are resolved against. */
  lineageDir: string;
  /** HMAC key for patient-level split assignment; required when the lineage's assembly step has a split. */
  splitKey?: SplitKey;
  /** Rows expected, to size the leaf buffer once (optional). */
  expectedRows?: number;
}

export interface BuiltManifest {
  manifest: DatasetManifest;
  /** SHA-256 of the manifest's RFC 8785 bytes: what releases and attestations reference. */
  manifestSha256: string;
  /** All leaf hashes, for inclusion proofs. */
  tree: MerkleTreeBuilder;
}

class ColumnStats {
  nulls = 0;
  numeric = true;
  n = 0;
  mean = 0;
  m2 = 0;
  min = Infinity;
  max = -Infinity;

  add(cell: Cell): void {
    if (cell === null || cell === '') {
      this.nulls += 1;
      return;
    }
    if (this.numeric) this.addNumber(Number(cell));
  }

  /** `v` is Number(cell) of a non-empty cell. */
  addNumber(v: number): void {
    if (!Number.isFinite(v)) {
      this.numeric = false;
      return;
    }
    // Welford: stable, and deterministic given the row order (IEEE 754 doubles everywhere).
    this.n += 1;
    const d = v - this.mean;
    this.mean += d / this.n;
    this.m2 += d * (v - this.mean);
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }

  summary(name: string): DatasetManifest['columns'][number] {
    const numeric =
      this.numeric && this.n > 0
        ? { min: this.min, max: this.max, mean: this.mean, std: this.n > 1 ? Math.sqrt(this.m2 / (this.n - 1)) : 0 }
        : undefined;
    return { name, nulls: this.nulls, ...(numeric ? { numeric } : {}) };
  }
}

/**
 * Streams the data file once: row digests into the Merkle tree, per-column null counts and numeric
 * summaries, split assignment by keyed hash of the patient id. The manifest holds no timestamps, paths or
 * host details, so the same data and lineage give the same manifest bytes on any machine.
 */
export async function buildDatasetManifest(input: BuildManifestInput): Promise<BuiltManifest> {
  const steps = await withComputedAgreement(input.lineage.steps, input.lineageDir);
  const assembly = steps?.find((s): s is Extract<LineageStep, { kind: 'assembly' }> => s.kind === 'assembly');
  const splitSpec = assembly?.split;

  const table = await scanTable(input.dataFile, input.format);
  const { columns } = table;

  let splitter: SplitAssigner | undefined;
  let patientCol = -1;
  if (splitSpec) {
    patientCol = columns.indexOf(splitSpec.patientIdColumn);
    if (patientCol < 0)
      throw new ManifestInputError(
        `patient id column "${splitSpec.patientIdColumn}" is not in ${path.basename(input.dataFile)}`,
      );
    if (!input.splitKey)
      throw new ManifestInputError(`the split needs the HMAC key "${splitSpec.keyId}"; pass it with --split-key`);
    if (input.splitKey.keyId !== splitSpec.keyId) {
      throw new ManifestInputError(
        `split key id "${input.splitKey.keyId}" does not match the lineage's keyId "${splitSpec.keyId}"`,
      );
    }
    splitter = new SplitAssigner(input.splitKey.secret, splitSpec.proportions);
  }

  const stats = columns.map(() => new ColumnStats());
  const tree = new MerkleTreeBuilder(input.expectedRows ?? 1 << 16);
  let rowNumber = 0;
  const emptyPatientId = (): ManifestInputError =>
    new ManifestInputError(`data row ${rowNumber}: empty patient id in "${columns[patientCol]}"`);
  // Both paths do the same per row, in the same order: column statistics, split, then the Merkle leaf.
  const sink: RowSink = {
    cellsRow(row) {
      rowNumber += 1;
      for (let c = 0; c < stats.length; c++) stats[c]!.add(row[c] ?? null);
      if (splitter) {
        const id = row[patientCol];
        if (id === null || id === undefined || id === '') throw emptyPatientId();
        splitter.assign(id);
      }
      tree.append(rowDigest(row));
    },
    // Printable-ASCII row as byte ranges: no cell strings, the digest JSON comes ready-made.
    asciiRow(buf, starts, ends, json, jsonLength) {
      rowNumber += 1;
      for (let c = 0; c < stats.length; c++) {
        const s = stats[c]!;
        const start = starts[c]!;
        const end = ends[c]!;
        if (start === end) s.nulls += 1;
        else if (s.numeric) {
          // Number(text) straight from the bytes (NaN: a text only Number itself can judge)
          const v = parseDecimal(buf, start, end);
          s.addNumber(v === v ? v : Number(asciiText(buf, start, end)));
        }
      }
      if (splitter) {
        const start = starts[patientCol]!;
        const end = ends[patientCol]!;
        if (start === end) throw emptyPatientId();
        splitter.assign(asciiText(buf, start, end));
      }
      tree.append(sha256Bytes(json.subarray(0, jsonLength)));
    },
  };
  await table.scan(sink);
  const file = await table.fileDigest();

  const manifest: DatasetManifest = {
    schemaVersion: DATASET_MANIFEST_SCHEMA_VERSION,
    dataset: input.lineage.dataset,
    file: {
      name: path.basename(input.dataFile),
      format: input.format ?? (/\.parquet$/i.test(input.dataFile) ? 'parquet' : 'csv'),
      bytes: file.bytes,
      sha256: file.sha256,
    },
    lineageSha256: sha256Hex(canonicalBytes(input.lineage)),
    ...(input.lineage.sources ? { sources: input.lineage.sources } : {}),
    ...(steps ? { steps } : {}),
    columns: stats.map((s, i) => s.summary(columns[i]!)),
    rows: {
      count: tree.treeSize,
      rowDigestMethod: ROW_DIGEST_METHOD,
      merkle: { algorithm: 'rfc9162-sha256', treeSize: tree.treeSize, root: tree.root().toString('hex') },
    },
    ...(splitSpec && splitter
      ? {
          split: {
            method: SPLIT_METHOD,
            keyId: splitSpec.keyId,
            patientIdColumn: splitSpec.patientIdColumn,
            proportions: splitSpec.proportions,
            rowCounts: splitter.counts(),
          },
        }
      : {}),
  };
  // Parse our own output: a manifest that fails its schema must never be written.
  const checked = DatasetManifestSchema.parse(manifest);
  return { manifest: checked, manifestSha256: sha256Hex(canonicalBytes(checked)), tree };
}

async function withComputedAgreement(
  steps: LineageStep[] | undefined,
  lineageDir: string,
): Promise<LineageStep[] | undefined> {
  if (!steps) return undefined;
  return Promise.all(
    steps.map(async (step) => {
      if (step.kind !== 'labelling') return step;
      if (step.interRaterAgreement) {
        throw new ManifestInputError(
          'labelling.interRaterAgreement is computed by vigil from raterLabelsFile; remove it from the lineage file',
        );
      }
      if (!step.raterLabelsFile) return step;
      const file = path.resolve(lineageDir, step.raterLabelsFile);
      const agreement = await agreementFromFile(file);
      return { ...step, interRaterAgreement: agreement };
    }),
  );
}

/** Inter-rater agreement from a long-format CSV with columns `subject`, `rater`, `label`. */
export async function agreementFromFile(file: string): Promise<InterRaterAgreement> {
  let bytes: Buffer;
  try {
    bytes = await fs.promises.readFile(file);
  } catch {
    throw new ManifestInputError(`rater labels file not found: ${file}`);
  }
  let records: Record<string, string>[];
  try {
    // field text as written (a label's spaces are part of it), blank lines skipped; the header names the cells
    const [header = [], ...rows] = readCsvRecords(bytes, { dialect: 'exact', skipEmptyLines: true });
    records = rows.map((row) => Object.fromEntries(header.map((name, i) => [name, row[i]!])));
  } catch (err) {
    throw new ManifestInputError(`${path.basename(file)}: ${(err as Error).message}`);
  }
  const first = records[0];
  if (!first || !['subject', 'rater', 'label'].every((c) => c in first)) {
    throw new ManifestInputError(
      `${path.basename(file)}: expected a header "subject,rater,label" and at least one row`,
    );
  }
  const labels: RaterLabel[] = records.map((r) => ({ subject: r.subject!, rater: r.rater!, label: r.label! }));
  try {
    const a = agreementFromLabels(labels);
    return {
      method: a.method,
      kappa: a.kappa,
      standardError: a.standardError,
      observedAgreement: a.observedAgreement,
      expectedAgreement: a.expectedAgreement,
      raters: a.raters,
      subjects: a.subjects,
      categories: a.categories,
      labelFile: { name: path.basename(file), sha256: crypto.createHash('sha256').update(bytes).digest('hex') },
    };
  } catch (err) {
    if (err instanceof KappaError) throw new ManifestInputError(`${path.basename(file)}: ${err.message}`);
    throw err;
  }
}
