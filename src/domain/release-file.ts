/**
 * The release file (`vigil release start -f release.yaml`): a release request whose artifacts are local files.
 * Paths are relative to the release file. Every file may carry the sha256 it must have (`{ path, sha256 }`);
 * the CLI checks those offline, uploads what the store lacks and fills the digests into the ReleaseRequest it
 * starts. docs/own-model.md walks through one; `schemas/release-file.schema.json` is this schema for editors.
 */
import { z } from 'zod';
import { DatasetRefSchema, ModelRefSchema, ReleaseRequestObjectSchema, TriggerSchema } from './release';

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'lowercase hex SHA-256');
const relativePath = z.string().min(1).max(1024);

/** A local file, optionally pinned: a digest given here must match the file's bytes, or nothing is started. */
export const LocalFileSchema = z.union([relativePath, z.object({ path: relativePath, sha256 }).strict()]);
export type LocalFile = z.infer<typeof LocalFileSchema>;

export const ReleaseFileModelSchema = z
  .object({
    version: ModelRefSchema.shape.version,
    /** The model file: .onnx, a Vigil logistic .json, or a prediction file (.csv, format vigil.predictions/v1). */
    model: LocalFileSchema,
    /** Default: from the file name (.onnx, .json, .csv). */
    format: z.enum(['vigil.logistic/v1', 'onnx', 'vigil.predictions/v1']).optional(),
    trainingStartedAt: ModelRefSchema.shape.trainingStartedAt,
  })
  .strict();

export const ReleaseFileDatasetSchema = z
  .object({
    role: DatasetRefSchema.shape.role,
    name: DatasetRefSchema.shape.name,
    /** The data file (.csv or .parquet). */
    data: LocalFileSchema,
    /** A `vigil.dataset-schema/v1` file: columns, roles (label, features, slices) and missing-value policies. */
    schema: LocalFileSchema.optional(),
    /** The lineage file (`schemas/dataset-lineage.schema.json`): the manifest is built from it and the data. */
    lineage: LocalFileSchema.optional(),
    /** Or a manifest built beforehand with `vigil dataset manifest --out`. */
    manifest: LocalFileSchema.optional(),
    /** HMAC key file of the lineage's patient-level split (read to build the manifest, never uploaded). */
    splitKey: relativePath.optional(),
  })
  .strict()
  .refine((d) => !(d.lineage && d.manifest), { message: 'give lineage or manifest, not both', path: ['manifest'] });

export const ReleaseFileSchema = z
  .object({
    $schema: z.string().optional(),
    modelName: ReleaseRequestObjectSchema.shape.modelName,
    candidate: ReleaseFileModelSchema,
    /** The model production serves today (the release's comparator). */
    incumbent: ReleaseFileModelSchema,
    datasets: z.array(ReleaseFileDatasetSchema).min(1).max(32),
    /** Model card (YAML, ModelCardSchema): dossier text, and `interface` for ONNX exports (docs/models.md). */
    modelCard: LocalFileSchema.optional(),
    /** Release policy (YAML/JSON, `schemas/release-policy.schema.json`); pin its digest before training. */
    policy: LocalFileSchema,
    /** The change: why, by whom, from which training code. */
    change: z
      .object({
        reason: ReleaseRequestObjectSchema.shape.reason,
        submittedBy: ReleaseRequestObjectSchema.shape.submittedBy,
        codeCommit: ReleaseRequestObjectSchema.shape.codeCommit,
        trigger: TriggerSchema.optional(),
      })
      .strict(),
    attempt: ReleaseRequestObjectSchema.shape.attempt.optional(),
  })
  .strict();
export type ReleaseFile = z.infer<typeof ReleaseFileSchema>;
export type ReleaseFileModel = z.infer<typeof ReleaseFileModelSchema>;
export type ReleaseFileDataset = z.infer<typeof ReleaseFileDatasetSchema>;

/** The path of a local file reference. */
export const localPath = (f: LocalFile): string => (typeof f === 'string' ? f : f.path);
/** The digest a local file reference pins, if any. */
export const pinnedSha256 = (f: LocalFile): string | undefined => (typeof f === 'string' ? undefined : f.sha256);
