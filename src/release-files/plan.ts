/**
 * A release file checked offline and turned into what it would upload and start: every file read and hashed,
 * pinned digests compared, policy, model card, dataset schemas and lineage validated, dataset manifests built,
 * and both models scoring the evaluation data through the worker's own loader. Nothing touches the network.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { openScorers, closeAll } from '../activities/artifacts';
import { readDataset } from '../activities/dataset';
import {
  DatasetManifestSchema,
  DatasetSchemaSchema,
  interfaceForVersion,
  localPath,
  missingProvenanceFields,
  ModelCardSchema,
  pinnedSha256,
  ReleaseFileSchema,
  ReleaseRequestSchema,
  releaseIdFor,
  type DatasetManifest,
  type LocalFile,
  type ModelCard,
  type ReleaseFile,
  type ReleaseFileModel,
  type ReleasePolicy,
  type ReleaseRequest,
} from '../domain';
import { canonicalBytes, contentKey, policyDigest, sha256Hex } from '../evidence';
import { modelFormatOf } from '../models';
import { readLineage, readSplitKey } from '../provenance/lineage-file';
import { buildDatasetManifest } from '../provenance/manifest-builder';
import { LocalEvidence } from './local-evidence';
import { loadWrittenPolicyFile } from './policy-file';

/** A problem in the release file or a file it names; the message is for the person who wrote them. */
export class ReleaseFileError extends Error {
  override name = 'ReleaseFileError';
}

/** One object the release needs in the evidence store. */
export interface PlannedUpload {
  /** What it is, e.g. "candidate model 2.0.0", "manifest of evaluation dataset wdbc-eval". */
  what: string;
  /** The local file it comes from; absent for manifests built here. */
  file?: string;
  key: string;
  sha256: string;
  size: number;
  mediaType: string;
  bytes: Uint8Array;
}

/** What scoring the evaluation data showed, per model. */
export interface ScoreCheck {
  model: string;
  rows: number;
  min: number;
  max: number;
  mean: number;
}

export interface ReleasePlan {
  releaseId: string;
  policySha256: string;
  request: ReleaseRequest;
  uploads: PlannedUpload[];
  scoreChecks: ScoreCheck[];
  /** Provenance the manifests still lack (SNAPSHOT refuses the release while any remains). */
  missingProvenance: Array<{ dataset: string; fields: string[] }>;
}

const MEDIA_TYPES: Record<string, string> = {
  onnx: 'application/onnx',
  'vigil.logistic/v1': 'application/json',
  'vigil.predictions/v1': 'text/csv',
};

