/**
 * Submitting one e-signature as the approveRelease Update, shared by the web UI (src/ui/routes.ts) and the
 * JSON route the CLI uses (POST /api/releases/:id/signatures): the same idempotency for a repeated identical
 * signature and the same mapping of the validator's refusals to HTTP statuses.
 */
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import {
  ErrorType,
  isTerminal,
  type ApprovalInput,
  type CanaryDecisionInput,
  type CanaryDecisionResult,
  type ReleaseStatus,
  type Role,
  type SignatureRecord,
  type WithdrawalInput,
  type WithdrawalResult,
} from '../domain';
import {
  approveReleaseUpdate,
  decideCanaryUpdate,
  releaseStatusQuery,
  withdrawSignatureUpdate,
} from '../domain/messages';
import type { Logger } from '../logging/logger';
import type { TemporalPort } from './temporal-port';
import { refusalType, UpdateRefusal, updateRefusal } from './update-refusal';

export interface SignOffDeps {
  client: TemporalPort;
  log: Logger;
  /** How long a repeated submission waits for a concurrent identical one to land (idempotency). */
  duplicateWaitMs?: number;
}

/** How each refusal from the approval validator reads over HTTP (web UI and JSON API alike). */
export const SIGNATURE_REFUSAL_STATUS: Record<string, ContentfulStatusCode> = {
  [ErrorType.InvalidRequest]: 400,
  [ErrorType.SelfApproval]: 403,
  [ErrorType.RoleNotRequired]: 403,
  [ErrorType.StaleDigest]: 409,
  [ErrorType.DuplicateSigner]: 409,
  [ErrorType.RoleAlreadySigned]: 409,
  [ErrorType.NotAwaitingApproval]: 409,
  [ErrorType.ReleaseFinished]: 409,
  [ErrorType.NoApprovalToWithdraw]: 409,
  [ErrorType.AlreadyWithdrawn]: 409,
  [ErrorType.NotAwaitingCanaryDecision]: 409,
};

/** A signature the release did not take, with the status and validator type to answer with. */
export class SignOffRefusal extends UpdateRefusal {}

export interface SubmittedSignature {
  record: SignatureRecord;
  /** True when this exact signature was already recorded (a repeated or concurrent identical submission). */
  repeated: boolean;
  pending: Role[];
}

export async function releaseStatusOrNull(deps: SignOffDeps, releaseId: string): Promise<ReleaseStatus | null> {
  try {
    return await deps.client.workflow.getHandle(releaseId).query(releaseStatusQuery);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return null;
    deps.log.warn({ releaseId, err: String(err) }, 'sign-off: release status query failed');
    return null;
  }
}

export function findSameSignature(status: ReleaseStatus, a: ApprovalInput): SignatureRecord | undefined {
  // A withdrawn signature is not a repeat: signing again after withdrawing is refused (DuplicateSigner).
  return status.signatures.find((s) => !s.withdrawal && isSameSignature(s, a));
}

/**
 * Byte for byte the recorded signature: every field the signer supplied, meaning and reason included. Anything
 * less would answer "recorded" for words that were never recorded.
 */
function isSameSignature(s: SignatureRecord, a: ApprovalInput): boolean {
  return (
    s.signer === a.signer &&
    s.printedName === a.printedName &&
    s.role === a.role &&
    s.decision === a.decision &&
    s.meaning === a.meaning &&
    s.reason === a.reason &&
    s.dossierSha256 === a.dossierSha256 &&
    s.timeZone === a.timeZone
  );
}

/**
 * One Update per signing act. Idempotent while sign-off is open: exactly the recorded signature again (or one
 * landing concurrently) answers with it; any other second signature by the same person is refused (409), and
 * once the release has ended every signature is (409), the identical one included.
 * Throws SignOffRefusal for every refusal a person can act on.
 */
