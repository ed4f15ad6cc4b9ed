import { ApplicationFailure } from '@temporalio/common';
import {
  ChainEntrySchema,
  ErrorType,
  type ChainEntry,
  type ChainHead,
  type EvidenceRef,
  type ReleaseRequest,
  type RouteState,
  type SignatureRecord,
  type StageRecord,
} from '../domain';
import type { ActivityDeps } from './deps';

/** Chain pointers sort in order when listed. */
export function chainKey(releaseId: string, seq: number): string {
  return `releases/${releaseId}/chain/${String(seq).padStart(6, '0')}`;
}

export function recordActivities({ evidence, routes }: Pick<ActivityDeps, 'evidence' | 'routes'>) {
  return {
    /** Append one entry; create-only, so a retried append is idempotent and a fork is refused. */
    async appendChainEntry(entry: ChainEntry): Promise<ChainHead> {
      const parsed = ChainEntrySchema.safeParse(entry);
      if (!parsed.success) {
        throw ApplicationFailure.nonRetryable(`invalid chain entry: ${parsed.error.message}`, ErrorType.InvalidRequest);
      }
      const ref = await evidence.putNamed(chainKey(entry.releaseId, entry.seq), parsed.data);
      return { seq: entry.seq, digest: ref.sha256 };
    },

    /** The dossier is a manifest of everything so far; its digest is what approvers sign. */
    async buildDossier(input: {
      releaseId: string;
      request: ReleaseRequest;
      policySha256: string;
      history: StageRecord[];
      chainHead: ChainHead | null;
      at: string;
    }): Promise<EvidenceRef> {
      const r = input.request;
      return evidence.putJson({
        kind: 'vigil.dossier/v1',
        releaseId: input.releaseId,
        at: input.at,
        modelName: r.modelName,
        change: { reason: r.reason, submittedBy: r.submittedBy, trigger: r.trigger, codeCommit: r.codeCommit },
        candidate: r.candidate,
        incumbent: r.incumbent,
        rollbackTarget: r.incumbent,
        datasets: r.datasets,
        policy: { id: r.policy.id, version: r.policy.version, sha256: input.policySha256 },
        stages: input.history
          .filter((h) => h.decision !== null)
          .map((h) => ({ stage: h.stage, step: h.step, decision: h.decision, evidence: h.artifacts, chainEntry: h.chainEntry })),
        chainHead: input.chainHead,
      });
    },

    async recordSignature(input: {
      releaseId: string;
      signature: Omit<SignatureRecord, 'evidence'>;
      chainHead: ChainHead | null;
    }): Promise<EvidenceRef> {
      return evidence.putJson({ kind: 'vigil.signature/v1', releaseId: input.releaseId, ...input.signature, chainHead: input.chainHead });
    },

    /** Record the routing decision, then make it take effect. */
    async setRoutes(input: { releaseId: string; modelName: string; routes: RouteState; reason: string; at: string }): Promise<EvidenceRef> {
      const ref = await evidence.putJson({ kind: 'vigil.routes/v1', ...input });
      await routes.apply(input.modelName, input.routes);
      return ref;
    },
  };
}
