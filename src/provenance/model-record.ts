/**
 * The record of what a released model was built from (`vigil.model-provenance/v1`), stored once per model digest
 * at `provenanceKey`: SNAPSHOT writes it for a candidate whose provenance is complete, `vigil model register`
 * for the model production serves before Vigil, and the next release's change summary compares with it.
 */
import { provenanceKey } from '../contracts/evidence-keys';
import type { EvidencePort } from '../contracts/ports';
import type { DatasetManifest } from '../domain/dataset-manifest';
import { canonicalBytes, sha256Hex } from '../evidence';
import { EvidenceConflictError, EvidenceNotFoundError } from '../evidence/errors';

/**
 * What a released model was built from. No release id or time, so re-releasing the same model from the same
 * inputs writes the same bytes.
 */
export interface ModelProvenanceRecord {
  kind: 'vigil.model-provenance/v1';
  modelName: string;
  model: { version: string; sha256: string };
  codeCommit: string;
  /** Training data: what "data changed" is judged on. */
  trainingData: { name: string; sha256: string }[];
  labelPolicyVersions: string[];
  /** SHA-256 of the canonical feature list (names and definitions) of the training data; null if undeclared. */
  featureSchemaSha256: string | null;
  features: string[];
}

/**
 * The record of what a model was built from, with label policy and feature schema read from its training data's
 * lineage steps (a manifest's, or a lineage file's: only `steps` is read).
 */
export function modelProvenanceRecord(
  modelName: string,
  model: { version: string; sha256: string },
  codeCommit: string,
  trainingData: { name: string; sha256: string }[],
  trainingManifests: ReadonlyArray<Pick<DatasetManifest, 'steps'>>,
): ModelProvenanceRecord {
  const steps = trainingManifests.flatMap((m) => m.steps ?? []);
  const featureList = steps.flatMap((s) =>
    s.kind === 'featureGeneration'
      ? (s.features ?? []).map((f) => ({ name: f.name, definition: f.definition ?? null }))
      : [],
  );
  return {
    kind: 'vigil.model-provenance/v1',
    modelName,
    model,
    codeCommit,
    trainingData,
    labelPolicyVersions: [
      ...new Set(steps.flatMap((s) => (s.kind === 'labelling' && s.labelPolicyVersion ? [s.labelPolicyVersion] : []))),
    ].sort(),
    featureSchemaSha256: featureList.length ? sha256Hex(canonicalBytes(featureList)) : null,
    features: featureList.map((f) => f.name),
  };
}

/** The stored record of a model's bytes, or null when none was written. */
export async function readModelRecord(
  evidence: EvidencePort,
  modelName: string,
  sha256: string,
): Promise<ModelProvenanceRecord | null> {
  try {
    const bytes = await evidence.getBytes(provenanceKey(modelName, sha256));
    const record = JSON.parse(Buffer.from(bytes).toString('utf8')) as ModelProvenanceRecord;
    return record.kind === 'vigil.model-provenance/v1' ? record : null;
  } catch (e) {
    if (e instanceof EvidenceNotFoundError) return null;
    throw e;
  }
}

/**
 * First record wins: the same model bytes released again from other inputs keeps what was recorded first.
 * Returns whether this call wrote it.
 */
export async function writeModelRecord(evidence: EvidencePort, record: ModelProvenanceRecord): Promise<boolean> {
  try {
    await evidence.putNamed(provenanceKey(record.modelName, record.model.sha256), record);
    return true;
  } catch (e) {
    if (!(e instanceof EvidenceConflictError)) throw e;
    return false;
  }
}
