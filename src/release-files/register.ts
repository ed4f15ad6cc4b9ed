/**
 * `vigil model register`: the model production serves today (a model's first release, or a model deployed before
 * Vigil) made known to Vigil. Its bytes and model card go to the evidence store, its provenance record (what it was
 * built from: the record the next release's change summary compares with) is written at `provenanceKey`, and the
 * route store names it production when no version is. Checks run offline first; a conflict is refused before
 * anything is written.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { EvidencePort, RouteControl } from '../contracts/ports';
import { interfaceForVersion, ModelCardSchema, type ModelCard } from '../domain';
import { canonicalBytes, sha256Hex } from '../evidence';
import { ModelFormatError, modelFormatOf, planOnnxInterface } from '../models';
import { decodeGraph } from '../models/onnx-proto';
import { readLineage } from '../provenance/lineage-file';
import { ManifestInputError } from '../provenance/manifest-builder';
import {
  modelProvenanceRecord,
  readModelRecord,
  writeModelRecord,
  type ModelProvenanceRecord,
} from '../provenance/model-record';
import { ReleaseFileError } from './plan';

const VERSION = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$/;
const MODEL_NAME = /^[a-z0-9][a-z0-9-]{0,63}$/;
const COMMIT = /^[0-9a-f]{40}$/;
/** What the record says when the training code's commit is not known (a model trained before anyone kept it). */
export const UNRECORDED_COMMIT = 'unrecorded';

export interface RegisterOptions {
  modelName: string;
  version: string;
  /** The model file production serves (.onnx, or Vigil's logistic JSON). */
  file: string;
  /** The model card (YAML or JSON, ModelCardSchema); its `interface` must load the model. */
  card: string;
  /** Training data files, each `path` or `name=path`; a bare path is named `<model>-<file name without extension>`. */
  data?: string[];
  /** Lineage files of the training data: their label policy and feature definitions go into the record. */
  lineage?: string[];
  /** The 40-character commit of the training code, when known. */
  codeCommit?: string;
}

/** Everything register will write, checked and computed offline. */
export interface RegistrationPlan {
  modelName: string;
  version: string;
  model: { file: string; bytes: Buffer; sha256: string; mediaType: string; describe: string };
  card: { file: string; bytes: Buffer; sha256: string };
  record: ModelProvenanceRecord;
}

/** Read and check the files; throws ReleaseFileError with one line for the person who named them. */
export function planRegistration(o: RegisterOptions): RegistrationPlan {
  if (!MODEL_NAME.test(o.modelName))
    throw new ReleaseFileError(`model name "${o.modelName}": lowercase letters, digits and "-" (at most 64)`);
  if (!VERSION.test(o.version))
    throw new ReleaseFileError(`version "${o.version}": letters, digits, ".", "_", "+", "-"`);
  if (o.codeCommit !== undefined && !COMMIT.test(o.codeCommit))
    throw new ReleaseFileError(`code commit "${o.codeCommit}": a 40-character lowercase hex git commit`);
  const modelBytes = readFile(o.file, 'model file');
  const cardBytes = readFile(o.card, 'model card');
  let card: ModelCard;
  try {
    card = ModelCardSchema.parse(parseYaml(cardBytes.toString('utf8')));
  } catch (e) {
    const issues = (e as { issues?: Array<{ path: unknown[]; message: string }> }).issues;
    const why = issues?.length
      ? issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')
      : (e as Error).message.split('\n')[0];
    throw new ReleaseFileError(`model card ${o.card}: ${why}`);
  }

  let describe: string;
  let mediaType: string;
  try {
    const format = modelFormatOf(o.file);
    if (format === 'vigil.predictions/v1')
      throw new ModelFormatError('a prediction file is not a model production can serve; register the model itself');
    mediaType = format === 'onnx' ? 'application/onnx' : 'application/json';
    describe =
      format === 'onnx'
        ? planOnnxInterface(decodeGraph(modelBytes), interfaceForVersion(card, o.version)).describe
        : 'Vigil logistic model';
  } catch (e) {
    throw new ReleaseFileError(`${o.file} with model card ${o.card} (version ${o.version}): ${(e as Error).message}`);
  }

  const trainingData = (o.data ?? []).map((spec) => {
    const at = spec.indexOf('=');
    const file = at > 0 ? spec.slice(at + 1) : spec;
    const name = at > 0 ? spec.slice(0, at) : `${o.modelName}-${path.basename(file).replace(/\.[^.]+$/, '')}`;
    return { name: name.slice(0, 128), sha256: sha256Hex(readFile(file, 'training data')) };
  });
  const lineages = (o.lineage ?? []).map((file) => {
    try {
      return readLineage(file);
    } catch (e) {
      if (e instanceof ManifestInputError) throw new ReleaseFileError(e.message);
      throw e;
    }
  });
  const sha256 = sha256Hex(modelBytes);
  return {
    modelName: o.modelName,
    version: o.version,
    model: { file: o.file, bytes: modelBytes, sha256, mediaType, describe },
    card: { file: o.card, bytes: cardBytes, sha256: sha256Hex(cardBytes) },
    record: modelProvenanceRecord(
      o.modelName,
      { version: o.version, sha256 },
      o.codeCommit ?? UNRECORDED_COMMIT,
      trainingData,
      lineages,
    ),
  };
}

