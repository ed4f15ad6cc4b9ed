import { ApplicationFailure } from '@temporalio/common';
import { approvalStatement, signStatement, statement } from '../attestation';
import { chainKey, signatureEnvelopeKey } from '../contracts/evidence-keys';
import {
  ChainEntrySchema,
  ErrorType,
  type ChainEntry,
  type CanaryDecisionRecord,
  type ChainHead,
  type DrillReport,
  type EvidenceRef,
  type RouteState,
  type SignatureRecord,
  type SignerAuthentication,
} from '../domain';
import type { ActivityDeps } from './deps';

export const VIGIL_WITHDRAWAL_V1 = 'https://vigil.dev/signature-withdrawal/v1';

export function recordActivities({ evidence, routes, signer }: Pick<ActivityDeps, 'evidence' | 'routes' | 'signer'>) {
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

    async recordSignature(input: {
      releaseId: string;
      signature: Omit<SignatureRecord, 'evidence'>;
      chainHead: ChainHead | null;
    }): Promise<EvidenceRef> {
      const s = input.signature;
      const ref = await evidence.putJson({
        kind: 'vigil.signature/v1',
        releaseId: input.releaseId,
        ...s,
        chainHead: input.chainHead,
      });
      // Sealed by the system key: an in-toto approval statement over the candidate, the dossier and this record.
      // Ed25519 is deterministic, so a retried activity writes the same envelope bytes (create-only key).
      const dossier = JSON.parse(
        Buffer.from(await evidence.getBytes(`sha256/${s.dossierSha256}`, s.dossierSha256)).toString('utf8'),
      ) as {
        candidate: { artifact: { key: string; sha256: string } };
      };
      const st = approvalStatement(
        { name: dossier.candidate.artifact.key, sha256: dossier.candidate.artifact.sha256 },
        {
          releaseId: input.releaseId,
          dossier: { sha256: s.dossierSha256 },
          approver: { id: s.signer, name: s.printedName, role: s.role },
          decision: s.decision,
          meaning: s.meaning,
          reason: s.reason,
          signedAt: s.at,
        },
      );
      const envelope = await signStatement(
        { ...st, subject: [...st.subject, { name: `signature-record:${ref.key}`, digest: { sha256: ref.sha256 } }] },
        [signer],
      );
      await evidence.putNamed(signatureEnvelopeKey(input.releaseId, ref.sha256), envelope);
      return ref;
    },

    /**
     * A signer's withdrawal of their approval: its own record (naming the withdrawn signature record), sealed by
     * the system key like a signature. Deterministic, so a retry lands on the same keys.
     */
    async recordWithdrawal(input: {
      releaseId: string;
      withdrawal: {
        signer: string;
        printedName: string;
        role: string;
        reason: string;
        at: string;
        signature: EvidenceRef;
        /** The OpenID provider's authentication for this withdrawal, when it had one (docs/sso.md). */
        authentication?: SignerAuthentication;
      };
      chainHead: ChainHead | null;
    }): Promise<EvidenceRef> {
      const w = input.withdrawal;
      const ref = await evidence.putJson({
        kind: 'vigil.signature-withdrawal/v1',
        releaseId: input.releaseId,
        ...w,
        chainHead: input.chainHead,
      });
      const st = statement(
        [
          { name: `signature-record:${w.signature.key}`, digest: { sha256: w.signature.sha256 } },
          { name: `withdrawal-record:${ref.key}`, digest: { sha256: ref.sha256 } },
        ],
        VIGIL_WITHDRAWAL_V1,
        {
          releaseId: input.releaseId,
          approver: { id: w.signer, name: w.printedName, role: w.role },
          reason: w.reason,
          withdrawnAt: w.at,
        },
      );
      await evidence.putNamed(signatureEnvelopeKey(input.releaseId, ref.sha256), await signStatement(st, [signer]));
      return ref;
    },

    /** Record the routing decision, then make it take effect. */
    /** One look's verdict with everything the judge computed (e.g. every look of the sequential test), as evidence. */
    async recordVerdict(input: {
      releaseId: string;
      stage: string;
      step: number | null;
      look: number;
      verdict: unknown;
      at: string;
    }): Promise<EvidenceRef> {
      return evidence.putJson({ kind: 'vigil.guardrail-verdict/v1', ...input });
    },

    /** A person's decision on a held canary, chained to the release's evidence head at that moment. */
    async recordCanaryDecision(input: {
      releaseId: string;
      decision: Omit<CanaryDecisionRecord, 'evidence'>;
      chainHead: ChainHead | null;
    }): Promise<EvidenceRef> {
      return evidence.putJson({
        kind: 'vigil.canary-decision/v1',
        releaseId: input.releaseId,
        ...input.decision,
        chainHead: input.chainHead,
      });
    },

    /** A rollback drill's report (src/workflows/rollback-drill.ts); `vigil drill rollback` renders it. */
    async recordDrillReport(report: DrillReport): Promise<EvidenceRef> {
      return evidence.putJson(report);
    },

    async setRoutes(input: {
      releaseId: string;
      modelName: string;
      routes: RouteState;
      reason: string;
      at: string;
    }): Promise<EvidenceRef> {
      const ref = await evidence.putJson({ kind: 'vigil.routes/v1', ...input });
      await routes.apply(input.modelName, input.routes, `${input.releaseId}#${input.routes.version}`);
      return ref;
    },
  };
}