export async function submitSignature(
  deps: SignOffDeps,
  releaseId: string,
  input: ApprovalInput,
): Promise<SubmittedSignature> {
  const before = await releaseStatusOrNull(deps, releaseId);
  const ended = before && (before.finishing ?? (isTerminal(before.stage) ? before.stage : undefined));
  if (ended) {
    throw new SignOffRefusal(
      409,
      `release ${releaseId} has already finished as ${ended}; it takes no signatures`,
      ErrorType.ReleaseFinished,
    );
  }
  const existing = before && findSameSignature(before, input);
  if (before && existing) return { record: existing, repeated: true, pending: before.pendingRoles };
  const handle = deps.client.workflow.getHandle(releaseId);
  try {
    const result = await handle.executeUpdate(approveReleaseUpdate, { args: [input] });
    const after = await releaseStatusOrNull(deps, releaseId);
    const record = (after && findSameSignature(after, input)) ?? {
      ...input,
      at: new Date().toISOString(),
      evidence: {
        key: result.signatureKey,
        sha256: result.signatureKey.replace(/^sha256\//, ''),
        size: 0,
        mediaType: 'application/json',
      },
    };
    return { record, repeated: false, pending: result.pendingRoles as Role[] };
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) {
      const type = refusalType(err);
      if (type === ErrorType.DuplicateSigner || type === ErrorType.RoleAlreadySigned) {
        // A concurrent identical submission may still be recording its evidence: give it a moment.
        const deadline = Date.now() + (deps.duplicateWaitMs ?? 5000);
        do {
          const now = await releaseStatusOrNull(deps, releaseId);
          const same = now && findSameSignature(now, input);
          if (now && same) return { record: same, repeated: true, pending: now.pendingRoles };
          // A different signature by this signer or for this role already stands: a real refusal, not a repeat.
          if (now?.signatures.some((s) => s.signer === input.signer || s.role === input.role)) break;
          await new Promise((r) => setTimeout(r, 200));
        } while (Date.now() < deadline);
      }
    }
    throw refusalFor(deps, releaseId, 'signature', err, 'signing again', 'sign-off: approval failed unexpectedly');
  }
}

/**
 * An Update's failure as the refusal a person can act on: the validator's typed refusals by status, a timeout
 * as 503, a release no longer running as 409; anything else as 500 (logged).
 */
function refusalFor(
  deps: SignOffDeps,
  releaseId: string,
  what: string,
  err: unknown,
  again = 'trying again',
  logMessage = `sign-off: ${what} failed unexpectedly`,
): SignOffRefusal {
  return updateRefusal(err, {
    releaseId,
    what,
    statuses: SIGNATURE_REFUSAL_STATUS,
    log: deps.log,
    logMessage,
    again,
    refuse: (status, message, type) => new SignOffRefusal(status, message, type),
  });
}

/**
 * One withdrawSignature Update: the signer takes back their own approval while sign-off is open.
 * Throws SignOffRefusal for every refusal (nothing to withdraw, already withdrawn, sign-off no longer open).
 */
export async function submitWithdrawal(
  deps: SignOffDeps,
  releaseId: string,
  input: WithdrawalInput,
): Promise<WithdrawalResult> {
  try {
    return await deps.client.workflow.getHandle(releaseId).executeUpdate(withdrawSignatureUpdate, { args: [input] });
  } catch (err) {
    throw refusalFor(deps, releaseId, 'withdrawal', err);
  }
}

/** One decideCanary Update: a person resumes or rolls back a held canary. Throws SignOffRefusal for every refusal. */
export async function submitCanaryDecision(
  deps: SignOffDeps,
  releaseId: string,
  input: CanaryDecisionInput,
): Promise<CanaryDecisionResult> {
  try {
    return await deps.client.workflow.getHandle(releaseId).executeUpdate(decideCanaryUpdate, { args: [input] });
  } catch (err) {
    throw refusalFor(deps, releaseId, 'canary decision', err);
  }
}
