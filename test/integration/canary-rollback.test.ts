/**
 * End to end on the real stack (Temporal dev server, SeaweedFS, the real worker): the simulator's regression at
 * one site (the candidate's pipeline delivers a wrong x0 at site-b) makes the canary roll back by itself, the
 * guardrails per cohort naming site B. Routes return to the previous model; the rollback record (with every
 * cohort's verdict) and a signed notification naming the site exist; the status says why; the audit recomputes
 * every sequential and per-cohort verdict. Then `vigil drill rollback` rehearses the same on a drill route table.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { WebhookNotifier } from '../../src/activities';
import { verifyVigilSignature } from '../../src/services/webhook-signatures';
import { drillRouteModel, type DrillReport } from '../../src/domain';
import { approveReleaseUpdate, releaseStatusQuery } from '../../src/domain/messages';
import { S3RouteStore } from '../../src/gateway/route-store';
import { SimulatedTraffic } from '../../src/sim/traffic';
import {
  demoRequest,
  fastPolicy,
  type Harness,
  reviewerApproval,
  runCli,
  startHarness,
  startRelease,
  waitFor,
} from '../support/harness';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';

const SECRET = 'rollback-webhook-secret';
let receiver: WebhookReceiver;
let h: Harness;
let tmp: string;

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-rollback-'));
  receiver = await startWebhookReceiver();
  h = await startHarness({
    deps: {
      // The world the worker observes: site-b's candidate pipeline delivers x0 stuck at -3 from the first canary interval.
      traffic: new SimulatedTraffic({
        name: 'site-b x0 unit mix-up',
        regression: { site: 'site-b', feature: 'x0', scale: 0, offset: -3, fromInterval: 0, inShadow: false },
        labelledShare: 1,
      }),
      notifier: new WebhookNotifier(receiver.url, SECRET),
    },
  });
});
after(async () => {
  await h?.stop();
  await receiver?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

const sign = reviewerApproval;

async function json<T>(key: string): Promise<T> {
  const res = await h.s3.send(new GetObjectCommand({ Bucket: h.config.s3.bucket, Key: key }));
  return JSON.parse(await res.Body!.transformToString()) as T;
}

const cli = (...argv: string[]) => runCli(h, ...argv);

describe('canary regression at one site on the real stack', () => {
  let releaseId: string;

  it('rolls back by itself: routes back on the previous model, rollback record and signed notification, the status says why', async () => {
    const request = await demoRequest(h, await fastPolicy());
    assert.ok(request.policy.canary.sequential, 'the demo policy judges the canary sequentially');
    const handle = await startRelease(h, request);
    releaseId = handle.workflowId;
    const waiting = await waitFor('AWAITING_APPROVAL', async () => {
      const s = await handle.query(releaseStatusQuery);
      return s.stage === 'AWAITING_APPROVAL' && s.dossier ? s : null;
    });
    await handle.executeUpdate(approveReleaseUpdate, { args: [sign('qa', waiting.dossier!.sha256)] });
    await handle.executeUpdate(approveReleaseUpdate, { args: [sign('clinical', waiting.dossier!.sha256)] });
    const result = await handle.result();
    assert.equal(result.outcome, 'ROLLED_BACK', result.reason);

    const status = await handle.query(releaseStatusQuery);
    // The guardrails per cohort name the site where the candidate stopped working (issue 16).
    assert.match(
      status.reason!,
      /^CANARY step \d \(\d+%\)(, extension \d)?: site=site-b: (sensitivity harm declared|catastrophic failure)/,
    );
    assert.deepEqual(
      { production: status.routes!.production, canary: status.routes!.canary },
      { production: request.incumbent.version, canary: null },
    );
    // The route table the gateway reads says the same.
    const stored = await new S3RouteStore(h.s3, h.config.s3.bucket).current(request.modelName);
    assert.deepEqual(
      { production: stored!.production, canary: stored!.canary, revision: stored!.revision },
      { production: request.incumbent.version, canary: null, revision: `${releaseId}#${status.routes!.version}` },
    );

    // The ROLLED_BACK chain entry links the route change, the rollback record and the notification.
    const last = status.history.at(-1)!;
    assert.equal(last.stage, 'ROLLED_BACK');
    const kinds = await Promise.all(
      last.artifacts.map(async (a) => ({
        a,
        doc: await json<{ kind: string }>(a.key).catch(() => ({ kind: '(not json)' })),
      })),
    );
    const rollback = kinds.find((k) => k.doc.kind === 'vigil.rollback/v1');
    const notice = kinds.find((k) => k.doc.kind === 'vigil.notification/v1');
    assert.ok(rollback && notice, `artifacts: ${kinds.map((k) => k.doc.kind).join(', ')}`);
    const record = rollback.doc as unknown as {
      cause: string;
      restoredVersion: string;
      drill: boolean;
      trigger: {
        statistics: { cohorts: { cohorts: { cohort: string; verdict: string; canary: { sensitivity: number } }[] } };
      };
      routes: { before: { canary: unknown } };
    };
    assert.equal(record.cause, status.reason);
    assert.equal(record.restoredVersion, request.incumbent.version);
    assert.equal(record.drill, false);
    const cohorts = record.trigger.statistics.cohorts.cohorts;
    assert.deepEqual(
      cohorts.filter((c) => c.verdict === 'harm' || c.verdict === 'floor').map((c) => c.cohort),
      ['site=site-b'],
      'only site B failed',
    );
    assert.ok(cohorts.find((c) => c.cohort === 'site=site-b')!.canary.sensitivity < 0.2);
    assert.notEqual(record.routes.before.canary, null);

    // Exactly one signed delivery, verifiable with the shared secret, naming the rollback record.
    const mine = receiver.deliveries.filter((d) => String(d.headers['x-vigil-delivery']).startsWith(releaseId));
    assert.equal(mine.length, 1);
    const d = mine[0]!;
    assert.ok(
      verifyVigilSignature(
        SECRET,
        String(d.headers['x-vigil-timestamp']),
        String(d.headers['x-vigil-delivery']),
        d.body,
        String(d.headers['x-vigil-signature']),
      ),
    );
    const body = JSON.parse(d.body.toString('utf8')) as { notice: string; rollback: { key: string }; message: string };
    assert.equal(body.notice, 'rollback');
    assert.equal(body.rollback.key, rollback.a.key);
    assert.match(body.message, /every route now serves 1\.4\.0/);
    assert.match(
      body.message,
      /Cause: CANARY step \d \(\d+%\)(, extension \d)?: site=site-b: /,
      'the notice names the site',
    );

    // Every canary look's verdict was recorded as evidence, and the chain's CANARY entries carry them.
    const canary = status.history.filter((r) => r.stage === 'CANARY');
    assert.ok(canary.length >= 1);
    assert.equal(canary.at(-1)!.decision!.verdict, 'fail');
  });

  it('vigil audit recomputes every sequential verdict and passes', async () => {
    const { code, out, err } = await cli('audit', releaseId, '--json');
    const report = JSON.parse(out) as {
      passed: boolean;
      checks: Array<{ id: string; passed: boolean; findings: unknown[] }>;
      decisions: Array<{ stage: string; match: boolean }>;
    };
    assert.deepEqual(
      report.checks.filter((c) => !c.passed),
      [],
      err,
    );
    assert.equal(code, 0);
    const canaryChecks = report.decisions.filter((c) => c.stage === 'CANARY');
    assert.ok(canaryChecks.length >= 1 && canaryChecks.every((c) => c.match));
  });

  it('vigil drill rollback rehearses it on the drill route table and writes a passing report', async () => {
    const html = path.join(tmp, 'drill.html');
    const { code, out, err } = await cli(
      'drill',
      'rollback',
      releaseId,
      '--bake',
      '1',
      '--id',
      `drill-${Date.now()}`,
      '--html',
      html,
      '--json',
    );
    assert.equal(code, 0, err);
    const lines = out.trim().split('\n');
    const looks = lines.filter((l) => l.startsWith('{"event":"look"'));
    assert.ok(looks.length >= 1, out);
    const { report } = JSON.parse(lines.slice(looks.length).join('\n')) as { report: DrillReport };
    assert.equal(report.passed, true, report.summary);
    assert.equal(report.detected, true);
    assert.equal(report.routeTable, drillRouteModel('sepsis-alert'));
    assert.equal(report.fromRelease, releaseId);
    assert.ok(report.rollback?.notification, 'the drill notification exists');
    // The drill moved only its own route table; the clinical one still shows the release's rollback.
    const routes = new S3RouteStore(h.s3, h.config.s3.bucket);
    const drillTable = await routes.current(report.routeTable);
    assert.deepEqual(
      { production: drillTable!.production, canary: drillTable!.canary, revision: drillTable!.revision },
      { production: '1.4.0', canary: null, revision: `${report.drillId}#${report.rollback!.routesAfter.version}` },
    );
    const clinical = await routes.current('sepsis-alert');
    assert.equal(clinical!.canary, null);
    const page = fs.readFileSync(html, 'utf8');
    assert.match(page, /drill passed/);
    assert.match(page, /<svg/);
    const notices = receiver.deliveries.filter((x) => String(x.headers['x-vigil-delivery']).startsWith(report.drillId));
    assert.equal(notices.length, 1);
    assert.match(JSON.parse(notices[0]!.body.toString('utf8')).message, /^DRILL \(no clinical effect\)/);
  });

  it('a drill on a release that does not exist is refused with exit 2 and nothing started', async () => {
    const { code, err } = await cli('drill', 'rollback', 'no-such-release');
    assert.equal(code, 2);
    assert.match(err, /release no-such-release not found/);
  });
});
