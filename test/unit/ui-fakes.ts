/** Hand-written stand-ins for the UI tests: in-memory evidence, and a Temporal port whose approvals go through the real ReleaseState. */
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type WorkflowExecutionInfo } from '@temporalio/client';
import { ApplicationFailure, TypedSearchAttributes } from '@temporalio/common';
import type { EvidencePort } from '../../src/contracts/ports';
import { recordActivities } from '../../src/activities/records';
import type { Signer } from '../../src/attestation';
import type { ReleaseHandle, TemporalPort } from '../../src/api';
import {
  ReleaseRequestSchema,
  type ApprovalInput,
  type CanaryDecisionInput,
  type EvidenceRef,
  type ReleaseRequest,
  type WithdrawalInput,
} from '../../src/domain';
import { decideCanaryUpdate, SearchAttr, withdrawSignatureUpdate } from '../../src/domain/messages';
import { canonicalBytes, sha256Hex } from '../../src/evidence/canonical-json';
import { ReleaseState } from '../../src/workflows/release-state';
import { validReleaseRequest } from '../support/fixtures';

export class MemoryEvidence implements EvidencePort {
  readonly objects = new Map<string, { bytes: Buffer; mediaType: string }>();

  async putJson(value: unknown): Promise<EvidenceRef> {
    return this.putBytes(canonicalBytes(value), 'application/json');
  }
  async putBytes(bytes: Uint8Array, mediaType: string): Promise<EvidenceRef> {
    const sha256 = sha256Hex(Buffer.from(bytes));
    const key = `sha256/${sha256}`;
    if (!this.objects.has(key)) this.objects.set(key, { bytes: Buffer.from(bytes), mediaType });
    return { key, sha256, size: bytes.length, mediaType };
  }
  async putNamed(key: string, value: unknown): Promise<EvidenceRef> {
    const bytes = canonicalBytes(value);
    const sha256 = sha256Hex(bytes);
    const existing = this.objects.get(key);
    if (existing && sha256Hex(existing.bytes) !== sha256) throw new Error(`conflict at ${key}`);
    this.objects.set(key, { bytes, mediaType: 'application/json' });
    return { key, sha256, size: bytes.length, mediaType: 'application/json' };
  }
  async getBytes(key: string, expectedSha256?: string): Promise<Uint8Array> {
    const o = this.objects.get(key);
    if (!o) throw new Error(`no object ${key}`);
    const expected = expectedSha256 ?? /^sha256\/([0-9a-f]{64})$/.exec(key)?.[1];
    if (expected && sha256Hex(o.bytes) !== expected) throw new Error(`integrity check failed for ${key}`);
    return o.bytes;
  }
  /** Overwrite stored bytes behind the store's back (tampering). */
  tamper(key: string, edit: (text: string) => string): void {
    const o = this.objects.get(key)!;
    o.bytes = Buffer.from(edit(o.bytes.toString('utf8')));
  }
}

export const AT = '2026-11-26T09:00:00.000Z';

/**
 * One release awaiting approval: its state is the workflow's own ReleaseState, so the validator the UI hits
 * is the real one; accepted signatures are recorded by the real recordSignature activity (DSSE-sealed).
 */
export class FakeRelease {
  readonly state: ReleaseState;
  readonly request: ReleaseRequest;
  updates: ApprovalInput[] = [];
  withdrawals: WithdrawalInput[] = [];
  /** Delay inside the handler, to let tests overlap two submissions. */
  handlerDelayMs = 0;

  constructor(
    readonly releaseId: string,
    readonly evidence: MemoryEvidence,
    readonly signer: Signer,
    overrides: Parameters<typeof validReleaseRequest>[0] = {},
  ) {
    this.request = ReleaseRequestSchema.parse(validReleaseRequest(overrides));
    this.state = new ReleaseState(releaseId, this.request);
  }

  /** Walk the state to AWAITING_APPROVAL with a dossier and an evaluation report in OFFLINE_EVAL. */
  async toAwaitingApproval(
    reportHtml = '<section class="vigil-eval"><h3>Metrics by slice</h3><p>AUC 0.81</p></section>',
  ): Promise<void> {
    const s = this.state;
    for (const stage of ['SNAPSHOT', 'OFFLINE_EVAL', 'SHADOW'] as const) {
      const rec = s.enter(stage, null, AT);
      rec.endedAt = AT;
      rec.decision = { verdict: 'pass', reasons: [`${stage} passed`] };
      if (stage === 'OFFLINE_EVAL')
        rec.artifacts.push(await this.evidence.putBytes(Buffer.from(reportHtml), 'text/html; charset=utf-8'));
    }
    s.enter('AWAITING_APPROVAL', null, AT);
    // The dossier as buildDossier stores it: an index naming a page whose `.dossier` body the UI shows.
    const page = await this.evidence.putBytes(
      Buffer.from(
        `<!DOCTYPE html><html><head><style data-dossier>.dossier h2{color:#123}</style></head><body><div class="dossier"><section data-section="evaluation"><h2>Offline results by cohort</h2>${reportHtml}</section></div></body></html>`,
      ),
      'text/html; charset=utf-8',
    );
    s.dossier = await this.evidence.putJson({
      kind: 'vigil.dossier/v2',
      releaseId: this.releaseId,
      html: page,
      candidate: this.request.candidate,
    });
    s.approvalDeadline = '2026-11-27T09:00:00.000Z';
  }

