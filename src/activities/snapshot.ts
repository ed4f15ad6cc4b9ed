import type { EvidenceRef, ReleaseRequest, SnapshotMeasurement } from '../domain';
import { EvidenceIntegrityError, EvidenceNotFoundError } from '../evidence';
import type { ActivityDeps } from './deps';

export interface StageOutput<M> {
  measurement: M;
  artifacts: EvidenceRef[];
}

/** Provenance every release must carry beyond what the request schema already enforces. */
export function missingProvenance(request: ReleaseRequest): string[] {
  const missing: string[] = [];
  for (const role of ['training', 'evaluation'] as const) {
    if (!request.datasets.some((d) => d.role === role)) missing.push(`datasets[role=${role}]`);
  }
  if (request.trigger.kind !== 'api' && !request.trigger.deliveryId) missing.push('trigger.deliveryId');
  return missing;
}

export function snapshotActivities({ evidence, environment }: Pick<ActivityDeps, 'evidence' | 'environment'>) {
  /** Re-hash one referenced artifact; a mismatch or absence is a finding, a network error is retried. */
  async function verify(label: string, key: string, sha256: string): Promise<string | null> {
    try {
      await evidence.getBytes(key, sha256);
      return null;
    } catch (e) {
      if (e instanceof EvidenceIntegrityError) return `${label} (${key}): stored bytes hash to ${e.actualSha256}, pinned ${e.expectedSha256}`;
      if (e instanceof EvidenceNotFoundError) return `${label} (${key}): not found`;
      throw e;
    }
  }

  return {
    async snapshotRelease(input: { releaseId: string; request: ReleaseRequest; at: string }): Promise<StageOutput<SnapshotMeasurement>> {
      const { request } = input;
      const policyRef = await evidence.putJson(request.policy);
      const checks = [
        verify(`candidate model ${request.candidate.version}`, request.candidate.artifact.key, request.candidate.artifact.sha256),
        verify(`incumbent model ${request.incumbent.version}`, request.incumbent.artifact.key, request.incumbent.artifact.sha256),
        ...request.datasets.map((d) => verify(`${d.role} dataset ${d.name}`, d.artifact.key, d.artifact.sha256)),
      ];
      const digestMismatches = (await Promise.all(checks)).filter((x): x is string => x !== null);
      const measurement: SnapshotMeasurement = {
        policySha256: policyRef.sha256,
        missingFields: missingProvenance(request),
        digestMismatches,
      };
      const snapshot = await evidence.putJson({
        kind: 'vigil.snapshot/v1',
        releaseId: input.releaseId,
        at: input.at,
        modelName: request.modelName,
        candidate: request.candidate,
        incumbent: request.incumbent,
        datasets: request.datasets,
        codeCommit: request.codeCommit,
        trigger: request.trigger,
        submittedBy: request.submittedBy,
        reason: request.reason,
        policy: { id: request.policy.id, version: request.policy.version, registeredAt: request.policy.registeredAt, sha256: policyRef.sha256 },
        environment,
        verification: measurement,
      });
      return { measurement, artifacts: [snapshot, policyRef] };
    },
  };
}
