/** The demo's provenance: dataset manifests, the model card, and the record of how the incumbent was built. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { EvidencePort } from '../contracts/ports';
import { modelProvenanceRecord, writeRecord } from '../activities/snapshot';
import { DatasetManifestSchema } from '../domain/dataset-manifest';
import { sha256Hex } from '../evidence';
import { DEMO_INCUMBENT, DEMO_MODEL_NAME } from './artifacts';
import { manifestFile } from './manifests';

const DEMO_CODE_COMMIT = sha256Hex(Buffer.from('vigil-demo-training-code')).slice(0, 40);

/**
 * Upload the manifests (canonical JSON, so the pinned digest is the manifest digest attestations use) and the
 * model card, and record the incumbent as if Vigil had released it: same code, label policy and features,
 * trained on the previous quarter's cohort (a documented stand-in digest, like the demo's code commit).
 * The candidate's change is then "model and data" — within the demo policy's change control plan.
 */
export async function seedDemoProvenance(
  evidence: EvidencePort,
  dir: string,
  incumbent: { sha256: string; version: string },
) {
  const put = async (name: 'training' | 'evaluation') => {
    const manifest = DatasetManifestSchema.parse(JSON.parse(await readFile(path.join(dir, manifestFile(name)), 'utf8')));
    const ref = await evidence.putJson(manifest);
    return { manifest, ref: { key: ref.key, sha256: ref.sha256 } };
  };
  const [training, evaluation, card] = await Promise.all([
    put('training'),
    put('evaluation'),
    readFile(path.join(dir, 'model-card.yaml')).then((b) => evidence.putBytes(b, 'application/yaml')),
  ]);
  // Only the pre-Vigil 1.4.0 needs the stand-in record; a demo model released since has the one its SNAPSHOT wrote.
  if (incumbent.version === DEMO_INCUMBENT.version)
    await writeRecord(
    evidence,
    modelProvenanceRecord(
      DEMO_MODEL_NAME,
      { version: DEMO_INCUMBENT.version, sha256: incumbent.sha256 },
      DEMO_CODE_COMMIT,
      [{ name: 'sepsis-cohort-2026q2-train', sha256: sha256Hex(Buffer.from('vigil-demo-2026q2-training-data')) }],
      [training.manifest],
    ),
  );
  return {
    manifests: { training: training.ref, evaluation: evaluation.ref },
    modelCard: { key: card.key, sha256: card.sha256 },
  };
}
