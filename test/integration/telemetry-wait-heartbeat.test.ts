import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, Worker } from '@temporalio/worker';
import { canaryActivities } from '../../src/activities/canary';
import { gatewayTelemetryLiveSource } from '../../src/activities/live-source';
import type { LiveSource } from '../../src/contracts/live-source';
import { createLogger } from '../../src/logging/logger';
import { startTestStack, type TestStack } from '../../src/stack';
import { TelemetryLiveSource, type TelemetryWatermark, type WatermarkStore } from '../../src/telemetry';
import { installRuntimeLogger } from '../../src/workers/runtime';
import { validRequest } from '../support/fixtures';
import { memoryEvidence } from '../support/memory-evidence';

/** Longer than the measuring activities' heartbeat timeout (15 s, src/workflows/activities-proxy.ts). */
const WAIT_MS = 20_000;

describe('a canary window waiting for gateway watermarks heartbeats and reports the window incomplete', () => {
  let stack: TestStack;

  before(async () => {
    installRuntimeLogger(createLogger('test', process.env.VIGIL_TEST_LOG_LEVEL ?? 'warn'));
    stack = await startTestStack();
  });
  after(async () => {
    await stack?.stop();
  });

  it(`waits ${WAIT_MS / 1000} s (heartbeat timeout 15 s) in one attempt; a lagging gateway makes the window incomplete`, async () => {
    const at = new Date();
    // One live gateway whose upload watermark stays before the window's end for the whole wait.
    let listed = 0;
    const watermarks: WatermarkStore = {
      put: () => Promise.resolve(),
      list: () => {
        listed++;
        const mark: TelemetryWatermark = {
          kind: 'vigil.telemetry-watermark/v1',
          gateway: 'gw-lagging',
          through: new Date(at.getTime() - 60_000).toISOString(),
          at: new Date().toISOString(),
        };
        return Promise.resolve([mark]);
      },
    };
    const telemetry = new TelemetryLiveSource(
      { pointers: () => Promise.resolve([]) },
      { getJson: () => Promise.reject(new Error('unused')), getBytes: () => Promise.reject(new Error('no segments')) },
      () => new Date(),
      { store: watermarks, maxWaitMs: WAIT_MS, pollMs: 1000 },
    );
    const live = gatewayTelemetryLiveSource({ evidence: memoryEvidence(), telemetry });
    const activities = canaryActivities({ live, simulated: {} as LiveSource });

    const connection = await NativeConnection.connect({ address: stack.temporalAddress! });
    const taskQueue = `heartbeat-wait-${Date.now()}`;
    const worker = await Worker.create({
      connection,
      taskQueue,
      workflowBundle: await bundleWorkflowCode({
        workflowsPath: path.join(__dirname, '../support/workflows/observe-live.ts'),
        logger: {
          log: () => undefined,
          trace: () => undefined,
          debug: () => undefined,
          info: () => undefined,
          warn: () => undefined,
          error: () => undefined,
        },
      }),
      activities,
    });
    const client = new Client({ connection: await Connection.connect({ address: stack.temporalAddress! }) });
    const request = validRequest();
    const input = {
      releaseId: 'rel-heartbeat',
      request,
      mode: 'canary' as const,
      step: 0,
      percent: 10,
      cases: 0,
      baseline: null,
      at: at.toISOString(),
    };
    const t0 = Date.now();
    const handle = await client.workflow.start('observeLiveOnce', {
      taskQueue,
      workflowId: `wait-${t0}`,
      args: [input],
    });
    const out = (await worker.runUntil(handle.result())) as {
      measurement: { completeness?: unknown; source?: string };
    };
    const elapsed = Date.now() - t0;

    assert.ok(elapsed >= WAIT_MS, `the activity waited ${elapsed} ms`);
    assert.ok(listed >= 10, `watermarks polled ${listed} times`);
    assert.equal(out.measurement.source, 'gateway-telemetry');
    const c = out.measurement.completeness as {
      complete: boolean;
      gateways: number;
      lagging: number;
      waitedMs: number;
    };
    assert.equal(c.complete, false);
    assert.equal(c.gateways, 1);
    assert.equal(c.lagging, 1);
    assert.ok(c.waitedMs >= WAIT_MS, `waitedMs ${c.waitedMs}`);

    // One attempt, no timeout: the wait outlasted the heartbeat timeout without losing the attempt.
    const history = await handle.fetchHistory();
    const events = history.events ?? [];
    const started = events.filter((e) => e.activityTaskStartedEventAttributes);
    assert.equal(started.length, 1);
    assert.equal(started[0]!.activityTaskStartedEventAttributes!.attempt, 1);
    assert.equal(events.filter((e) => e.activityTaskTimedOutEventAttributes).length, 0);
    assert.equal(events.filter((e) => e.activityTaskCompletedEventAttributes).length, 1);
    await connection.close();
  });
});
