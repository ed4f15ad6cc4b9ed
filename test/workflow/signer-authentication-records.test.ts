/**
 * `patched('signer-authentication-records')` on the time-skipping test server with the shared fake activities: a
 * withdrawal or adjudication that arrives with the OpenID authentication of the act hands it to the activity that
 * writes its record (and the status keeps it), recording the patch marker; acts without one write what they wrote
 * before and record no marker.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { AdjudicationInput, ReleaseRequest, SignerAuthentication } from '../../src/domain';
import {
  adjudicateCaseUpdate,
  approveReleaseUpdate,
  releaseStatusQuery,
  withdrawSignatureUpdate,
} from '../../src/domain/messages';
import { SIGNER_AUTHENTICATION_RECORDS } from '../../src/workflows/release-updates';
import { fakeActivities, markers, REFS, waitForStage } from '../support/fake-activities';
import { validRequest } from '../support/fixtures';
import { startTimeSkippingEnv, withWorker } from '../support/time-skipping';

let env: TestWorkflowEnvironment;
before(async () => {
  env = await startTimeSkippingEnv();
});
after(async () => {
  await env?.teardown();
});

const AUTH: SignerAuthentication = {
  method: 'oidc',
  issuer: 'https://login.example.com/tenant',
  subject: 'sub-dana-7f3a',
  authTime: '2026-12-07T09:41:12.000Z',
  acr: 'urn:example:loa:2',
  amr: ['pwd', 'mfa'],
  idTokenSha256: 'a'.repeat(64),
  maxAgeSeconds: 300,
  clockToleranceSeconds: 30,
};

function request(adjudication = false): ReleaseRequest {
  const r = validRequest();
  r.policy.approval.expirySeconds = 60;
  if (adjudication)
    r.policy.shadow.adjudication = {
      sampleSize: 5,
      minAdjudicated: 2,
      maxCandidateWrongShare: 0.5,
      timeoutSeconds: 48 * 3600,
    };
  return r;
}

type Withdrawal = Record<string, unknown>;

describe('withdrawal and adjudication records carry the signer authentication (patch)', () => {
  const RECORD_KEYS = ['at', 'printedName', 'reason', 'role', 'signature', 'signer'];
  const withdrawals: { name: string; authentication?: SignerAuthentication; keys: string[]; marker: boolean }[] = [
    {
      name: 'a withdrawal with an authentication records it; the marker is recorded',
      authentication: AUTH,
      keys: [...RECORD_KEYS, 'authentication'].sort(),
      marker: true,
    },
    {
      name: 'a withdrawal without one writes the record as before and records no marker',
      keys: RECORD_KEYS,
      marker: false,
    },
  ];
  for (const c of withdrawals) {
    it(c.name, async () => {
      const auth = c.authentication ? { authentication: c.authentication } : {};
      const f = fakeActivities();
      const written: Withdrawal[] = [];
      f.acts.recordWithdrawal = async (input) => {
        written.push(input.withdrawal as unknown as Withdrawal);
        return REFS.withdrawal;
      };
      const { found, withdrawal } = await withWorker(env, f.acts, async (taskQueue) => {
        const handle = await env.client.workflow.start('releaseLifecycle', {
          taskQueue,
          workflowId: `auth-withdraw-${c.marker ? 'oidc' : 'none'}-${Date.now()}`,
          args: [request()],
        });
        const waiting = await waitForStage(handle, 'AWAITING_APPROVAL');
        await handle.executeUpdate(approveReleaseUpdate, {
          args: [
            {
              signer: 'dana.qa',
              printedName: 'Dana Whitfield',
              role: 'qa',
              decision: 'approve',
              meaning: 'approved',
              reason: 'evidence reviewed',
              dossierSha256: waiting.dossier!.sha256,
              ...auth,
            },
          ],
        });
        await handle.executeUpdate(withdrawSignatureUpdate, {
          args: [{ signer: 'dana.qa', reason: 'reviewed the wrong section', ...auth }],
        });
        const status = await handle.query(releaseStatusQuery);
        await handle.result();
        return { found: await markers(handle), withdrawal: status.signatures[0]!.withdrawal };
      });
      assert.equal(written.length, 1);
      assert.deepEqual(Object.keys(written[0]!).sort(), c.keys, 'the record written has these fields, no others');
      assert.equal(written[0]!.signer, 'dana.qa');
      assert.deepEqual(written[0]!.authentication, c.authentication, 'the record written carries the authentication');
      assert.deepEqual(withdrawal?.authentication, c.authentication, 'the status shows it');
      assert.equal(
        found.some((d) => d.includes(JSON.stringify(SIGNER_AUTHENTICATION_RECORDS))),
        c.marker,
        `markers: ${found.join(', ')}`,
      );
    });
  }

  it('an adjudication with an authentication hands it to the record; one without hands none', async () => {
    const f = fakeActivities({ shadow: { sampled: 5 } });
    const vote = (sampleId: string, reviewer: string, auth?: SignerAuthentication): AdjudicationInput => ({
      sampleId,
      reviewer,
      printedName: reviewer.toUpperCase(),
      role: 'clinical',
      verdict: 'candidate',
      comment: 'candidate was right',
      ...(auth ? { authentication: auth } : {}),
    });
    const found = await withWorker(env, f.acts, async (taskQueue) => {
      const handle = await env.client.workflow.start('releaseLifecycle', {
        taskQueue,
        workflowId: `auth-adjudicate-${Date.now()}`,
        args: [request(true)],
      });
      for (let i = 0; i < 200; i++) {
        if ((await handle.query(releaseStatusQuery)).shadowAdjudication?.open) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      await handle.executeUpdate(adjudicateCaseUpdate, { args: [vote('d-001', 'sam.clin')] });
      await handle.executeUpdate(adjudicateCaseUpdate, { args: [vote('d-002', 'sam.clin', AUTH)] });
      await handle.result();
      return markers(handle);
    });
    assert.equal(f.adjudications.length, 2);
    assert.equal(f.adjudications[0]!.authentication, undefined);
    assert.deepEqual(f.adjudications[1]!.authentication, AUTH);
    assert.ok(
      found.some((d) => d.includes(JSON.stringify(SIGNER_AUTHENTICATION_RECORDS))),
      `markers: ${found.join(', ')}`,
    );
  });
});
