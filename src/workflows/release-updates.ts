/**
 * The lifecycle's Update handlers that write a record: a signature, its withdrawal, and a person's decision on a
 * held canary. Each re-checks the state (another Update may have landed since validation), reserves, records the
 * evidence and only then changes the state.
 */
import type {
  ApprovalInput,
  ApprovalResult,
  CanaryDecisionInput,
  CanaryDecisionResult,
  WithdrawalInput,
  WithdrawalResult,
} from '../domain';
import { patched } from '@temporalio/workflow';
import { acts, nowIso } from './activities-proxy';
import type { ReleaseState } from './release-state';

/**
 * Patch: withdrawal and adjudication records carry the OpenID authentication of the act (docs/sso.md), where before
 * they were built without it. docs/workflow-versioning.md.
 */
export const SIGNER_AUTHENTICATION_RECORDS = 'signer-authentication-records';

/** approveRelease: record the signature, then count it. */
export async function sign(state: ReleaseState, raw: ApprovalInput): Promise<ApprovalResult> {
  // Re-check: another signature may have been accepted since this one was validated.
  const a = state.checkApproval(raw);
  state.reserve(a);
  try {
    const at = nowIso();
    const evidence = await acts.recordSignature({
      releaseId: state.releaseId,
      signature: { ...a, at },
      chainHead: state.chainHead,
    });
    state.addSignature({ ...a, at, evidence });
    return {
      releaseId: state.releaseId,
      accepted: true,
      signatureKey: evidence.key,
      pendingRoles: state.pendingRoles(),
    };
  } finally {
    state.release(a);
  }
}

/** withdrawSignature: record the withdrawal of the signer's own approval. */
export async function withdraw(state: ReleaseState, raw: WithdrawalInput): Promise<WithdrawalResult> {
  // Re-check: sign-off may have settled, or the same withdrawal landed, since this one was validated.
  const w = state.checkWithdrawal(raw);
  state.reserveWithdrawal(w);
  try {
    const own = state.signatures.find((s) => s.signer === w.signer && s.decision === 'approve' && !s.withdrawal)!;
    const at = nowIso();
    // Asked only when there is an authentication to record, so runs without one (and older histories) take no marker.
    const authentication = w.authentication && patched(SIGNER_AUTHENTICATION_RECORDS) ? w.authentication : undefined;
    const evidence = await acts.recordWithdrawal({
      releaseId: state.releaseId,
      withdrawal: {
        signer: w.signer,
        printedName: own.printedName,
        role: own.role,
        reason: w.reason,
        at,
        signature: own.evidence,
        ...(authentication ? { authentication } : {}),
      },
      chainHead: state.chainHead,
    });
    state.addWithdrawal(w.signer, { at, reason: w.reason, ...(authentication ? { authentication } : {}), evidence });
    return {
      releaseId: state.releaseId,
      withdrawn: true,
      signatureKey: own.evidence.key,
      withdrawalKey: evidence.key,
      pendingRoles: state.pendingRoles(),
    };
  } finally {
    state.releaseWithdrawal(w);
  }
}

/** decideCanary: record a person's resume or rollback of a held canary. */
export async function decideCanary(state: ReleaseState, raw: CanaryDecisionInput): Promise<CanaryDecisionResult> {
  // Re-check: another decision may have been accepted since this one was validated.
  const d = state.checkCanaryDecision(raw);
  const hold = state.canaryHold!;
  state.deciding = true;
  try {
    const at = nowIso();
    const evidence = await acts.recordCanaryDecision({
      releaseId: state.releaseId,
      decision: { ...d, at, hold },
      chainHead: state.chainHead,
    });
    state.canaryDecisions.push({ ...d, at, hold, evidence });
    return { releaseId: state.releaseId, decision: d.decision, record: evidence.key };
  } finally {
    state.deciding = false;
  }
}
