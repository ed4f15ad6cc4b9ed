/** The release state machine's synchronous checks: what the Update validators accept and refuse. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { ErrorType, type ApprovalInput } from '../../src/domain';
import { ReleaseState } from '../../src/workflows/release-state';
import { validRequest } from '../support/fixtures';

const AT = '2026-11-26T00:00:00.000Z';
const DIGEST = 'd'.repeat(64);
const ref = { key: `sha256/${DIGEST}`, sha256: DIGEST, size: 1, mediaType: 'application/json' };

function awaiting(): ReleaseState {
  const s = new ReleaseState('r-1', validRequest());
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
    assert.deepEqual(s.pendingRoles(), s.requiredRoles.filter((r) => r !== 'qa'));
  });
  it('refuses with typed reasons', () => {
    const s = awaiting();
    assert.equal(refusal(() => s.checkApproval(approval({ dossierSha256: 'e'.repeat(64) }))), ErrorType.StaleDigest);
    assert.equal(refusal(() => s.checkApproval(approval({ signer: s.request.submittedBy }))), ErrorType.SelfApproval);
    assert.equal(refusal(() => s.checkApproval(approval({ role: 'regulatory' }))), ErrorType.RoleNotRequired);
    assert.equal(refusal(() => s.checkApproval({ ...approval(), role: 'janitor' })), ErrorType.InvalidRequest);
    s.reserve(approval());
    assert.equal(refusal(() => s.checkApproval(approval())), ErrorType.DuplicateSigner, 'in-flight signer counts');
    assert.equal(refusal(() => s.checkApproval(approval({ signer: 'other' }))), ErrorType.RoleAlreadySigned, 'in-flight role counts');
  });
  it('refuses before the dossier exists and after the release finished', () => {
    const early = new ReleaseState('r-2', validRequest());
    assert.equal(refusal(() => early.checkApproval(approval())), ErrorType.NotAwaitingApproval);
    const done = awaiting();
    done.finish('EXPIRED', 'timeout', AT);
    assert.equal(refusal(() => done.checkApproval(approval())), ErrorType.ReleaseFinished);
  });
});

describe('ReleaseState.checkSupersede', () => {
  const input = { supersededBy: 'newer', reason: 'retrained' };
  it('allows superseding before any canary exposure, idempotently for the same successor', () => {
    const s = awaiting();
    s.superseded = s.checkSupersede(input);
    assert.deepEqual(s.checkSupersede(input), input);
    assert.equal(refusal(() => s.checkSupersede({ supersededBy: 'other', reason: 'x' })), ErrorType.ReleaseFinished);
  });
  it('refuses once traffic may reach patients (CANARY, MONITORING) and after the end', () => {
    const s = awaiting();
    s.enter('CANARY', 0, AT);
    assert.equal(refusal(() => s.checkSupersede(input)), ErrorType.NotSupersedable);
    s.enter('MONITORING', null, AT);
    assert.equal(refusal(() => s.checkSupersede(input)), ErrorType.NotSupersedable);
    s.finish('RELEASED', 'done', AT);
    assert.equal(refusal(() => s.checkSupersede(input)), ErrorType.ReleaseFinished);
  });
  it('the transition table forbids illegal moves', () => {
    const s = new ReleaseState('r-3', validRequest());
    assert.throws(() => s.enter('CANARY', 0, AT), /illegal transition SNAPSHOT -> CANARY/);
  });
});
