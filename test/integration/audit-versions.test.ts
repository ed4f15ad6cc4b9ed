/**
 * Reads by version (issue #19): evidence hidden under a delete marker or a newer version is named
 * "hidden" with its intact version, and every other check passes on the intact versions; an object
 * whose bytes were changed on disk (S3 answers 500) is named "unreadable", exit 3, and the other
 * checks still report.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DeleteBucketPolicyCommand, DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { AuditReport } from '../../src/audit';
import { run } from '../../src/cli/program';
import type { ApprovalInput, ChainEntry } from '../../src/domain';
import { approveReleaseUpdate, releaseStatusQuery } from '../../src/domain/messages';
import { createS3Client } from '../../src/evidence';
import { demoRequest, fastPolicy, startHarness, startRelease, waitFor, type Harness } from '../support/harness';

let h: Harness;
let releaseId: string;
before(async () => {
  h = await startHarness();
  const handle = await startRelease(h, await demoRequest(h, await fastPolicy()));
  releaseId = handle.workflowId;
  const waiting = await waitFor('AWAITING_APPROVAL', async () => {
    const s = await handle.query(releaseStatusQuery);
    return s.stage === 'AWAITING_APPROVAL' && s.dossier ? s : null;
  });
  for (const [role, printedName] of [
    ['qa', 'Dana Whitfield'],
    ['clinical', 'Dr Sam Okafor'],
  ] as const) {
    const input: ApprovalInput = {
      signer: `${role}.reviewer`,
      printedName,
      role,
      decision: 'approve',
      meaning: `approved as ${role} reviewer`,
      reason: 'evidence reviewed',
      dossierSha256: waiting.dossier!.sha256,
    };
    await handle.executeUpdate(approveReleaseUpdate, { args: [input] });
  }
  assert.equal((await handle.result()).outcome, 'RELEASED');
});
after(() => h?.stop());

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await run(argv, {
    env: h.env,
    stdout: (t) => (out += t),
    stderr: (t) => (err += t),
    readStdin: async () => '',
  });
  return { code, out, err };
}

const entry = async (seq: number): Promise<ChainEntry> =>
  (await h.evidence.getJson(`releases/${releaseId}/chain/${String(seq).padStart(6, '0')}`)) as ChainEntry;

const failing = (r: AuditReport): string[] => r.checks.filter((c) => !c.passed).map((c) => c.id);

describe('audit reads evidence by version', () => {
  it('names an entry under a delete marker and an artifact under a newer version "hidden", and passes the rest', async () => {
    assert.equal((await cli('evidence', 'verify', releaseId)).code, 0, 'intact before');
    // The evidence bucket refuses delete markers to every identity; hiding needs a bucket without that
    // policy. Take it away with the admin identity, as an operator with the admin secret could.
    const admin = createS3Client({ ...h.stack.s3Config, ...h.stack.adminCredentials! });
    const bucket = h.config.s3.bucket;
    const hiddenEntry = `releases/${releaseId}/chain/000003`;
    const shadowArtifact = (await entry(2)).artifacts[0]!;
    try {
      await admin.send(new DeleteBucketPolicyCommand({ Bucket: bucket }));
      const marker = await admin.send(new DeleteObjectCommand({ Bucket: bucket, Key: hiddenEntry }));
      assert.equal(marker.DeleteMarker, true);
      const newer = await h.s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: shadowArtifact.key, Body: Buffer.from('{"agreement":1}') }),
      );
      assert.ok(newer.VersionId && newer.VersionId !== shadowArtifact.versionId);

      const { code, out, err } = await cli('audit', releaseId, '--json');
      const report = JSON.parse(out) as AuditReport;
      assert.equal(code, 3, err);
      assert.deepEqual(failing(report), ['evidence-versions'], 'every other check passes on the intact versions');
      const hidden = report.checks.find((c) => c.id === 'evidence-versions')!.findings;
      assert.deepEqual(
        hidden.map((f) => [f.key, f.actual]).sort(),
        [
          [hiddenEntry, `delete marker ${marker.VersionId}`],
          [shadowArtifact.key, `version ${newer.VersionId}`],
        ].sort(),
      );
      const byKey = new Map(report.objects.map((o) => [o.key, o]));
      const artifactReport = byKey.get(shadowArtifact.key)!;
      assert.equal(artifactReport.state, 'hidden');
      assert.equal(artifactReport.versionId, shadowArtifact.versionId, 'the intact version is the recorded one');
      assert.match(
        artifactReport.detail,
        new RegExp(
          `^hidden: intact version ${shadowArtifact.versionId} \\(sha256 ${shadowArtifact.sha256}\\) lies under a newer version ${newer.VersionId}`,
        ),
      );
      assert.equal(byKey.get(hiddenEntry)!.state, 'hidden');

      const text = await cli('evidence', 'verify', releaseId);
      assert.equal(text.code, 3);
      assert.match(text.out, /PASS {2}Evidence chain/);
      assert.match(text.out, /PASS {2}Evidence artifacts/);
      assert.match(
        text.out,
        new RegExp(
          `${hiddenEntry}: hidden: intact version \\S+ \\(sha256 [0-9a-f]{64}\\) lies under a delete marker ${marker.VersionId}`,
        ),
      );
    } finally {
      admin.destroy();
    }
  });

  it('names an object whose bytes changed on disk "unreadable" (exit 3) and still runs every other check', async () => {
    // The offline evaluation's first artifact: nothing else is derived from it (the dossier would unbind signatures).
    const offline = await entry(1);
    assert.equal(offline.stage, 'OFFLINE_EVAL');
    const target = offline.artifacts[0]!;
    const bytes = await h.evidence.getRef(target);
    // SeaweedFS keeps JSON needles uncompressed in its volume files: flip one byte of the stored copy.
    const dataDir = path.join(h.stack.stateDir, 's3', 'seaweed');
    const hits = fs
      .readdirSync(dataDir)
      .filter((f) => f.endsWith('.dat'))
      .map((f) => path.join(dataDir, f))
      .flatMap((f) => {
        const at = fs.readFileSync(f).indexOf(bytes);
        return at < 0 ? [] : [{ f, at }];
      });
    assert.equal(hits.length, 1, 'the object is stored once');
    const { f, at } = hits[0]!;
    const fd = fs.openSync(f, 'r+');
    const mid = at + Math.floor(bytes.length / 2);
    fs.writeSync(fd, Buffer.from([bytes[Math.floor(bytes.length / 2)]! ^ 0x01]), 0, 1, mid);
    fs.closeSync(fd);

    const { code, out, err } = await cli('audit', releaseId, '--json');
    assert.equal(code, 3, err);
    const report = JSON.parse(out) as AuditReport;
    const byId = Object.fromEntries(report.checks.map((c) => [c.id, c]));
    assert.deepEqual(
      byId['evidence-artifacts']!.findings.map((f) => f.key),
      [target.key],
    );
    assert.match(
      byId['evidence-artifacts']!.findings[0]!.problem,
      /^unreadable: the store answered HTTP 500 when version \S+ was read/,
    );
    assert.equal(report.objects.find((o) => o.key === target.key)!.state, 'unreadable');
    for (const id of [
      'evidence-chain',
      'histories',
      'replay-recorded-build',
      'replay-current-build',
      'history-chain-writes',
      'decisions',
      'signatures',
    ])
      assert.equal(byId[id]!.passed, true, `${id} still ran and passed: ${JSON.stringify(byId[id]!.findings)}`);
    assert.equal(report.decisions.length, 8);
  });
});
