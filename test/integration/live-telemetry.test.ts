import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { S3Client } from '@aws-sdk/client-s3';
import { canaryActivities } from '../../src/activities/canary';
import { gatewayTelemetryLiveSource, simulatedLiveSource } from '../../src/activities/live-source';
import type { TrafficSource } from '../../src/contracts/traffic';
import { EvidenceStore, createS3Client } from '../../src/evidence';
import { assignmentSalt, inCanary as inCanaryBucket } from '../../src/stats/arm-assignment';
import { driveGateway, type GatewayDriverSummary } from '../../src/sim/gateway-driver';
import { startTestStack, type TestStack } from '../../src/stack';
import { S3WatermarkStore, TelemetryLiveSource, TelemetryReader } from '../../src/telemetry';
import { validPolicy, validRequest } from '../support/fixtures';
import {
  gatewayEnv,
  processExited,
  startGatewayProcess,
  type GatewayChild,
  writeDemoModelsFile,
} from '../support/gateway-process';

const TOKEN = 'gateway-control-token-0123';
const KEY = 'gateway-case-id-key-0123';
const THRESHOLD = 0.3;

describe('canary measured from gateway telemetry (real gateway process, SeaweedFS)', () => {
  let stack: TestStack;
  let s3: S3Client;
  let gateway: GatewayChild;

  before(async () => {
    stack = await startTestStack({ temporal: false });
    s3 = createS3Client(stack.s3Config);
    const dir = fs.mkdtempSync(path.join(stack.stateDir, 'gw-live-'));
    const modelsFile = writeDemoModelsFile(dir);
    gateway = await startGatewayProcess(gatewayEnv(stack, { modelsFile, controlToken: TOKEN, caseIdKey: KEY, dir }));
  });

  after(async () => {
    if (gateway && gateway.proc.exitCode === null && gateway.proc.signalCode === null) {
      gateway.proc.kill('SIGTERM');
      await processExited(gateway.proc);
    }
    s3?.destroy();
    await stack?.stop();
  });

  it('measures each route’s cases, labels and alerts from S3 segments and records the source', async () => {
    // A 10% canary through the control API.
    const put = await fetch(`${gateway.url}/control/routes/sepsis-alert`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${TOKEN}`, 'if-match': '"1"', 'content-type': 'application/json' },
      body: JSON.stringify({
        version: 2,
        production: '1.4.0',
        canary: { model: '2.0.0', percent: 10 },
        threshold: THRESHOLD,
      }),
    });
    assert.equal(put.status, 200);

    // 400 cases at 400/s; 80% of outcomes arrive (the rest stay outstanding).
    const drive: GatewayDriverSummary = await driveGateway({
      url: gateway.url,
      model: 'sepsis-alert',
      rate: 400,
      cases: 400,
      ingestToken: TOKEN,
      outcomeDelayMs: 200,
      seed: 'live-telemetry-test',
      scenario: { name: 'delayed outcomes', labelledShare: 0.8 },
    });
    assert.equal(drive.failed, 0, drive.firstError ?? '');
    assert.equal(drive.outcomeFailures, 0, drive.firstError ?? '');
    assert.ok(drive.outcomesWithheld > 0 && drive.outcomesPosted > 0);
    const to = new Date(Date.parse(drive.inferenceEndedAt) + 1).toISOString();

    // The arms the gateway's stable hash gives (the same function the workflow's simulated canary uses).
    const inCanary = (c: { caseId: string }): boolean => inCanaryBucket(c.caseId, assignmentSalt('sepsis-alert'), 10);
    for (const c of drive.sent) assert.equal(c.route, inCanary(c) ? 'canary' : 'production', c.caseId);
    const expected = (arm: GatewayDriverSummary['sent']) => ({
      n: arm.length,
      positives: arm.filter((c) => c.outcomePosted && c.label === 1).length,
      truePositives: arm.filter((c) => c.outcomePosted && c.label === 1 && c.score! >= THRESHOLD).length,
      negatives: arm.filter((c) => c.outcomePosted && c.label === 0).length,
      trueNegatives: arm.filter((c) => c.outcomePosted && c.label === 0 && c.score! < THRESHOLD).length,
      alerts: arm.filter((c) => c.score! >= THRESHOLD).length,
      unlabelled: arm.filter((c) => !c.outcomePosted).length,
    });
    const canary = expected(drive.sent.filter(inCanary));
    const production = expected(drive.sent.filter((c) => !inCanary(c)));
    assert.ok(canary.n > 10 && canary.n < 80, `a ~10% canary arm, got ${canary.n}`);
    assert.ok(
      canary.positives > 0 && canary.negatives > 0 && canary.unlabelled > 0 && canary.alerts > 0,
      JSON.stringify(canary),
    );

    // The gateway publishes an upload watermark: one read waits until every event stamped before the drive ended
    // (its outcomes included) is in S3 — no polling for counts.
    const evidence = new EvidenceStore({ s3, bucket: stack.bucket, retention: null });
    const live = new TelemetryLiveSource(new TelemetryReader(s3, stack.bucket, evidence), evidence, undefined, {
      store: new S3WatermarkStore(s3, stack.bucket),
      maxWaitMs: 30_000,
    });
    const query = {
      model: 'sepsis-alert',
      from: drive.startedAt,
      to,
      threshold: THRESHOLD,
      modelVersions: { canary: '2.0.0', production: '1.4.0' },
    };
    const r = await live.measure({ ...query, asOf: drive.endedAt });
    assert.equal(r.completeness?.complete, true, JSON.stringify(r.completeness));
    assert.ok(
      r.completeness!.gateways.length >= 1 && r.completeness!.gateways.every((g) => g.through >= drive.endedAt),
    );
    const got = (a: typeof r.arms.canary) => ({
      n: a.stats.n,
      positives: a.stats.positives,
      truePositives: a.stats.truePositives,
      negatives: a.stats.negatives,
      trueNegatives: a.stats.trueNegatives,
      alerts: a.stats.alerts,
      unlabelled: a.unlabelled,
    });
    assert.deepEqual(got(r.arms.canary), canary);
    assert.deepEqual(got(r.arms.production), production);
    assert.deepEqual(r.arms.canary.modelVersions, ['2.0.0']);
    assert.deepEqual(r.arms.canary.routeVersions, [2]);
    assert.ok(r.segments.length > 0);

    // observeLive with deps.live: the bake that ended at `at`, recorded with its source and segments.
    const bakeSeconds = Math.ceil((Date.parse(to) - Date.parse(drive.startedAt)) / 1000) + 1;
    const base = validPolicy();
    const request = validRequest({
      candidate: { version: '2.0.0', artifact: { key: 'models/sepsis-alert/2.0.0.json', sha256: 'a'.repeat(64) } },
      incumbent: { version: '1.4.0', artifact: { key: 'models/sepsis-alert/1.4.0.json', sha256: 'b'.repeat(64) } },
      policy: { ...base, canary: { ...base.canary, steps: [{ percent: 10, bakeSeconds, cases: 400 }] } },
    });
    const traffic: TrafficSource = { cases: () => Promise.reject(new Error('simulated traffic must not be read')) };
    const acts = canaryActivities({
      live: gatewayTelemetryLiveSource({ evidence, telemetry: live }),
      simulated: simulatedLiveSource({ evidence, traffic }),
    });
    const out = await acts.observeLive({
      releaseId: 'rel-live-telemetry',
      request,
      mode: 'canary',
      step: 0,
      percent: 10,
      cases: 400,
      baseline: null,
      at: to,
    });
    assert.equal(out.measurement.source, 'gateway-telemetry');
    assert.equal(out.measurement.treatment.n, canary.n);
    assert.equal(out.measurement.comparator.n, production.n);
    assert.equal(out.measurement.treatment.truePositives, canary.truePositives);
    assert.deepEqual(out.measurement.unlabelled, { treatment: canary.unlabelled, comparator: production.unlabelled });
    // The error-rate guardrail's measurement: every canary request got a prediction (failures are unit-tested in the gateway and the join).
    assert.deepEqual(out.measurement.errors, { failed: 0, requests: r.arms.canary.predictions });
    assert.ok(r.arms.canary.predictions >= canary.n);
    const record = (await evidence.getJson(out.artifacts[0]!.key)) as {
      kind: string;
      source: string;
      trafficWindow: { from: string; to: string };
      segments: Array<{ segment: { key: string; sha256: string } }>;
    };
    assert.equal(record.kind, 'vigil.canary-interval/v1');
    assert.equal(record.source, 'gateway-telemetry');
    assert.equal(record.trafficWindow.to, to);
    assert.ok(Date.parse(record.trafficWindow.from) <= Date.parse(drive.startedAt));
    assert.deepEqual(
      record.segments.map((s) => s.segment.sha256),
      r.segments.map((s) => s.segment.sha256),
    );
  });
});
