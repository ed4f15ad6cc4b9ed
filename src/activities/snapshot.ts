import { candidateProvenanceStatement, signStatement } from '../attestation';
import {
  classifyChange,
  DatasetManifestSchema,
  labelSourceOf,
  missingLabelAgreement,
  missingProvenanceFields,
  requiredRolesFor,
  type ChangeClass,
  type ChangeDimension,
  type DatasetManifest,
  type DatasetRef,
  type ReleaseRequest,
  type SnapshotMeasurement,
} from '../domain';
import { EvidenceIntegrityError, EvidenceNotFoundError, pinnedPolicyDocument, policyDigestForm } from '../evidence';
import {
  modelProvenanceRecord,
  readModelRecord,
  writeModelRecord,
  type ModelProvenanceRecord,
} from '../provenance/model-record';
import type { EnvironmentFingerprint, EvidencePort } from '../contracts/ports';
import type { StageOutput } from '../contracts/live-source';
import type { ActivityDeps } from './deps';

export type { StageOutput };
export { modelProvenanceRecord, type ModelProvenanceRecord };

/** Builder id of the SLSA provenance Vigil issues at SNAPSHOT. */
export const SNAPSHOT_BUILDER_ID = 'https://vigil.dev/builders/snapshot/v1';

/** Dataset roles whose manifest (and so whose lineage) every release must carry. */
const ROLES_NEEDING_MANIFEST: readonly DatasetRef['role'][] = ['training', 'evaluation'];

/** Provenance every release must carry beyond what the request schema already enforces. */
export function missingProvenance(request: ReleaseRequest): string[] {
  const missing: string[] = [];
  if (!request.candidate.trainingStartedAt) missing.push('candidate.trainingStartedAt');
  for (const role of ['training', 'evaluation'] as const) {
    if (!request.datasets.some((d) => d.role === role)) missing.push(`datasets[role=${role}]`);
  }
  for (const d of request.datasets) {
    if (ROLES_NEEDING_MANIFEST.includes(d.role) && !d.manifest) missing.push(`datasets[name=${d.name}].manifest`);
  }
  if (request.trigger.kind !== 'api' && !request.trigger.deliveryId) missing.push('trigger.deliveryId');
  return missing;
}

export interface DimensionChange {
  dimension: ChangeDimension;
  changed: boolean;
  from: string | null;
  to: string | null;
  note?: string;
}

/**
 * Dimension-by-dimension comparison with the incumbent's record. Without a record nothing but the model
 * can be compared, and what cannot be compared counts as changed.
 */
export function summariseChange(
  candidate: ModelProvenanceRecord,
  incumbent: ModelProvenanceRecord | null,
  incumbentSha256: string,
): DimensionChange[] {
  const list = (xs: string[]) => (xs.length ? [...xs].sort().join(', ') : '(none)');
  const data = (r: ModelProvenanceRecord) => list(r.trainingData.map((d) => `${d.name}@${d.sha256.slice(0, 12)}`));
  const features = (r: ModelProvenanceRecord) =>
    r.featureSchemaSha256
      ? `${r.features.length} features (sha256 ${r.featureSchemaSha256.slice(0, 12)})`
      : '(undeclared)';
  const dims: [ChangeDimension, (r: ModelProvenanceRecord) => string][] = [
    ['code', (r) => r.codeCommit],
    ['data', data],
    ['labelPolicy', (r) => list(r.labelPolicyVersions)],
    ['featureSchema', features],
  ];
  const model: DimensionChange = {
    dimension: 'model',
    changed: candidate.model.sha256 !== incumbentSha256,
    from: incumbentSha256,
    to: candidate.model.sha256,
  };
  return [
    ...dims.map(([dimension, show]): DimensionChange => {
      const to = show(candidate);
      if (!incumbent)
        return {
          dimension,
          changed: true,
          from: null,
          to,
          note: 'incumbent provenance not recorded: counted as changed',
        };
      const from = show(incumbent);
      return { dimension, changed: from !== to, from, to };
    }),
    model,
  ];
}

/** The SLSA provenance statement for a candidate whose snapshot is complete and verified. */
function provenanceStatement(
  input: { releaseId: string; request: ReleaseRequest; at: string },
  environment: EnvironmentFingerprint,
  withManifest: Array<DatasetRef & { manifest: NonNullable<DatasetRef['manifest']> }>,
  manifests: Array<{ manifest: DatasetManifest | null }>,
) {
  const { request } = input;
  return candidateProvenanceStatement({
    candidate: {
      name: `${request.modelName}@${request.candidate.version}`,
      sha256: request.candidate.artifact.sha256,
    },
    source: { repository: `vigil:${request.modelName}`, commit: request.codeCommit },
    datasets: withManifest.map((d, i) => ({
      name: d.name,
      role: d.role,
      manifestSha256: d.manifest.sha256,
      merkleRoot: manifests[i]!.manifest!.rows.merkle.root,
    })),
    environment: {
      node: environment.node,
      platform: environment.platform,
      arch: environment.arch,
      onnxruntime: environment.onnxruntime ?? null,
      ...(environment.lockfileSha256 ? { lockfileSha256: environment.lockfileSha256 } : {}),
    },
    builder: { id: SNAPSHOT_BUILDER_ID },
    invocationId: input.releaseId,
    startedOn: input.at,
  });
}

