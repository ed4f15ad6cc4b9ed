/** The release state machine's synchronous checks: what the Update validators accept and refuse. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { ErrorType, type ApprovalInput } from '../../src/domain';
import { ReleaseState } from '../../src/workflows/release-state';
import { validPolicy, validRequest } from '../support/fixtures';

const AT = '2026-11-26T00:00:00.000Z';
const DIGEST = 'd'.repeat(64);
const ref = { key: `sha256/${DIGEST}`, sha256: DIGEST, size: 1, mediaType: 'application/json' };

function awaiting(quorum?: Record<string, number>): ReleaseState {
  const policy = validPolicy();
  const s = new ReleaseState(
    'r-1',
    validRequest(quorum ? { policy: { ...policy, approval: { ...policy.approval, quorum } } } : {}),
  );
  for (const stage of ['OFFLINE_EVAL', 'SHADOW', 'AWAITING_APPROVAL'] as const) s.enter(stage, null, AT);
  s.dossier = ref;
  return s;
}
const approval = (over: Partial<ApprovalInput> = {}): ApprovalInput => ({
  signer: 'dana.qa',
  printedName: 'Dana Whitfield',
  role: 'qa',
  decision: 'approve',
  meaning: 'approved as quality reviewer',
  reason: 'ok',
  dossierSha256: DIGEST,
  ...over,
});
function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ApplicationFailure, `expected ApplicationFailure, got ${String(e)}`);
    return e.type!;
  }
  assert.fail('accepted but should have been refused');
}

describe('ReleaseState.checkApproval', () => {
  it('accepts a valid signature and tracks pending roles', () => {
    const s = awaiting();
    const a = s.checkApproval(approval());
    s.addSignature({ ...a, at: AT, evidence: ref });
    assert.deepEqual(
      s.pendingRoles(),
      s.requiredRoles.filter((r) => r !== 'qa'),
    );
  });
  it('refuses with typed reasons', () => {
    const s = awaiting();
    assert.equal(
      refusal(() => s.checkApproval(approval({ dossierSha256: 'e'.repeat(64) }))),
      ErrorType.StaleDigest,
    );
    assert.equal(
      refusal(() => s.checkApproval(approval({ signer: s.request.submittedBy }))),
      ErrorType.SelfApproval,
    );
    assert.equal(
      refusal(() => s.checkApproval(approval({ role: 'regulatory' }))),
      ErrorType.RoleNotRequired,
    );
    assert.equal(
      refusal(() => s.checkApproval({ ...approval(), role: 'janitor' })),
      ErrorType.InvalidRequest,
    );
    s.reserve(approval());
    assert.equal(
      refusal(() => s.checkApproval(approval())),
      ErrorType.DuplicateSigner,
      'in-flight signer counts',
    );
    assert.equal(
      refusal(() => s.checkApproval(approval({ signer: 'other' }))),
      ErrorType.RoleAlreadySigned,
      'in-flight role counts',
    );
  });
  it('refuses before the dossier exists and after the release finished', () => {
    const early = new ReleaseState('r-2', validRequest());
    assert.equal(
      refusal(() => early.checkApproval(approval())),
      ErrorType.NotAwaitingApproval,
    );
    const done = awaiting();
    done.finish('EXPIRED', 'timeout', AT);
    assert.equal(
      refusal(() => done.checkApproval(approval())),
      ErrorType.ReleaseFinished,
    );
  });
});

const clin = (signer: string): ApprovalInput =>
  approval({ signer, printedName: signer, role: 'clinical', meaning: 'approved as clinical reviewer' });
function sign(s: ReleaseState, a: ApprovalInput): void {
  s.addSignature({ ...s.checkApproval(a), at: AT, evidence: { ...ref, key: `sha256/${a.signer}` } });
}
const withdrawal = (signer: string) => ({
  signer,
  at: AT,
  reason: 'found an issue',
  evidence: { ...ref, key: `sha256/w-${signer}` },
});

describe('ReleaseState quorum', () => {
  it('keeps a role pending until it has its quorum from distinct people', () => {
    const s = awaiting({ clinical: 2 });
    assert.equal(s.quorum('clinical'), 2);
    assert.equal(s.quorum('qa'), 1, 'default 1');
    sign(s, approval());
    sign(s, clin('sam.clin'));
    assert.deepEqual(s.pendingRoles(), ['clinical']);
    assert.equal(s.approvalSettled(), false);
    assert.equal(
      refusal(() => s.checkApproval(clin('sam.clin'))),
      ErrorType.DuplicateSigner,
      'a person counts once',
    );
    sign(s, clin('ada.clin'));
    assert.deepEqual(s.pendingRoles(), []);
    assert.equal(s.approvalSettled(), true);
  });
  it('refuses RoleAlreadySigned only once the quorum is full, counting in-flight signatures', () => {
    const s = awaiting({ clinical: 2 });
    sign(s, clin('sam.clin'));
    s.reserve(clin('ada.clin'));
    assert.equal(
      refusal(() => s.checkApproval(clin('lee.clin'))),
      ErrorType.RoleAlreadySigned,
    );
    s.release(clin('ada.clin'));
    assert.equal(s.checkApproval(clin('lee.clin')).signer, 'lee.clin');
  });
  it('the policy schema bounds the quorum (1..5, known roles only)', () => {
    const policy = validPolicy();
    assert.throws(() =>
      validRequest({ policy: { ...policy, approval: { ...policy.approval, quorum: { clinical: 6 } } } }),
    );
    assert.throws(() =>
      validRequest({ policy: { ...policy, approval: { ...policy.approval, quorum: { clinical: 0 } } } }),
    );
    assert.throws(() =>
      validRequest({ policy: { ...policy, approval: { ...policy.approval, quorum: { janitor: 1 } as never } } }),
    );
  });
});

describe('ReleaseState.checkWithdrawal', () => {
  it('lets a signer withdraw their own approval: it stops counting but stays on record', () => {
    const s = awaiting();
    sign(s, approval());
    assert.deepEqual(s.pendingRoles(), ['clinical']);
    const w = s.checkWithdrawal({ signer: 'dana.qa', reason: 'found an issue' });
    s.reserveWithdrawal(w);
    assert.deepEqual(
      s.pendingRoles(),
      ['qa', 'clinical'],
      'an in-flight withdrawal already stops the approval counting',
    );
    assert.equal(
      refusal(() => s.checkWithdrawal(w)),
      ErrorType.AlreadyWithdrawn,
      'in-flight withdrawal counts',
    );
    s.addWithdrawal('dana.qa', withdrawal('dana.qa'));
    s.releaseWithdrawal(w);
    assert.deepEqual(s.pendingRoles(), ['qa', 'clinical']);
    assert.equal(s.status().signatures.length, 1);
    assert.equal(s.status().signatures[0]?.withdrawal?.reason, 'found an issue');
    assert.equal(
      refusal(() => s.checkWithdrawal(w)),
      ErrorType.AlreadyWithdrawn,
    );
    // No second signature by the same person after a withdrawal; someone else may take the role.
    assert.equal(
      refusal(() => s.checkApproval(approval())),
      ErrorType.DuplicateSigner,
    );
    sign(s, approval({ signer: 'kim.qa', printedName: 'Kim Qa' }));
    assert.deepEqual(s.pendingRoles(), ['clinical']);
  });
  it('refuses with typed reasons', () => {
    const s = awaiting();
    assert.equal(
      refusal(() => s.checkWithdrawal({ signer: 'dana.qa', reason: 'x' })),
      ErrorType.NoApprovalToWithdraw,
    );
    assert.equal(
      refusal(() => s.checkWithdrawal({ signer: 'dana.qa' })),
      ErrorType.InvalidRequest,
    );
    sign(s, approval());
    assert.equal(
      refusal(() => s.checkWithdrawal({ signer: 'sam.clin', reason: 'x' })),
      ErrorType.NoApprovalToWithdraw,
      'only your own',
    );
    sign(s, clin('sam.clin'));
    assert.equal(s.approvalSettled(), true);
    assert.equal(
      refusal(() => s.checkWithdrawal({ signer: 'dana.qa', reason: 'x' })),
      ErrorType.NotAwaitingApproval,
      'not after sign-off settled',
    );
    const early = new ReleaseState('r-2', validRequest());
    assert.equal(
      refusal(() => early.checkWithdrawal({ signer: 'dana.qa', reason: 'x' })),
      ErrorType.NotAwaitingApproval,
    );
    s.finish('EXPIRED', 'timeout', AT);
    assert.equal(
      refusal(() => s.checkWithdrawal({ signer: 'dana.qa', reason: 'x' })),
      ErrorType.ReleaseFinished,
    );
  });
  it('a rejection cannot be withdrawn (it settles sign-off at once)', () => {
    const s = awaiting();
    sign(s, approval({ decision: 'reject', meaning: 'rejected as QA' }));
    assert.equal(
      refusal(() => s.checkWithdrawal({ signer: 'dana.qa', reason: 'x' })),
      ErrorType.NotAwaitingApproval,
    );
  });
});

describe('ReleaseState.checkSupersede', () => {
  const input = { supersededBy: 'newer', reason: 'retrained' };
  it('allows superseding before any canary exposure, idempotently for the same successor', () => {
    const s = awaiting();
    s.superseded = s.checkSupersede(input);
    assert.deepEqual(s.checkSupersede(input), input);
    assert.equal(
      refusal(() => s.checkSupersede({ supersededBy: 'other', reason: 'x' })),
      ErrorType.ReleaseFinished,
    );
  });
  it('refuses once traffic may reach patients (CANARY, MONITORING) and after the end', () => {
    const s = awaiting();
    s.enter('CANARY', 0, AT);
    assert.equal(
      refusal(() => s.checkSupersede(input)),
      ErrorType.NotSupersedable,
    );
    s.enter('MONITORING', null, AT);
    assert.equal(
      refusal(() => s.checkSupersede(input)),
      ErrorType.NotSupersedable,
    );
    s.finish('RELEASED', 'done', AT);
    assert.equal(
      refusal(() => s.checkSupersede(input)),
      ErrorType.ReleaseFinished,
    );
  });
  it('the transition table forbids illegal moves', () => {
    const s = new ReleaseState('r-3', validRequest());
    assert.throws(() => s.enter('CANARY', 0, AT), /illegal transition SNAPSHOT -> CANARY/);
  });
});