/** Read and check a release file (YAML or JSON) and everything it names; throws ReleaseFileError. */
export async function planRelease(releaseFile: string): Promise<ReleasePlan> {
  const dir = path.dirname(path.resolve(releaseFile));
  const spec = parseReleaseFile(releaseFile);
  const uploads: PlannedUpload[] = [];
  const read = (ref: LocalFile, what: string): { file: string; bytes: Buffer; sha256: string } => {
    const file = path.resolve(dir, localPath(ref));
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(file);
    } catch (e) {
      throw new ReleaseFileError(`${what}: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? e}`);
    }
    const sha256 = sha256Hex(bytes);
    const pinned = pinnedSha256(ref);
    if (pinned !== undefined && pinned !== sha256)
      throw new ReleaseFileError(
        `${what}: ${localPath(ref)} has sha256 ${sha256}, but the release file pins ${pinned}`,
      );
    return { file, bytes, sha256 };
  };
  const upload = (what: string, bytes: Uint8Array, mediaType: string, file?: string) => {
    const sha256 = sha256Hex(bytes);
    const key = contentKey(sha256);
    if (!uploads.some((u) => u.key === key))
      uploads.push({ what, ...(file ? { file } : {}), key, sha256, size: bytes.length, mediaType, bytes });
    return { key, sha256 };
  };

  const policyFile = path.resolve(dir, localPath(spec.policy));
  const { written, policy } = await loadWrittenPolicyFile(policyFile).catch((e: Error) => {
    throw new ReleaseFileError(`policy: ${e.message}`);
  });
  // The digest is of the document as written; a pin taken before that (of the effective policy) still holds.
  const policySha256 = policyDigest(written);
  const pinnedPolicy = pinnedSha256(spec.policy);
  if (pinnedPolicy !== undefined && pinnedPolicy !== policySha256 && pinnedPolicy !== policyDigest(policy))
    throw new ReleaseFileError(
      `policy: ${localPath(spec.policy)} has digest ${policySha256}, but the release file pins ${pinnedPolicy}: the criteria changed after they were registered`,
    );

  let card: ModelCard | undefined;
  let modelCard: { key: string; sha256: string } | undefined;
  if (spec.modelCard) {
    const c = read(spec.modelCard, 'model card');
    card = parseWith(ModelCardSchema, parseText(c.bytes, c.file), `model card ${localPath(spec.modelCard)}`);
    modelCard = upload('model card', c.bytes, 'application/yaml', c.file);
  }

  const model = (m: ReleaseFileModel, arm: 'candidate' | 'incumbent') => {
    const f = read(m.model, `${arm} model`);
    const format = m.format ?? modelFormatOf(f.file);
    const artifact = upload(`${arm} model ${m.version}`, f.bytes, MEDIA_TYPES[format]!, f.file);
    const iface = format === 'onnx' && card ? interfaceForVersion(card, m.version) : {};
    return {
      version: m.version,
      artifact,
      format,
      ...iface,
      ...(m.trainingStartedAt ? { trainingStartedAt: m.trainingStartedAt } : {}),
    };
  };
  const candidate = model(spec.candidate, 'candidate');
  const incumbent = model(spec.incumbent, 'incumbent');

  const missingProvenance: ReleasePlan['missingProvenance'] = [];
  const datasets = [];
  for (const d of spec.datasets) {
    const what = `${d.role} dataset ${d.name}`;
    const data = read(d.data, what);
    const format = /\.parquet$/i.test(data.file) ? ('parquet' as const) : ('csv' as const);
    const artifact = upload(
      what,
      data.bytes,
      format === 'csv' ? 'text/csv' : 'application/vnd.apache.parquet',
      data.file,
    );
    let schema;
    if (d.schema) {
      const s = read(d.schema, `schema of ${what}`);
      schema = parseWith(DatasetSchemaSchema, parseText(s.bytes, s.file), `dataset schema ${localPath(d.schema)}`);
    }
    const manifest = await datasetManifest(dir, d, data.file, data.sha256, what, read);
    let manifestRef;
    if (manifest) {
      manifestRef = upload(`manifest of ${what}`, canonicalBytes(manifest), 'application/json');
      const fields = missingProvenanceFields(manifest);
      if (fields.length) missingProvenance.push({ dataset: d.name, fields });
    }
    datasets.push({
      role: d.role,
      name: d.name,
      artifact,
      format,
      ...(schema ? { schema } : {}),
      ...(manifestRef ? { manifest: manifestRef } : {}),
    });
  }

  const parsed = ReleaseRequestSchema.safeParse({
    modelName: spec.modelName,
    candidate,
    incumbent,
    datasets,
    codeCommit: spec.change.codeCommit,
    submittedBy: spec.change.submittedBy,
    reason: spec.change.reason,
    trigger: spec.change.trigger ?? { kind: 'api' },
    policy: written,
    ...(modelCard ? { modelCard } : {}),
    attempt: spec.attempt ?? 1,
  });
  if (!parsed.success)
    throw new ReleaseFileError(`the release request it makes is invalid: ${issues(parsed.error.issues)}`);
  const request = parsed.data;

  const scoreChecks = await scoreEvaluation(request, policy, uploads);
  return {
    releaseId: releaseIdFor(request, policySha256),
    policySha256,
    request,
    uploads,
    scoreChecks,
    missingProvenance,
  };
}

