import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { EvidencePort } from '../contracts/ports';
import type { ReleasePolicy, ReleaseRequestInput } from '../domain';
import { sha256Hex } from '../evidence';
import { DEMO_CANDIDATE, DEMO_CANDIDATES, DEMO_INCUMBENT, DEMO_MODEL_NAME } from './artifacts';
import { PolicyFileError } from '../release-files/policy-file';
import { seedDemoProvenance } from './provenance';

export const DEMO_DIR = path.resolve(__dirname, '../../demo');

// Moved to src/release-files (the CLI's release files read policies too); re-exported for the demo's callers.
export { loadPolicyFile, PolicyFileError } from '../release-files/policy-file';

/** Upload the bundled demo artifacts and describe a release of the candidate under `policy`. */
export async function seedDemo(
  evidence: EvidencePort,
  policy: ReleasePolicy,
  opts: {
    attempt?: number;
    dir?: string;
    candidateVersion?: string;
    /**
     * The version production serves (read from the route store by the caller): a release must replace it. Default:
     * the demo's incumbent 1.4.0, what a fresh stack serves.
     */
    incumbentVersion?: string;
    modelFormat?: 'onnx' | 'vigil.logistic/v1';
  } = {},
): Promise<ReleaseRequestInput> {
  const dir = opts.dir ?? DEMO_DIR;
  const candidateModel = DEMO_CANDIDATES[opts.candidateVersion ?? DEMO_CANDIDATE.version];
  if (!candidateModel) throw new PolicyFileError(`no demo candidate ${opts.candidateVersion}; known: ${Object.keys(DEMO_CANDIDATES).join(', ')}`);
  const incumbentVersion = opts.incumbentVersion ?? DEMO_INCUMBENT.version;
  const known = [DEMO_INCUMBENT.version, ...Object.keys(DEMO_CANDIDATES)];
  if (!known.includes(incumbentVersion))
    throw new PolicyFileError(`production serves ${incumbentVersion}, which is not a demo model (${known.join(', ')})`);
  // ONNX by default, so the demo exercises onnxruntime end to end; the JSON twins score identically.
  const format = opts.modelFormat ?? 'onnx';
  const [ext, mediaType] = format === 'onnx' ? ['onnx', 'application/onnx'] : ['json', 'application/json'];
  const put = async (rel: string, mediaType: string) => {
    const ref = await evidence.putBytes(await readFile(path.join(dir, rel)), mediaType);
    return { key: ref.key, sha256: ref.sha256 };
  };
  const [incumbent, candidate, training, evaluation] = await Promise.all([
    put(`models/${DEMO_MODEL_NAME}-${incumbentVersion}.${ext}`, mediaType),
    put(`models/${DEMO_MODEL_NAME}-${candidateModel.version}.${ext}`, mediaType),
    put('data/training.csv', 'text/csv'),
    put('data/evaluation.csv', 'text/csv'),
  ]);
  const provenance = await seedDemoProvenance(evidence, dir, { ...incumbent, version: incumbentVersion });
  return {
    modelName: DEMO_MODEL_NAME,
    // Trained after the policy was registered (2026-06-01): the criteria were fixed first.
    candidate: { version: candidateModel.version, artifact: candidate, format, trainingStartedAt: '2026-09-15T08:00:00Z' },
    incumbent: { version: incumbentVersion, artifact: incumbent, format },
    datasets: [
      { role: 'training', name: 'sepsis-cohort-2026q3-train', artifact: training, manifest: provenance.manifests.training },
      { role: 'evaluation', name: 'sepsis-cohort-2026q3-locked-eval', artifact: evaluation, manifest: provenance.manifests.evaluation },
    ],
    modelCard: provenance.modelCard,
    // The demo has no real training repository; a fixed, documented stand-in commit.
    codeCommit: sha256Hex(Buffer.from('vigil-demo-training-code')).slice(0, 40),
    submittedBy: 'alex.mle',
    reason:
      candidateModel === DEMO_CANDIDATE
        ? 'Retrained on the 2026-Q3 cohort with two additional vital-sign trend features.'
        : 'Adds the lactate-trend feature and raises the alert threshold to reduce alarm fatigue.',
    trigger: { kind: 'api' },
    policy,
    attempt: opts.attempt ?? 1,
  };
}
