/**
 * The release state machine as a plain class: the workflow drives it, queries read it,
 * and the approval validator consults it synchronously. No I/O, no Temporal calls.
 */
import { ApplicationFailure } from '@temporalio/common';
import {
  ApprovalInputSchema,
  canTransition,
  SupersedeInputSchema,
  ErrorType,
  isTerminal,
  requiredRolesFor,
  type ApprovalInput,
  CanaryDecisionInputSchema,
  type CanaryDecisionInput,
  type CanaryDecisionRecord,
  type CanaryHold,
  type ChangeClass,
  type ChainHead,
  type EvidenceRef,
  type Outcome,
  type ReleaseRequest,
  type ReleaseStatus,
  type Role,
  type RouteState,
  type SignatureRecord,
  type Stage,
  type StageRecord,
  type SupersedeInput,
  type WithdrawalInput,
  type WithdrawalRecord,
  WithdrawalInputSchema,
} from '../domain';
import type { SafeParser } from '../domain/safe-parser';

/** An Update's input, parsed; otherwise a typed, non-retryable refusal with a reason per field. */
function parseUpdate<T>(schema: SafeParser<T>, raw: unknown, what: string): T {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const fields = parsed.error.issues.map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`);
  throw ApplicationFailure.nonRetryable(`invalid ${what}: ${fields.join('; ')}`, ErrorType.InvalidRequest, fields);
}

export class ReleaseState {
  stage: Stage = 'SNAPSHOT';
  outcome: Outcome | null = null;
  reason: string | null = null;
  policySha256: string | null = null;
  dossier: EvidenceRef | null = null;
  chainHead: ChainHead | null = null;
  routes: RouteState | null = null;
  approvalDeadline: string | null = null;
  readonly history: StageRecord[] = [];
  readonly signatures: SignatureRecord[] = [];
  /** Set once a supersede request has been accepted; the lifecycle scope is then cancelled. */
  superseded: SupersedeInput | null = null;
  /** The canary waits for a person (pause step or escalated failure); null otherwise. */
  canaryHold: CanaryHold | null = null;
  /** Every decision taken on a held canary, in order (each recorded as evidence before it counts). */
  readonly canaryDecisions: CanaryDecisionRecord[] = [];
  /** A decision is being recorded right now: a second one is refused until it lands. */
  deciding = false;
  /** Signers whose signature is being recorded right now (an Update handler is awaiting). */
  private readonly inFlight = new Map<string, Role>();
  /** Signers whose withdrawal is being recorded right now: their approval already stops counting. */
  private readonly withdrawing = new Set<string>();

  constructor(
    readonly releaseId: string,
    readonly request: ReleaseRequest,
  ) {}

  /** Set from SNAPSHOT's measurement; decides which roles must sign. */
  changeClass: ChangeClass | null = null;

  get requiredRoles(): Role[] {
    return requiredRolesFor(this.request.policy, this.changeClass);
  }

  /** Approvals the role needs from distinct people (`approval.quorum`, default 1). */
  quorum(role: Role): number {
    return this.request.policy.approval.quorum?.[role] ?? 1;
  }

  /** Signatures that count: not withdrawn and not being withdrawn. */
  standing(): SignatureRecord[] {
    return this.signatures.filter((s) => !s.withdrawal && !this.withdrawing.has(s.signer));
  }

  pendingRoles(): Role[] {
    const approvals = this.standing().filter((s) => s.decision === 'approve');
    return this.requiredRoles.filter((r) => approvals.filter((s) => s.role === r).length < this.quorum(r));
  }

  rejection(): SignatureRecord | undefined {
    return this.standing().find((s) => s.decision === 'reject');
  }

  approvalSettled(): boolean {
    return this.rejection() !== undefined || this.pendingRoles().length === 0;
  }

  enter(stage: Stage, step: number | null, at: string): StageRecord {
    if (stage !== this.stage && !canTransition(this.stage, stage)) {
      throw new Error(`illegal transition ${this.stage} -> ${stage}`);
    }
    this.stage = stage;
    const record: StageRecord = {
      stage,
      step,
      startedAt: at,
      endedAt: null,
      decision: null,
      artifacts: [],
      chainEntry: null,
    };
    this.history.push(record);
    return record;
  }

  finish(outcome: Outcome, reason: string, at: string): void {
    if (!canTransition(this.stage, outcome)) throw new Error(`illegal transition ${this.stage} -> ${outcome}`);
    this.stage = outcome;
    this.outcome = outcome;
    this.reason = reason;
    this.history.push({
      stage: outcome,
      step: null,
      startedAt: at,
      endedAt: at,
      decision: null,
      artifacts: [],
      chainEntry: null,
    });
  }

  /** Every Update is refused once the release has ended. */
  private refuseIfFinished(): void {
    if (isTerminal(this.stage)) {
      throw ApplicationFailure.nonRetryable(
        `release ${this.releaseId} has already finished as ${this.stage}`,
        ErrorType.ReleaseFinished,
      );
    }
  }

  /**
   * Synchronous approval check shared by the Update validator and handler.
   * Throws ApplicationFailure with a reason a person can act on; returns the parsed input.
   */
  checkApproval(raw: unknown): ApprovalInput {
    this.refuseIfFinished();
    if (this.stage !== 'AWAITING_APPROVAL' || this.dossier === null || this.approvalSettled()) {
      throw ApplicationFailure.nonRetryable(
        `release ${this.releaseId} is not awaiting approval (stage ${this.stage})`,
        ErrorType.NotAwaitingApproval,
      );
    }
    const a = parseUpdate(ApprovalInputSchema, raw, 'approval');
    if (a.dossierSha256 !== this.dossier.sha256) {
      throw ApplicationFailure.nonRetryable(
        `stale dossier digest ${a.dossierSha256}: the current dossier is ${this.dossier.sha256}; review it and sign again`,
        ErrorType.StaleDigest,
      );
    }
    if (a.signer === this.request.submittedBy) {
      throw ApplicationFailure.nonRetryable(
        `${a.signer} submitted this release and may not sign it (separation of duties)`,
        ErrorType.SelfApproval,
      );
    }
    if (!this.requiredRoles.includes(a.role)) {
      throw ApplicationFailure.nonRetryable(
        `role ${a.role} is not required for this release (required: ${this.requiredRoles.join(', ')})`,
        ErrorType.RoleNotRequired,
      );
    }
    // A person signs once; a withdrawn approval still counts here (no second signature after a withdrawal).
    if (this.signatures.some((s) => s.signer === a.signer) || this.inFlight.has(a.signer)) {
      const withdrawn = this.signatures.some((s) => s.signer === a.signer && s.withdrawal);
      throw ApplicationFailure.nonRetryable(
        `${a.signer} has already signed this release${withdrawn ? ' (and withdrew that approval; a withdrawn signer may not sign again)' : ''}`,
        ErrorType.DuplicateSigner,
      );
    }
    // The role is full when its standing signatures plus those being recorded reach its quorum.
    const taken =
      this.standing().filter((s) => s.role === a.role).length +
      [...this.inFlight.values()].filter((r) => r === a.role).length;
    if (taken >= this.quorum(a.role)) {
      const q = this.quorum(a.role);
      throw ApplicationFailure.nonRetryable(
        q === 1
          ? `role ${a.role} has already signed this release`
          : `role ${a.role} already has its ${q} signatures on this release`,
        ErrorType.RoleAlreadySigned,
      );
    }
    return a;
  }

  /**
   * Synchronous withdrawal check (validator and handler): only while sign-off is open, only the signer's own
   * approval, once. A rejection ends sign-off at once, so there is never an open rejection to withdraw.
   */
  /** Synchronous check shared by the decideCanary validator and handler. */
  checkCanaryDecision(raw: unknown): CanaryDecisionInput {
    this.refuseIfFinished();
    if (this.canaryHold === null || this.deciding) {
      throw ApplicationFailure.nonRetryable(
        `release ${this.releaseId} is not waiting for a canary decision (stage ${this.stage}${this.deciding ? '; a decision is being recorded' : ''})`,
        ErrorType.NotAwaitingCanaryDecision,
      );
    }
    const d = parseUpdate(CanaryDecisionInputSchema, raw, 'canary decision');
    if (!this.requiredRoles.includes(d.role)) {
      throw ApplicationFailure.nonRetryable(
        `role ${d.role} may not decide on this canary (roles: ${this.requiredRoles.join(', ')})`,
        ErrorType.RoleNotRequired,
      );
    }
    if (d.signer === this.request.submittedBy) {
      throw ApplicationFailure.nonRetryable(
        `${d.signer} submitted this release and may not decide on its canary`,
        ErrorType.SelfApproval,
      );
    }
    return d;
  }

  checkWithdrawal(raw: unknown): WithdrawalInput {
    this.refuseIfFinished();
    if (this.stage !== 'AWAITING_APPROVAL' || this.dossier === null || this.approvalSettled()) {
      throw ApplicationFailure.nonRetryable(
        `release ${this.releaseId} is not awaiting approval (stage ${this.stage}); a signature can only be withdrawn while sign-off is open`,
        ErrorType.NotAwaitingApproval,
      );
    }
    const w = parseUpdate(WithdrawalInputSchema, raw, 'withdrawal');
    const own = this.signatures.find((s) => s.signer === w.signer && s.decision === 'approve');
    if (!own) {
      throw ApplicationFailure.nonRetryable(
        `${w.signer} has no approval on this release to withdraw`,
        ErrorType.NoApprovalToWithdraw,
      );
    }
    if (own.withdrawal || this.withdrawing.has(w.signer)) {
      throw ApplicationFailure.nonRetryable(
        `${w.signer} has already withdrawn their approval of this release`,
        ErrorType.AlreadyWithdrawn,
      );
    }
    return w;
  }

  /** The approval stops counting from here on, while its withdrawal is being recorded. */
  reserveWithdrawal(w: WithdrawalInput): void {
    this.withdrawing.add(w.signer);
  }

  releaseWithdrawal(w: WithdrawalInput): void {
    this.withdrawing.delete(w.signer);
  }

  /** Mark the signer's approval withdrawn; returns the withdrawn signature. */
  addWithdrawal(signer: string, withdrawal: WithdrawalRecord): SignatureRecord {
    const own = this.signatures.find((s) => s.signer === signer && s.decision === 'approve' && !s.withdrawal);
    if (!own) throw new Error(`no standing approval by ${signer}`);
    own.withdrawal = withdrawal;
    this.withdrawing.delete(signer);
    return own;
  }

  /**
   * Synchronous supersede check (validator and handler). Only pre-approval stages can be superseded:
   * once traffic may reach patients, a release ends by rollback or release, not by replacement.
   * Repeating an accepted request with the same `supersededBy` is accepted again (idempotent).
   */
  checkSupersede(raw: unknown): SupersedeInput {
    const s = parseUpdate(SupersedeInputSchema, raw, 'supersede request');
    if (this.superseded) {
      if (this.superseded.supersededBy === s.supersededBy) return this.superseded;
      throw ApplicationFailure.nonRetryable(
        `release ${this.releaseId} is already superseded by ${this.superseded.supersededBy}`,
        ErrorType.ReleaseFinished,
      );
    }
    this.refuseIfFinished();
    if (!canTransition(this.stage, 'SUPERSEDED')) {
      throw ApplicationFailure.nonRetryable(
        `release ${this.releaseId} is in ${this.stage} and can no longer be superseded (only before any canary exposure)`,
        ErrorType.NotSupersedable,
      );
    }
    return s;
  }

  reserve(a: ApprovalInput): void {
    this.inFlight.set(a.signer, a.role);
  }

  release(a: ApprovalInput): void {
    this.inFlight.delete(a.signer);
  }

  addSignature(s: SignatureRecord): void {
    this.inFlight.delete(s.signer);
    this.signatures.push(s);
  }

  status(): ReleaseStatus {
    // An outcome is reported once its chain entry is stored: until then the release is still in its last stage,
    // "finishing" (a query, so no history changes: replay is unaffected).
    const last = this.history[this.history.length - 1];
    const unrecorded = this.outcome !== null && last?.stage === this.outcome && last.chainEntry === null;
    const settled = unrecorded ? this.history.slice(0, -1) : this.history;
    return {
      ...this.reported(),
      ...(unrecorded
        ? { stage: settled[settled.length - 1]?.stage ?? this.stage, outcome: null, reason: null, history: settled }
        : {}),
      ...(unrecorded ? { finishing: this.outcome! } : {}),
    };
  }

  private reported(): ReleaseStatus {
    const r = this.request;
    return {
      releaseId: this.releaseId,
      modelName: r.modelName,
      candidateVersion: r.candidate.version,
      incumbentVersion: r.incumbent.version,
      submittedBy: r.submittedBy,
      stage: this.stage,
      outcome: this.outcome,
      reason: this.reason,
      policy: { id: r.policy.id, version: r.policy.version, sha256: this.policySha256 },
      requiredRoles: this.requiredRoles,
      pendingRoles: this.pendingRoles(),
      dossier: this.dossier,
      signatures: this.signatures,
      routes: this.routes,
      chainHead: this.chainHead,
      history: this.history,
      approvalDeadline: this.approvalDeadline,
      ...(this.canaryHold || this.canaryDecisions.length
        ? { canaryHold: this.canaryHold, canaryDecisions: this.canaryDecisions }
        : {}),
    };
  }
}