function parseReleaseFile(file: string): ReleaseFile {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    throw new ReleaseFileError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? e}`);
  }
  return parseWith(ReleaseFileSchema, parseText(bytes, file), `release file ${file}`);
}

function parseText(bytes: Uint8Array, file: string): unknown {
  const text = Buffer.from(bytes).toString('utf8');
  try {
    return /\.json$/i.test(file) ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new ReleaseFileError(
      `${file}: not valid ${/\.json$/i.test(file) ? 'JSON' : 'YAML'}: ${(e as Error).message}`,
    );
  }
}

type Issue = { path: ReadonlyArray<PropertyKey>; message: string };
const issues = (list: readonly Issue[]) =>
  list.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`).join('; ');

function parseWith<T>(
  schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: { issues: Issue[] } } },
  value: unknown,
  what: string,
): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  throw new ReleaseFileError(`invalid ${what}: ${issues(r.error.issues)}`);
}

/** The dataset's manifest: built from its lineage, or a prebuilt one checked against the data's digest. */
async function datasetManifest(
  dir: string,
  d: ReleaseFile['datasets'][number],
  dataFile: string,
  dataSha256: string,
  what: string,
  read: (ref: LocalFile, what: string) => { file: string; bytes: Buffer },
): Promise<DatasetManifest | undefined> {
  if (d.manifest) {
    const m = read(d.manifest, `manifest of ${what}`);
    const manifest = parseWith(DatasetManifestSchema, parseText(m.bytes, m.file), `manifest ${localPath(d.manifest)}`);
    if (manifest.file.sha256 !== dataSha256)
      throw new ReleaseFileError(
        `manifest of ${what}: it describes a file with sha256 ${manifest.file.sha256}, but ${localPath(d.data)} has ${dataSha256}`,
      );
    return manifest;
  }
  if (!d.lineage) return undefined;
  const lineageFile = path.resolve(dir, localPath(d.lineage));
  read(d.lineage, `lineage of ${what}`); // existence and pinned digest
  try {
    const lineage = readLineage(lineageFile);
    const splitKey = d.splitKey ? readSplitKey(path.resolve(dir, d.splitKey), lineage) : undefined;
    const built = await buildDatasetManifest({
      dataFile,
      lineage,
      lineageDir: path.dirname(lineageFile),
      ...(splitKey ? { splitKey } : {}),
    });
    return built.manifest;
  } catch (e) {
    throw new ReleaseFileError(`manifest of ${what}: ${(e as Error).message}`);
  }
}

/** Both models on the evaluation split, read as OFFLINE_EVAL reads them (same reader, same loader). */
async function scoreEvaluation(
  request: ReleaseRequest,
  policy: ReleasePolicy,
  uploads: readonly PlannedUpload[],
): Promise<ScoreCheck[]> {
  const local = new LocalEvidence();
  for (const u of uploads) await local.putBytes(u.bytes, u.mediaType);
  const evaluation = request.datasets.find((d) => d.role === 'evaluation')!;
  const refs = [request.candidate, request.incumbent];
  try {
    const scorers = await openScorers(local, refs);
    try {
      const features = [...new Set(scorers.flatMap((s) => s.features))];
      const { table } = await readDataset(local, evaluation, { slices: policy.offline.attributes, features });
      const checks: ScoreCheck[] = [];
      for (const [i, scorer] of scorers.entries()) {
        const scores = await scorer.score(table);
        let min = Infinity;
        let max = -Infinity;
        let sum = 0;
        for (const s of scores) {
          min = Math.min(min, s);
          max = Math.max(max, s);
          sum += s;
        }
        checks.push({ model: refs[i]!.version, rows: scores.length, min, max, mean: sum / scores.length });
      }
      return checks;
    } finally {
      await closeAll(scorers);
    }
  } catch (e) {
    if (e instanceof ReleaseFileError) throw e;
    throw new ReleaseFileError(`scoring the evaluation dataset ${evaluation.name}: ${(e as Error).message}`);
  }
}
