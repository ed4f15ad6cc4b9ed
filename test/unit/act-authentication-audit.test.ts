/**
 * `vigil audit` checks the OpenID authentication of withdrawals, canary decisions and adjudications as it checks a
 * signature's: well-formed, not later than the act, not older than the max age then in force.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkActAuthentications, collectSignatures } from '../../src/audit/signature-manifestations';
import type { SignerAuthentication } from '../../src/domain';

const AT = '2026-12-07T10:00:00.000Z';
const minutesBefore = (m: number) => new Date(Date.parse(AT) - m * 60_000).toISOString();
const auth = (authTime: string): SignerAuthentication => ({
  method: 'oidc',
  issuer: 'https://idp.example',
  subject: 's-1',
  authTime,
  amr: ['pwd', 'mfa'],
  idTokenSha256: 'a'.repeat(64),
  maxAgeSeconds: 300,
  clockToleranceSeconds: 30,
});

function ref(key: string, doc: unknown) {
  const bytes = Buffer.from(JSON.stringify(doc));
  return { ref: { key, sha256: 'c'.repeat(64), size: bytes.length, mediaType: 'application/json' }, bytes };
}
function entry(seq: number, stage: string, refs: ReturnType<typeof ref>[]) {
  return {
    releaseId: 'r',
    seq,
    stage,
    step: null,
    prevEntryDigest: null,
    artifacts: refs.map((r) => r.ref),
    decision: { verdict: 'pass' as const, reasons: [] },
    at: AT,
    key: `releases/r/chain/${seq}`,
    digest: 'd'.repeat(64),
  };
}
const objectsOf = (...refs: ReturnType<typeof ref>[]) => new Map(refs.map((x) => [x.ref.key, new Uint8Array(x.bytes)]));

describe('audit: the authentication of acts other than signatures', () => {
  it('a withdrawal shows its authentication; a stale one is a finding under the withdrawal record', () => {
    const dossier = ref('sha256/dossier', { kind: 'vigil.dossier/v1' });
    const signature = ref('sha256/sig', {
      kind: 'vigil.signature/v1',
      printedName: 'Dana Whitfield',
      signer: 'dana.qa',
      role: 'qa',
      decision: 'approve',
      meaning: 'approved',
      reason: 'ok',
      at: minutesBefore(30),
      dossierSha256: 'c'.repeat(64),
      authentication: auth(minutesBefore(31)),
    });
    const fresh = ref('sha256/withdrawal-fresh', {
      kind: 'vigil.signature-withdrawal/v1',
      signer: 'dana.qa',
      reason: 'wrong section',
      at: AT,
      signature: { key: 'sha256/sig' },
      authentication: auth(minutesBefore(2)),
    });
    const objects = objectsOf(dossier, signature, fresh);
    const ok = collectSignatures([entry(3, 'AWAITING_APPROVAL', [dossier, signature, fresh])], objects);
    assert.deepEqual(ok.findings, []);
    assert.deepEqual(ok.signatures[0]!.withdrawn?.authentication, {
      issuer: 'https://idp.example',
      subject: 's-1',
      authTime: minutesBefore(2),
      amr: ['pwd', 'mfa'],
    });

    const stale = ref('sha256/withdrawal-stale', {
      ...JSON.parse(fresh.bytes.toString()),
      authentication: auth(minutesBefore(20)),
    });
    const bad = collectSignatures(
      [entry(3, 'AWAITING_APPROVAL', [dossier, signature, stale])],
      objectsOf(dossier, signature, stale),
    );
    assert.deepEqual(
      bad.findings.map((f) => [f.key, f.problem]),
      [['sha256/withdrawal-stale', 'OIDC authentication is older than the 300 s allowed at the withdrawal']],
    );
  });

  it('canary decisions and adjudications anywhere in the chain are checked; those without one pass', () => {
    const goodDecision = ref('sha256/decision', {
      kind: 'vigil.canary-decision/v1',
      at: AT,
      authentication: auth(minutesBefore(1)),
    });
    const malformed = ref('sha256/adj-1', {
      kind: 'vigil.adjudication/v1',
      at: AT,
      authentication: { ...auth(minutesBefore(1)), idTokenSha256: undefined },
    });
    const later = ref('sha256/adj-2', {
      kind: 'vigil.adjudication/v1',
      at: AT,
      authentication: auth(new Date(Date.parse(AT) + 120_000).toISOString()),
    });
    const password = ref('sha256/adj-3', { kind: 'vigil.adjudication/v1', at: AT });
    const result = checkActAuthentications(
      [entry(2, 'SHADOW', [malformed, later, password]), entry(5, 'CANARY', [goodDecision, malformed])],
      objectsOf(goodDecision, malformed, later, password),
    );
    assert.equal(result.checked, 3, 'each record once; none for the password adjudication');
    assert.deepEqual(
      result.findings.map((f) => [f.key, f.problem]),
      [
        ['sha256/adj-1', 'OIDC adjudication lacks or has malformed authentication fields: idTokenSha256'],
        ['sha256/adj-2', 'OIDC authentication is later than the adjudication'],
      ],
    );
  });
});