export type RegistrationResult =
  | {
      ok: true;
      model: { key: string; sha256: string };
      modelCard: { key: string; sha256: string };
      /** `written` now, or `present`: the identical record was already stored. */
      record: 'written' | 'present';
      /** `set` now, or `already`: the route store already named this version production. */
      production: 'set' | 'already';
      registration: { key: string; sha256: string };
    }
  | { ok: false; reason: string };

/**
 * Write the plan: refuses (nothing written) if production already serves another version, or if a different
 * provenance record of these model bytes is stored (the first record stands).
 */
export async function registerModel(
  plan: RegistrationPlan,
  evidence: EvidencePort,
  routes: RouteControl,
  at: Date = new Date(),
): Promise<RegistrationResult> {
  const serving = (await routes.current(plan.modelName))?.production ?? null;
  if (serving !== null && serving !== plan.version)
    return {
      ok: false,
      reason: `production of ${plan.modelName} already serves ${serving}, not ${plan.version}; register the version production serves (a release, not a registration, replaces it)`,
    };
  const stored = await readModelRecord(evidence, plan.modelName, plan.model.sha256);
  if (stored && sha256Hex(canonicalBytes(stored)) !== sha256Hex(canonicalBytes(plan.record)))
    return {
      ok: false,
      reason: `a different provenance record of ${plan.modelName} sha256 ${plan.model.sha256} is already stored (version ${stored.model.version}, code ${stored.codeCommit}); the first record stands`,
    };
  const model = await evidence.putBytes(plan.model.bytes, plan.model.mediaType);
  const modelCard = await evidence.putBytes(plan.card.bytes, 'application/yaml');
  const record = (await writeModelRecord(evidence, plan.record)) && !stored ? 'written' : 'present';
  const registration = await evidence.putJson({
    kind: 'vigil.model-registration/v1',
    at: at.toISOString(),
    modelName: plan.modelName,
    version: plan.version,
    model: { key: model.key, sha256: model.sha256 },
    modelCard: { key: modelCard.key, sha256: modelCard.sha256 },
    provenance: plan.record,
    productionBefore: serving,
  });
  if (serving === null)
    await routes.apply(
      plan.modelName,
      { version: 1, production: plan.version, canary: null, shadow: null },
      `register:${plan.modelName}@${plan.version}`,
    );
  return {
    ok: true,
    model: { key: model.key, sha256: model.sha256 },
    modelCard: { key: modelCard.key, sha256: modelCard.sha256 },
    record,
    production: serving === null ? 'set' : 'already',
    registration: { key: registration.key, sha256: registration.sha256 },
  };
}

function readFile(file: string, what: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    throw new ReleaseFileError(`${what}: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? e}`);
  }
}