/** Re-hash one referenced artifact; a mismatch or absence is a finding, a network error is retried. */
async function read(
  evidence: EvidencePort,
  label: string,
  key: string,
  sha256: string,
): Promise<{ bytes: Uint8Array } | { finding: string }> {
  try {
    return { bytes: await evidence.getBytes(key, sha256) };
  } catch (e) {
    if (e instanceof EvidenceIntegrityError)
      return { finding: `${label} (${key}): stored bytes hash to ${e.actualSha256}, pinned ${e.expectedSha256}` };
    if (e instanceof EvidenceNotFoundError) return { finding: `${label} (${key}): not found` };
    throw e;
  }
}
const verify = async (evidence: EvidencePort, label: string, key: string, sha256: string) => {
  const r = await read(evidence, label, key, sha256);
  return 'finding' in r ? r.finding : null;
};

/** Read, parse and check one dataset manifest against the dataset it describes. */
async function checkManifest(
  evidence: EvidencePort,
  d: DatasetRef & { manifest: NonNullable<DatasetRef['manifest']> },
) {
  const label = `${d.role} dataset ${d.name} manifest`;
  const got = await read(evidence, label, d.manifest.key, d.manifest.sha256);
  if ('finding' in got) return { mismatches: [got.finding], missing: [], manifest: null };
  let manifest: DatasetManifest;
  try {
    manifest = DatasetManifestSchema.parse(JSON.parse(Buffer.from(got.bytes).toString('utf8')));
  } catch (e) {
    return {
      mismatches: [
        `${label} (${d.manifest.key}): not a valid dataset manifest: ${(e as Error).message.split('\n')[0]}`,
      ],
      missing: [],
      manifest: null,
    };
  }
  const mismatches =
    manifest.file.sha256 === d.artifact.sha256
      ? []
      : [`${label}: describes a file with sha256 ${manifest.file.sha256}, but the dataset is ${d.artifact.sha256}`];
  const missing = missingProvenanceFields(manifest).map((f) => `datasets[name=${d.name}].manifest.${f}`);
  return { mismatches, missing, manifest };
}

/** Re-hash everything the release names and check each dataset manifest: what is wrong and what is missing. */
async function verifyInputs(evidence: EvidencePort, request: ReleaseRequest) {
  const withManifest = request.datasets.filter(
    (d): d is DatasetRef & { manifest: NonNullable<DatasetRef['manifest']> } => d.manifest !== undefined,
  );
  const [digestFindings, manifests] = await Promise.all([
    Promise.all([
      verify(
        evidence,
        `candidate model ${request.candidate.version}`,
        request.candidate.artifact.key,
        request.candidate.artifact.sha256,
      ),
      verify(
        evidence,
        `incumbent model ${request.incumbent.version}`,
        request.incumbent.artifact.key,
        request.incumbent.artifact.sha256,
      ),
      ...request.datasets.map((d) =>
        verify(evidence, `${d.role} dataset ${d.name}`, d.artifact.key, d.artifact.sha256),
      ),
      ...(request.modelCard ? [verify(evidence, 'model card', request.modelCard.key, request.modelCard.sha256)] : []),
    ]),
    Promise.all(withManifest.map((d) => checkManifest(evidence, d))),
  ]);
  const digestMismatches = [
    ...digestFindings.filter((x): x is string => x !== null),
    ...manifests.flatMap((m) => m.mismatches),
  ];
  const missingFields = [
    ...missingProvenance(request),
    ...manifests.flatMap((m) => m.missing),
    ...(request.policy.provenance?.requireLabelAgreement
      ? withManifest.flatMap((d, i) =>
          missingLabelAgreement(manifests[i]!.manifest).map((f) => `datasets[name=${d.name}].manifest.${f}`),
        )
      : []),
  ];
  return { withManifest, manifests, digestMismatches, missingFields };
}

