/** The whole lifecycle on the real stack: Temporal dev server, SeaweedFS with Object Lock, in-process worker. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { GetObjectRetentionCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { chainKey, signatureEnvelopeKey } from '../../src/contracts/evidence-keys';
import { ChainEntrySchema, ErrorType, type ApprovalInput, type ReleaseStatus } from '../../src/domain';
import {
  approveReleaseUpdate,
  releaseStatusQuery,
  supersedeReleaseUpdate,
  withdrawSignatureUpdate,
} from '../../src/domain/messages';
import { sha256Hex } from '../../src/evidence';
import { S3RouteStore } from '../../src/gateway/route-store';
import { demoRequest, fastPolicy, startHarness, startRelease, waitFor, type Harness } from '../support/harness';

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h?.stop();
});

const qa = (digest: string): ApprovalInput => ({
  signer: 'dana.qa',
  printedName: 'Dana Whitfield',
  role: 'qa',
  decision: 'approve',
  meaning: 'approved as quality reviewer',
  reason: 'evidence reviewed',
  dossierSha256: digest,
});
const clinical = (digest: string): ApprovalInput => ({
  ...qa(digest),
  signer: 'sam.clin',
  printedName: 'Dr Sam Okafor',
  role: 'clinical',
  meaning: 'approved as clinical reviewer',
});

async function awaitingApproval(handle: Awaited<ReturnType<typeof startRelease>>): Promise<ReleaseStatus> {
  return waitFor('AWAITING_APPROVAL', async () => {
    const s = await handle.query(releaseStatusQuery);
    assert.ok(s.outcome === null, `release ended early: ${s.outcome} ${s.reason}`);
    return s.stage === 'AWAITING_APPROVAL' && s.dossier ? s : null;
  });
}

async function updateFailureType(p: Promise<unknown>): Promise<{ type: string | null | undefined; message: string }> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof WorkflowUpdateFailedError, `expected WorkflowUpdateFailedError, got ${String(e)}`);
    assert.ok(e.cause instanceof ApplicationFailure);
    return { type: e.cause.type, message: e.cause.message };
  }
  assert.fail('update was accepted but should have been rejected');
}

/** Read every chain entry back and check the links; returns the entries in order. */
async function readChain(releaseId: string) {
  const listed = await h.s3.send(
    new ListObjectsV2Command({ Bucket: h.config.s3.bucket, Prefix: `releases/${releaseId}/chain/` }),
  );
  const keys = (listed.Contents ?? []).map((o) => o.Key!).sort();
  const entries = [];
  let prev: string | null = null;
  for (const [seq, key] of keys.entries()) {
    assert.equal(key, chainKey(releaseId, seq));
    const bytes = await h.evidence.getBytes(key);
    const entry = ChainEntrySchema.parse(JSON.parse(bytes.toString('utf8')));
    assert.equal(entry.seq, seq);
    assert.equal(entry.prevEntryDigest, prev, `entry ${seq} must link to its predecessor`);
    prev = sha256Hex(bytes);
    entries.push({ ...entry, digest: prev });
  }
  return entries;
}

