/**
 * `vigil audit` and `vigil evidence verify` on the real stack: a demo release runs to RELEASED, then
 * is audited from Temporal, from the archive once Temporal has forgotten it, and with tampering.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { auditRelease, S3EvidenceReader, type AuditReport, type EvidenceReader } from '../../src/audit';
import { run } from '../../src/cli/program';
import type { ApprovalInput } from '../../src/domain';
import { approveReleaseUpdate, releaseStatusQuery } from '../../src/domain/messages';
import { createS3Client } from '../../src/evidence';
import {
  demoRequest,
  fastPolicy,
  startHarness,
  startRelease,
  waitFor,
  workflowBundle,
  type Harness,
} from '../support/harness';

let h: Harness;
let releaseId: string;
let tmp: string;
before(async () => {
  h = await startHarness();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-audit-'));
});
after(async () => {
  await h?.stop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

const sign = (role: 'qa' | 'clinical', printedName: string, digest: string): ApprovalInput => ({
  signer: `${role}.reviewer`,
  printedName,
  role,
  decision: 'approve',
  meaning: `approved as ${role} reviewer`,
  reason: 'evidence reviewed',
  dossierSha256: digest,
});

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

const failed = (r: AuditReport) =>
  r.checks.filter((c) => !c.passed).map((c) => `${c.id}: ${JSON.stringify(c.findings)}`);

describe('vigil audit on the real stack', () => {
  let fromTemporal: AuditReport;

  it('a released demo release passes every check, from Temporal', async () => {
    const handle = await startRelease(h, await demoRequest(h, await fastPolicy()));
    releaseId = handle.workflowId;
    const waiting = await waitFor('AWAITING_APPROVAL', async () => {
      const s = await handle.query(releaseStatusQuery);
      return s.stage === 'AWAITING_APPROVAL' && s.dossier ? s : null;
    });
    await handle.executeUpdate(approveReleaseUpdate, { args: [sign('qa', 'Dana Whitfield', waiting.dossier!.sha256)] });
    await handle.executeUpdate(approveReleaseUpdate, {
      args: [sign('clinical', 'Dr Sam Okafor', waiting.dossier!.sha256)],
    });
    assert.equal((await handle.result()).outcome, 'RELEASED');

    const html = path.join(tmp, 'audit.html');
    const { code, out, err } = await cli('audit', releaseId, '--json', '--html', html);
    fromTemporal = JSON.parse(out) as AuditReport;
    assert.deepEqual(failed(fromTemporal), [], err);
    assert.equal(code, 0);
    assert.deepEqual(
      fromTemporal.checks.map((c) => c.id),
      [
        'evidence-chain',
        'evidence-artifacts',
        'evidence-versions',
        'histories',
        'replay-recorded-build',
        'replay-current-build',
        'history-chain-writes',
        'decisions',
        'signatures',
      ],
    );
    // Lifecycle + monitoring (first run continued-as-new, last run completed), all from Temporal.
    assert.deepEqual(fromTemporal.histories.map((x) => [x.workflowType, x.source, x.archive?.reason]).sort(), [
      ['releaseLifecycle', 'temporal', 'completion'],
      ['releaseMonitoring', 'temporal', 'completion'],
      ['releaseMonitoring', 'temporal', 'continue-as-new'],
    ]);
    assert.ok(
      fromTemporal.histories.every((x) => x.recordedBuildId === fromTemporal.builds.current),
      'the build that ran it is the current one',
    );
    // SNAPSHOT, OFFLINE_EVAL, SHADOW, 2 canary steps, 3 monitoring windows: all recomputed identically.
    assert.deepEqual(
      fromTemporal.decisions.map((d) => [d.stage, d.step, d.match]),
      [
        ['SNAPSHOT', null, true],
        ['OFFLINE_EVAL', null, true],
        ['SHADOW', null, true],
        ['CANARY', 0, true],
        ['CANARY', 1, true],
        ['MONITORING', 0, true],
        ['MONITORING', 1, true],
        ['MONITORING', 2, true],
      ],
    );
    assert.deepEqual(
      fromTemporal.signatures.map((s) => [s.printedName, s.role, s.meaning, s.boundToDossier]),
      [
        ['Dana Whitfield', 'qa', 'approved as qa reviewer', true],
        ['Dr Sam Okafor', 'clinical', 'approved as clinical reviewer', true],
      ],
    );
    const page = fs.readFileSync(html, 'utf8');
    assert.match(page, /Dr Sam Okafor/);
    assert.doesNotMatch(page, /<script|<link|src="http/, 'self-contained');
    assert.equal((await cli('evidence', 'verify', releaseId)).code, 0);
  });

  it('passes from the archive once Temporal no longer has the histories', async () => {
    for (const x of fromTemporal.histories) {
      await h.client.workflowService.deleteWorkflowExecution({
        namespace: 'default',
        workflowExecution: { workflowId: x.workflowId, runId: x.runId },
      });
    }
    for (const x of fromTemporal.histories) {
      await waitFor(`deletion of ${x.workflowId} ${x.runId}`, async () => {
        try {
          await h.client.workflow.getHandle(x.workflowId, x.runId).fetchHistory();
          return false;
        } catch {
          return true;
        }
      });
    }
    const { code, out, err } = await cli('audit', releaseId);
    assert.equal(code, 0, out + err);
    assert.match(out, /from archive/);
    assert.doesNotMatch(out, /from temporal/);
    assert.match(out, /AUDIT PASSED/);
  });

  it('fails naming the event when one archived event is altered', async () => {
    const lifecycle = fromTemporal.histories.find((x) => x.workflowType === 'releaseLifecycle')!;
    const historyKey = lifecycle.archive!.historyKey;
    const real = new S3EvidenceReader(h.s3, h.config.s3.bucket);
    let alteredEvent = 0;
    // The archived history as an attacker (or a bad disk) would leave it: SHADOW's measured agreement lowered.
    const tampered: EvidenceReader = {
      list: (p) => real.list(p),
      versions: (k) => real.versions(k),
      async read(key, versionId) {
        const bytes = await real.read(key, versionId);
        if (key !== historyKey || !bytes) return bytes;
        const doc = JSON.parse(Buffer.from(bytes).toString('utf8'));
        const scheduled = doc.events.find(
          (e: { activityTaskScheduledEventAttributes?: { activityType: { name: string } } }) =>
            e.activityTaskScheduledEventAttributes?.activityType.name === 'observeShadow',
        );
        const done = doc.events.find(
          (e: { activityTaskCompletedEventAttributes?: { scheduledEventId: string } }) =>
            e.activityTaskCompletedEventAttributes?.scheduledEventId === scheduled.eventId,
        );
        const payload = done.activityTaskCompletedEventAttributes.result.payloads[0];
        const value = defaultPayloadConverter.fromPayload({
          metadata: { encoding: Buffer.from(payload.metadata.encoding, 'base64') },
          data: Buffer.from(payload.data, 'base64'),
        } as Payload) as { measurement: { agreement: number } };
        value.measurement.agreement = 0.5;
        payload.data = Buffer.from(JSON.stringify(value)).toString('base64');
        alteredEvent = Number(done.eventId);
        return Buffer.from(JSON.stringify(doc));
      },
    };
    const report = await auditRelease(releaseId, { reader: tampered, temporal: null, currentBundle: workflowBundle });
    assert.equal(report.passed, false);
    const byId = Object.fromEntries(report.checks.map((c) => [c.id, c]));
    assert.ok(
      byId['evidence-artifacts']!.findings.some((f) => f.key === historyKey),
      'the altered archive no longer hashes to its digest',
    );
    const decision = byId.decisions!.findings.map((f) => f.problem).join('\n');
    assert.match(
      decision,
      new RegExp(
        `SHADOW: decision recomputed from event ${alteredEvent} \\(ActivityTaskCompleted observeShadow\\) of ${releaseId}`,
      ),
    );
    assert.equal(byId['replay-recorded-build']!.passed, false, 'the altered result sends replay down another branch');
    assert.match(byId['replay-current-build']!.findings[0]!.problem, /DeterminismViolationError|Nondeterminism/i);
  });

  it('evidence verify names the key when one evidence byte is altered (copy in a bucket without Object Lock)', async () => {
    const admin = createS3Client({ ...h.stack.s3Config, ...h.stack.adminCredentials! });
    const copy = 'vigil-review-copy';
    try {
      await admin.send(new CreateBucketCommand({ Bucket: copy }));
      let token: string | undefined;
      do {
        const page = await h.s3.send(
          new ListObjectsV2Command({ Bucket: h.config.s3.bucket, ContinuationToken: token }),
        );
        for (const o of page.Contents ?? []) {
          const body = await (
            await h.s3.send(new GetObjectCommand({ Bucket: h.config.s3.bucket, Key: o.Key! }))
          ).Body!.transformToByteArray();
          await h.s3.send(new PutObjectCommand({ Bucket: copy, Key: o.Key!, Body: body }));
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      assert.equal(
        (await cli('evidence', 'verify', releaseId, '--bucket', copy)).code,
        0,
        'the faithful copy verifies',
      );

      const shadow = (await h.evidence.getJson(`releases/${releaseId}/chain/000002`)) as {
        stage: string;
        artifacts: Array<{ key: string; sha256: string }>;
      };
      assert.equal(shadow.stage, 'SHADOW');
      const target = shadow.artifacts[0]!;
      const bytes = Buffer.from(
        await (await h.s3.send(new GetObjectCommand({ Bucket: copy, Key: target.key }))).Body!.transformToByteArray(),
      );
      const mid = Math.floor(bytes.length / 2);
      bytes[mid] = bytes[mid]! ^ 0x01;
      await h.s3.send(new PutObjectCommand({ Bucket: copy, Key: target.key, Body: bytes }));

      const { code, out } = await cli('evidence', 'verify', releaseId, '--bucket', copy, '--json');
      assert.equal(code, 3);
      const res = JSON.parse(out) as {
        passed: boolean;
        checks: Array<{ id: string; findings: Array<{ key?: string; expected?: string; actual?: string }> }>;
      };
      assert.equal(res.passed, false);
      assert.deepEqual(
        res.checks.find((c) => c.id === 'evidence-artifacts')!.findings.map((f) => [f.key, f.expected]),
        [[target.key, target.sha256]],
      );

      // Dropping a chain entry from the copy is found too.
      await admin.send(
        new PutObjectCommand({
          Bucket: copy,
          Key: target.key,
          Body: Buffer.from(
            await (
              await h.s3.send(new GetObjectCommand({ Bucket: h.config.s3.bucket, Key: target.key }))
            ).Body!.transformToByteArray(),
          ),
        }),
      );
      const { DeleteObjectCommand } = await import('@aws-sdk/client-s3');
      await admin.send(new DeleteObjectCommand({ Bucket: copy, Key: `releases/${releaseId}/chain/000004` }));
      const dropped = await cli('evidence', 'verify', releaseId, '--bucket', copy);
      assert.equal(dropped.code, 3);
      assert.match(dropped.out, new RegExp(`releases/${releaseId}/chain/000004: chain entry 4 is missing`));
    } finally {
      admin.destroy();
    }
  });
});