export function snapshotActivities({
  evidence,
  environment,
  signer,
  routes,
}: Pick<ActivityDeps, 'evidence' | 'environment' | 'signer' | 'routes'>) {
  return {
    /**
     * Resolve and re-hash everything the release names (models, datasets, their manifests, the model card),
     * pin the policy, check each dataset manifest's provenance, compare with the incumbent and classify the
     * change under the policy's change control plan. A complete snapshot also yields a signed SLSA
     * provenance statement for the candidate.
     */
    async snapshotRelease(input: {
      releaseId: string;
      request: ReleaseRequest;
      at: string;
    }): Promise<StageOutput<SnapshotMeasurement>> {
      const { request } = input;
      // The pinned digest is of the policy as written; the effective policy (what is judged) is stored beside it.
      const writtenForm = policyDigestForm(request) === 'as-written';
      const policyRef = await evidence.putJson(pinnedPolicyDocument(request));
      const effectiveRef = writtenForm ? await evidence.putJson(request.policy) : policyRef;
      const { withManifest, manifests, digestMismatches, missingFields } = await verifyInputs(evidence, request);

      const training = withManifest
        .map((d, i) => ({ ref: d, manifest: manifests[i]!.manifest }))
        .filter((x) => x.ref.role === 'training');
      const candidateRecord = modelProvenanceRecord(
        request.modelName,
        { version: request.candidate.version, sha256: request.candidate.artifact.sha256 },
        request.codeCommit,
        request.datasets.filter((d) => d.role === 'training').map((d) => ({ name: d.name, sha256: d.artifact.sha256 })),
        training.flatMap((t) => (t.manifest ? [t.manifest] : [])),
      );
      const incumbentRecord = await readModelRecord(evidence, request.modelName, request.incumbent.artifact.sha256);
      // What production serves now: a release replaces that version, not the one its author remembers.
      const serving = (await routes.current(request.modelName))?.production ?? null;
      const dimensions = summariseChange(candidateRecord, incumbentRecord, request.incumbent.artifact.sha256);
      const changed = dimensions.filter((d) => d.changed).map((d) => d.dimension);
      const changeClass: ChangeClass = classifyChange(request.policy, changed);
      const changeSummary = await evidence.putJson({
        kind: 'vigil.change-summary/v1',
        releaseId: input.releaseId,
        at: input.at,
        modelName: request.modelName,
        candidate: candidateRecord.model,
        incumbent: {
          version: request.incumbent.version,
          sha256: request.incumbent.artifact.sha256,
          provenanceRecorded: incumbentRecord !== null,
          servedInProduction: serving,
        },
        dimensions,
        changeClass,
        changeControlPlan: request.policy.changeControl ?? null,
        requiredRoles: requiredRolesFor(request.policy, changeClass),
      });

      const measurement: SnapshotMeasurement = {
        policySha256: policyRef.sha256,
        ...(writtenForm ? { policyDigestOf: 'as-written' as const, effectivePolicySha256: effectiveRef.sha256 } : {}),
        missingFields,
        digestMismatches,
        changeClass,
        changed,
        preRegistration: {
          registeredAt: request.policy.registeredAt,
          trainingStartedAt: request.candidate.trainingStartedAt ?? null,
        },
        production: { declared: request.incumbent.version, serving },
        labelSources: withManifest.flatMap((d, i) => {
          const source = labelSourceOf(manifests[i]!.manifest);
          return source ? [{ dataset: d.name, kind: source.kind }] : [];
        }),
      };
      const snapshot = await evidence.putJson({
        kind: 'vigil.snapshot/v1',
        releaseId: input.releaseId,
        at: input.at,
        modelName: request.modelName,
        candidate: request.candidate,
        incumbent: request.incumbent,
        datasets: request.datasets,
        modelCard: request.modelCard ?? null,
        codeCommit: request.codeCommit,
        trigger: request.trigger,
        submittedBy: request.submittedBy,
        reason: request.reason,
        policy: {
          id: request.policy.id,
          version: request.policy.version,
          registeredAt: request.policy.registeredAt,
          sha256: policyRef.sha256,
          ...(writtenForm ? { digestOf: 'as-written', effectiveSha256: effectiveRef.sha256 } : {}),
        },
        environment,
        verification: measurement,
      });
      const artifacts = [snapshot, policyRef, changeSummary];
      if (effectiveRef.key !== policyRef.key) artifacts.push(effectiveRef);
      if (missingFields.length === 0 && digestMismatches.length === 0) {
        // Only complete, verified provenance is attested and recorded for the next release to compare with.
        const statement = provenanceStatement(input, environment, withManifest, manifests);
        artifacts.push(await evidence.putJson(await signStatement(statement, [signer])));
        await writeRecord(evidence, candidateRecord);
      }
      return { measurement, artifacts };
    },
  };
}

/** First record wins (see writeModelRecord). */
export async function writeRecord(evidence: EvidencePort, record: ModelProvenanceRecord): Promise<void> {
  await writeModelRecord(evidence, record);
}