  handle(): ReleaseHandle {
    const acts = recordActivities({
      evidence: this.evidence,
      routes: { apply: async () => undefined, current: async () => null },
      signer: this.signer,
    });
    return {
      workflowId: this.releaseId,
      describe: async () =>
        ({
          runId: 'run-1',
          status: { name: 'RUNNING' },
          typedSearchAttributes: new TypedSearchAttributes([]),
        }) as never,
      query: async () => structuredClone(this.state.status()),
      executeUpdate: (async (def: { name: string }, options: { args: [unknown] }) => {
        if (def.name === withdrawSignatureUpdate.name) return this.withdraw(options.args[0]);
        if (def.name === decideCanaryUpdate.name) return this.decideCanary(options.args[0]);
        const raw = options.args[0] as ApprovalInput;
        this.updates.push(raw);
        let a: ApprovalInput;
        try {
          a = this.state.checkApproval(raw); // the validator
        } catch (err) {
          throw new WorkflowUpdateFailedError('Workflow Update failed', err as ApplicationFailure);
        }
        this.state.reserve(a);
        try {
          if (this.handlerDelayMs) await new Promise((r) => setTimeout(r, this.handlerDelayMs));
          const evidence = await acts.recordSignature({
            releaseId: this.releaseId,
            signature: { ...a, at: AT },
            chainHead: null,
          });
          this.state.addSignature({ ...a, at: AT, evidence });
          if (a.decision === 'reject')
            this.state.finish(
              'REJECTED',
              `AWAITING_APPROVAL: rejected by ${a.printedName} (${a.role}): ${a.reason}`,
              AT,
            );
          return {
            releaseId: this.releaseId,
            accepted: true,
            signatureKey: evidence.key,
            pendingRoles: this.state.pendingRoles(),
          };
        } finally {
          this.state.release(a);
        }
      }) as unknown as ReleaseHandle['executeUpdate'],
    };
  }

  /** The decideCanary Update, through the real ReleaseState validator and recordCanaryDecision activity. */
  private async decideCanary(raw: unknown) {
    let d: CanaryDecisionInput;
    try {
      d = this.state.checkCanaryDecision(raw);
    } catch (err) {
      throw new WorkflowUpdateFailedError('Workflow Update failed', err as ApplicationFailure);
    }
    const acts = recordActivities({
      evidence: this.evidence,
      routes: { apply: async () => undefined, current: async () => null },
      signer: this.signer,
    });
    const hold = this.state.canaryHold!;
    const evidence = await acts.recordCanaryDecision({
      releaseId: this.releaseId,
      decision: { ...d, at: AT, hold },
      chainHead: null,
    });
    this.state.canaryDecisions.push({ ...d, at: AT, hold, evidence });
    this.state.canaryHold = null;
    return { releaseId: this.releaseId, decision: d.decision, record: evidence.key };
  }

  /** The withdrawSignature Update, through the real ReleaseState and recordWithdrawal activity. */
  private async withdraw(raw: unknown) {
    let w: WithdrawalInput;
    try {
      w = this.state.checkWithdrawal(raw);
    } catch (err) {
      throw new WorkflowUpdateFailedError('Workflow Update failed', err as ApplicationFailure);
    }
    this.withdrawals.push(w);
    const acts = recordActivities({
      evidence: this.evidence,
      routes: { apply: async () => undefined, current: async () => null },
      signer: this.signer,
    });
    const own = this.state.signatures.find((s) => s.signer === w.signer && s.decision === 'approve' && !s.withdrawal)!;
    const evidence = await acts.recordWithdrawal({
      releaseId: this.releaseId,
      withdrawal: {
        signer: w.signer,
        printedName: own.printedName,
        role: own.role,
        reason: w.reason,
        at: AT,
        signature: own.evidence,
        ...(w.authentication ? { authentication: w.authentication } : {}),
      },
      chainHead: null,
    });
    this.state.addWithdrawal(w.signer, {
      at: AT,
      reason: w.reason,
      ...(w.authentication ? { authentication: w.authentication } : {}),
      evidence,
    });
    return {
      releaseId: this.releaseId,
      withdrawn: true as const,
      signatureKey: own.evidence.key,
      withdrawalKey: evidence.key,
      pendingRoles: this.state.pendingRoles(),
    };
  }
}

export class FakeTemporal implements TemporalPort {
  readonly releases = new Map<string, FakeRelease>();

  add(r: FakeRelease): FakeRelease {
    this.releases.set(r.releaseId, r);
    return r;
  }

  workflow = {
    start: async () => {
      throw new Error('not used');
    },
    getHandle: (workflowId: string): ReleaseHandle => {
      const r = this.releases.get(workflowId);
      if (r) return r.handle();
      const missing = async () => {
        throw new WorkflowNotFoundError('not found', workflowId, undefined);
      };
      return { workflowId, describe: missing, query: missing, executeUpdate: missing as never };
    },
    list: (_options: { query: string; pageSize?: number }): AsyncIterable<WorkflowExecutionInfo> => {
      const items = [...this.releases.values()].map(
        (r) =>
          ({
            workflowId: r.releaseId,
            runId: 'run-1',
            status: { name: 'RUNNING' },
            startTime: new Date(AT),
            closeTime: undefined,
            typedSearchAttributes: new TypedSearchAttributes([{ key: SearchAttr.stage, value: r.state.stage }]),
          }) as unknown as WorkflowExecutionInfo,
      );
      return (async function* () {
        yield* items;
      })();
    },
  };

  workflowService = { getSystemInfo: async () => ({}) };
}