describe('release lifecycle on the real stack', () => {
  it('runs a release through every stage to RELEASED with a linked evidence chain', async () => {
    const request = await demoRequest(h, await fastPolicy());
    const handle = await startRelease(h, request);
    const waiting = await awaitingApproval(handle);
    assert.deepEqual(
      waiting.history.map((r) => [r.stage, r.decision?.verdict]),
      [
        ['SNAPSHOT', 'pass'],
        ['OFFLINE_EVAL', 'pass'],
        ['SHADOW', 'pass'],
        ['AWAITING_APPROVAL', undefined],
      ],
    );
    const digest = waiting.dossier!.sha256;
    // The dossier is content-addressed evidence: reading it back re-hashes to the digest signers bind to.
    const dossier = JSON.parse((await h.evidence.getBytes(waiting.dossier!.key, digest)).toString('utf8'));
    assert.equal(dossier.releaseId, handle.workflowId);

    // Refusals come from the synchronous validator, with reasons, and nothing enters history.
    const stale = await updateFailureType(handle.executeUpdate(approveReleaseUpdate, { args: [qa('0'.repeat(64))] }));
    assert.equal(stale.type, ErrorType.StaleDigest);
    assert.match(stale.message, new RegExp(digest));
    const self = await updateFailureType(
      handle.executeUpdate(approveReleaseUpdate, { args: [{ ...qa(digest), signer: request.submittedBy }] }),
    );
    assert.equal(self.type, ErrorType.SelfApproval);
    const wrongRole = await updateFailureType(
      handle.executeUpdate(approveReleaseUpdate, { args: [{ ...qa(digest), role: 'regulatory' }] }),
    );
    assert.equal(wrongRole.type, ErrorType.RoleNotRequired);

    const first = await handle.executeUpdate(approveReleaseUpdate, { args: [qa(digest)] });
    assert.deepEqual(first.pendingRoles, ['clinical']);
    const dup = await updateFailureType(
      handle.executeUpdate(approveReleaseUpdate, { args: [{ ...clinical(digest), signer: 'dana.qa' }] }),
    );
    assert.equal(dup.type, ErrorType.DuplicateSigner);
    await handle.executeUpdate(approveReleaseUpdate, { args: [clinical(digest)] });

    const result = await handle.result();
    assert.equal(result.outcome, 'RELEASED', result.reason);
    const final = await handle.query(releaseStatusQuery);
    assert.deepEqual(
      final.history.filter((r) => r.decision).map((r) => [r.stage, r.step, r.decision!.verdict]),
      [
        ['SNAPSHOT', null, 'pass'],
        ['OFFLINE_EVAL', null, 'pass'],
        ['SHADOW', null, 'pass'],
        ['AWAITING_APPROVAL', null, 'pass'],
        ['CANARY', 0, 'pass'],
        ['CANARY', 1, 'pass'],
        ['MONITORING', null, 'pass'],
        ['RELEASED', null, 'pass'],
      ],
    );
    assert.deepEqual(
      final.signatures.map((s) => [s.printedName, s.role, s.meaning]),
      [
        ['Dana Whitfield', 'qa', 'approved as quality reviewer'],
        ['Dr Sam Okafor', 'clinical', 'approved as clinical reviewer'],
      ],
    );

    // Chain: 8 workflow decisions + 3 monitoring intervals written by the child, all linked, head matches.
    const chain = await readChain(handle.workflowId);
    assert.equal(chain.length, 11);
    assert.deepEqual(result.chainHead, { seq: 10, digest: chain[10]!.digest });
    assert.deepEqual(
      chain.map((e) => e.stage),
      [
        'SNAPSHOT',
        'OFFLINE_EVAL',
        'SHADOW',
        'AWAITING_APPROVAL',
        'CANARY',
        'CANARY',
        'MONITORING',
        'MONITORING',
        'MONITORING',
        'MONITORING',
        'RELEASED',
      ],
    );
    // Every artifact the chain names exists, hashes to its digest and is under Object Lock retention.
    for (const ref of chain.flatMap((e) => e.artifacts)) {
      await h.evidence.getBytes(ref.key, ref.sha256);
      const retention = await h.s3.send(
        new GetObjectRetentionCommand({ Bucket: h.config.s3.bucket, Key: ref.key, VersionId: ref.versionId }),
      );
      assert.equal(retention.Retention?.Mode, 'COMPLIANCE');
      assert.ok(retention.Retention!.RetainUntilDate! > new Date());
    }
    const routes = await new S3RouteStore(h.s3, h.config.s3.bucket).current(request.modelName);
    assert.equal(routes?.production, request.candidate.version);
    assert.equal(routes?.canary, null);

    // Approving a finished release is refused.
    await assert.rejects(handle.executeUpdate(approveReleaseUpdate, { args: [qa(digest)] }));
    const described = await handle.describe();
    assert.equal(described.typedSearchAttributes.get(h.searchAttr.outcome), 'RELEASED');
  });

  it('a clinical quorum of 2 and a withdrawal keep sign-off open until met by distinct people', async () => {
    const policy = await fastPolicy('demo.yaml', (p) => (p.approval.quorum = { clinical: 2 }));
    const handle = await startRelease(h, await demoRequest(h, policy, 8));
    const digest = (await awaitingApproval(handle)).dossier!.sha256;

    assert.deepEqual((await handle.executeUpdate(approveReleaseUpdate, { args: [qa(digest)] })).pendingRoles, [
      'clinical',
    ]);
    const one = await handle.executeUpdate(approveReleaseUpdate, { args: [clinical(digest)] });
    assert.deepEqual(one.pendingRoles, ['clinical'], 'one clinical signature of two');

    const w = await handle.executeUpdate(withdrawSignatureUpdate, {
      args: [{ signer: 'dana.qa', reason: 'wrong dossier section reviewed' }],
    });
    assert.deepEqual(w.pendingRoles, ['qa', 'clinical'], 'the withdrawn approval no longer counts');
    const again = await updateFailureType(
      handle.executeUpdate(withdrawSignatureUpdate, { args: [{ signer: 'dana.qa', reason: 'again' }] }),
    );
    assert.equal(again.type, ErrorType.AlreadyWithdrawn);
    const resign = await updateFailureType(handle.executeUpdate(approveReleaseUpdate, { args: [qa(digest)] }));
    assert.equal(resign.type, ErrorType.DuplicateSigner, 'no second signature after withdrawing');
    const status = await handle.query(releaseStatusQuery);
    assert.equal(status.stage, 'AWAITING_APPROVAL');
    assert.equal(status.signatures[0]?.withdrawal?.reason, 'wrong dossier section reviewed');

    await handle.executeUpdate(approveReleaseUpdate, {
      args: [{ ...qa(digest), signer: 'kim.qa', printedName: 'Kim Osei' }],
    });
    const full = await handle.executeUpdate(approveReleaseUpdate, {
      args: [{ ...clinical(digest), signer: 'ada.clin', printedName: 'Dr Ada Lind' }],
    });
    assert.deepEqual(full.pendingRoles, []);
    const result = await handle.result();
    assert.equal(result.outcome, 'RELEASED', result.reason);

    // The approval entry lists every signature and the withdrawal record (sealed by the system key).
    const approval = (await readChain(handle.workflowId)).find((e) => e.stage === 'AWAITING_APPROVAL')!;
    assert.deepEqual(approval.decision.reasons, [
      'signed by Dr Sam Okafor (clinical), Kim Osei (qa), Dr Ada Lind (clinical)',
      'withdrawn: Dana Whitfield (qa)',
    ]);
    const keys = approval.artifacts.map((a) => a.key);
    assert.ok(keys.includes(w.signatureKey) && keys.includes(w.withdrawalKey));
    const record = JSON.parse((await h.evidence.getBytes(w.withdrawalKey)).toString('utf8'));
    assert.deepEqual(
      [record.kind, record.signer, record.signature.key],
      ['vigil.signature-withdrawal/v1', 'dana.qa', w.signatureKey],
    );
    await h.evidence.getBytes(signatureEnvelopeKey(handle.workflowId, w.withdrawalKey.replace(/^sha256\//, '')));
  });

  it('rolls back automatically when a canary guardrail trips', async () => {
    const request = await demoRequest(h, await fastPolicy('demo-tight-guardrail.yaml'));
    const handle = await startRelease(h, request);
    const digest = (await awaitingApproval(handle)).dossier!.sha256;
    await handle.executeUpdate(approveReleaseUpdate, { args: [qa(digest)] });
    await handle.executeUpdate(approveReleaseUpdate, { args: [clinical(digest)] });
    const result = await handle.result();
    assert.equal(result.outcome, 'ROLLED_BACK');
    assert.match(
      result.reason,
      /CANARY step 1 \(10%\): alert rate ratio 1\.\d+ \(canary 0\.\d+ vs control 0\.\d+\) exceeds the allowed 1\.1/,
    );
    const routes = await new S3RouteStore(h.s3, h.config.s3.bucket).current(request.modelName);
    assert.deepEqual(
      { production: routes?.production, canary: routes?.canary },
      { production: request.incumbent.version, canary: null },
    );
    const chain = await readChain(handle.workflowId);
    const last = chain[chain.length - 1]!;
    assert.equal(last.stage, 'ROLLED_BACK');
    const rollbackRoute = JSON.parse((await h.evidence.getBytes(last.artifacts[0]!.key)).toString('utf8'));
    assert.equal(rollbackRoute.routes.production, request.incumbent.version);
    assert.match(rollbackRoute.reason, /^rollback: /);
    // The rollback record names the cause; without a webhook configured the notice is on record only.
    const docs = await Promise.all(
      last.artifacts
        .slice(1, 3)
        .map(async (a) => JSON.parse((await h.evidence.getBytes(a.key)).toString('utf8')) as Record<string, unknown>),
    );
    assert.deepEqual(
      docs.map((d) => d.kind),
      ['vigil.rollback/v1', 'vigil.notification/v1'],
    );
    assert.equal(docs[0]!.cause, result.reason);
    assert.equal(docs[1]!.channel, 'evidence-only');
  });

  it('ends as REJECTED when a required reviewer rejects, with the reason recorded', async () => {
    const request = await demoRequest(h, await fastPolicy(), 2);
    const handle = await startRelease(h, request);
    const digest = (await awaitingApproval(handle)).dossier!.sha256;
    await handle.executeUpdate(approveReleaseUpdate, { args: [qa(digest)] });
    await handle.executeUpdate(approveReleaseUpdate, {
      args: [
        {
          ...clinical(digest),
          decision: 'reject',
          meaning: 'rejected as clinical reviewer',
          reason: 'alert burden too high for night shifts',
        },
      ],
    });
    const result = await handle.result();
    assert.equal(result.outcome, 'REJECTED');
    assert.equal(
      result.reason,
      'AWAITING_APPROVAL: rejected by Dr Sam Okafor (clinical): alert burden too high for night shifts',
    );
    const status = await handle.query(releaseStatusQuery);
    // Only the SHADOW mirror (set, then removed) ever named the candidate: no traffic was routed to it.
    assert.deepEqual(
      status.routes,
      { version: 2, production: request.incumbent.version, canary: null, shadow: null },
      'no traffic was ever routed to the candidate',
    );
    const chain = await readChain(handle.workflowId);
    assert.deepEqual(chain.map((e) => `${e.stage}:${e.decision.verdict}`).slice(-2), [
      'AWAITING_APPROVAL:fail',
      'REJECTED:fail',
    ]);
    const signature = JSON.parse((await h.evidence.getBytes(status.signatures[1]!.evidence.key)).toString('utf8'));
    assert.deepEqual(
      [signature.decision, signature.dossierSha256, signature.printedName],
      ['reject', digest, 'Dr Sam Okafor'],
    );
  });

  it('a newer candidate supersedes a release mid-shadow, idempotently for the same successor', async () => {
    const slowShadow = await fastPolicy('demo.yaml', (p) => (p.shadow.durationSeconds = 600));
    const handle = await startRelease(h, await demoRequest(h, slowShadow, 4));
    await waitFor('SHADOW', async () => (await handle.query(releaseStatusQuery)).stage === 'SHADOW');
    const input = { supersededBy: 'sepsis-alert-newer-candidate', reason: 'retrained after label audit' };
    const out = await handle.executeUpdate(supersedeReleaseUpdate, { args: [input] });
    assert.equal(out.outcome, 'SUPERSEDED');
    // Idempotent for the same successor; refused for another.
    assert.equal((await handle.executeUpdate(supersedeReleaseUpdate, { args: [input] })).outcome, 'SUPERSEDED');
    const result = await handle.result();
    assert.equal(result.outcome, 'SUPERSEDED');
    assert.equal(
      result.reason,
      'superseded by sepsis-alert-newer-candidate during SHADOW: retrained after label audit',
    );
    const chain = await readChain(handle.workflowId);
    assert.deepEqual(
      chain.map((e) => e.stage),
      ['SNAPSHOT', 'OFFLINE_EVAL', 'SUPERSEDED'],
    );
    // The shadow mirror set at the start of SHADOW was removed, and the SUPERSEDED entry lists both changes.
    const routeDocs = await Promise.all(
      chain[2]!.artifacts.slice(0, 2).map(
        async (a) =>
          JSON.parse((await h.evidence.getBytes(a.key, a.sha256)).toString('utf8')) as {
            kind: string;
            routes: { shadow: unknown };
          },
      ),
    );
    assert.deepEqual(
      routeDocs.map((d) => [d.kind, d.routes.shadow === null ? 'off' : 'on']),
      [
        ['vigil.routes/v1', 'on'],
        ['vigil.routes/v1', 'off'],
      ],
    );
    const other = await updateFailureType(
      handle.executeUpdate(supersedeReleaseUpdate, { args: [{ supersededBy: 'someone-else', reason: 'x' }] }),
    ).catch((e: Error) => ({ type: 'closed', message: e.message }));
    assert.ok(other.type === ErrorType.ReleaseFinished || other.type === 'closed');
  });

  it('the offline gate blocks a candidate that is better overall but regresses at one site, naming the site', async () => {
    const request = await demoRequest(h, await fastPolicy(), 1, '2.1.0');
    const handle = await startRelease(h, request);
    const result = await handle.result();
    assert.equal(result.outcome, 'REJECTED');
    assert.match(result.reason, /^OFFLINE_EVAL: /);
    assert.match(result.reason, /no-site-sensitivity-drop: sensitivity drops by 0\.0\d+ .* on site=site-c/);
    assert.doesNotMatch(result.reason, /site=site-[abd]/);
    const status = await handle.query(releaseStatusQuery);
    assert.deepEqual(
      status.history.map((r) => r.stage),
      ['SNAPSHOT', 'OFFLINE_EVAL', 'REJECTED'],
    );
    // The full per-slice report is evidence, and its numbers agree with the decision.
    const offline = status.history[1]!;
    const report = JSON.parse(
      (await h.evidence.getBytes(offline.artifacts[0]!.key, offline.artifacts[0]!.sha256)).toString('utf8'),
    );
    const siteC = report.report.slices.find((s: { slice: string }) => s.slice === 'site=site-c');
    assert.ok(siteC.incumbent.sensitivity.estimate - siteC.candidate.sensitivity.estimate > 0.03);
    assert.ok(
      report.report.slices.find((s: { slice: string }) => s.slice === 'overall').paired.difference > 0,
      'better overall AUC',
    );
    // …and so is the readable report reviewers see, with its plots.
    const htmlRef = offline.artifacts[1]!;
    assert.equal(htmlRef.mediaType, 'text/html; charset=utf-8');
    const html = (await h.evidence.getBytes(htmlRef.key, htmlRef.sha256)).toString('utf8');
    assert.equal(html.match(/<svg/g)?.length, 3);
    assert.match(html, /no-site-sensitivity-drop/);
    assert.match(html, /site=site-c/);
  });

  it('stops at SNAPSHOT when the acceptance criteria were registered after training started', async () => {
    const late = await fastPolicy('demo.yaml', (p) => (p.registeredAt = '2026-10-01T00:00:00Z'));
    const handle = await startRelease(h, await demoRequest(h, late, 5));
    const result = await handle.result();
    assert.equal(result.outcome, 'REJECTED');
    assert.match(
      result.reason,
      /^SNAPSHOT: acceptance criteria registered at 2026-10-01T00:00:00Z, after the candidate's training started at 2026-09-15T08:00:00Z/,
    );
  });

  it('stops at SNAPSHOT listing missing provenance, and nothing later runs', async () => {
    const request = await demoRequest(h, await fastPolicy(), 3);
    request.datasets = request.datasets.filter((d) => d.role !== 'training');
    const handle = await startRelease(h, request);
    const result = await handle.result();
    assert.equal(result.outcome, 'REJECTED');
    assert.match(result.reason, /SNAPSHOT: provenance incomplete: missing datasets\[role=training\]/);
    const status = await handle.query(releaseStatusQuery);
    assert.deepEqual(
      status.history.map((r) => r.stage),
      ['SNAPSHOT', 'REJECTED'],
    );
  });
});
