/**
 * Issue #15 item 3, judging side (`patched('honest-windows')`), on the time-skipping server with the shared fakes:
 * a canary interval measured from gateway telemetry whose window was incomplete (a gateway had not uploaded past
 * its end) is inconclusive and the step bakes again — never passed — and passes once a complete window shows the
 * same numbers; a policy with `acceptIncompleteWindows: true` passes it at once; an incomplete SHADOW is rejected.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { VigilActivities } from '../../src/activities';
import type { LiveMeasurement, ReleaseRequest, WindowCompleteness } from '../../src/domain';
import { fakeActivities, healthy, markers, signOff } from '../support/fake-activities';
import { validRequest } from '../support/fixtures';
import { arm, startTimeSkippingEnv, withWorker } from '../support/time-skipping';

let env: TestWorkflowEnvironment;
before(async () => {
  env = await startTimeSkippingEnv();
});
after(async () => {
  await env?.teardown();
});

const INCOMPLETE: WindowCompleteness = { complete: false, gateways: 2, lagging: 1, waitedMs: 60_000 };
const COMPLETE: WindowCompleteness = { complete: true, gateways: 2, lagging: 0, waitedMs: 1_200 };

/** Plenty of labelled positives, equal sensitivity: a pass on its numbers. Step 1's first window is incomplete. */
const telemetry = (mode: string, step: number, extension: number): LiveMeasurement =>
  mode !== 'canary'
    ? healthy()
    : {
        source: 'gateway-telemetry',
        completeness: step === 0 && extension === 0 ? INCOMPLETE : COMPLETE,
        window: `canary ${step}.${extension}`,
        treatment: arm(200, 170, 2000, 300),
        comparator: arm(800, 680, 8000, 1200),
      };

function request(acceptIncompleteWindows?: boolean): ReleaseRequest {
  const r = validRequest();
  r.policy.canary.sequential = {
    alpha: 0.05,
    harmMargin: 0,
    planned: { treatmentPositives: 400, comparatorPositives: 1600, sensitivity: 0.85 },
    minPositives: 30,
    maxAlertRateRatio: 1.5,
    maxExtensions: 2,
  };
  if (acceptIncompleteWindows !== undefined) r.policy.acceptIncompleteWindows = acceptIncompleteWindows;
  return r;
}

async function release(acts: VigilActivities, r: ReleaseRequest, id: string, approve = true) {
  return withWorker(env, acts, async (taskQueue) => {
    const handle = await env.client.workflow.start('releaseLifecycle', {
      taskQueue,
      workflowId: `${id}-${Date.now()}`,
      args: [r],
    });
    if (approve) await signOff(handle);
    const result = await handle.result();
    return { result, markers: await markers(handle) };
  });
}

describe('honest windows (time skipping)', () => {
  it('extends a canary step whose telemetry window was incomplete, then passes it on a complete window', async () => {
    const f = fakeActivities({ live: telemetry });
    const { result, markers: recorded } = await release(f.acts, request(), 'honest-canary');
    assert.equal(result.outcome, 'RELEASED');
    assert.deepEqual(
      f.looks.map((l) => [l.step, l.extension]),
      [
        [0, 0],
        [0, 1],
        [1, 0],
      ],
      'the incomplete look is baked again, not passed',
    );
    const canary = f.chain.filter((e) => e.stage === 'CANARY');
    assert.equal(canary[0]!.decision.verdict, 'inconclusive');
    assert.match(
      canary[0]!.decision.reasons[0]!,
      /^telemetry window canary 0\.0 incomplete: 1 of 2 gateways had not uploaded past its end after waiting 60\.0 s/,
    );
    assert.match(canary[0]!.decision.reasons[1]!, /^measured so far: guardrails held/);
    assert.equal(canary[1]!.decision.verdict, 'pass');
    assert.ok(
      recorded.some((m) => m.includes('honest-windows')),
      'the patch marker is in the history',
    );
  });

  it('passes the incomplete window at once when the policy accepts incomplete windows, naming the gap', async () => {
    const f = fakeActivities({ live: telemetry });
    const { result } = await release(f.acts, request(true), 'honest-accept');
    assert.equal(result.outcome, 'RELEASED');
    assert.deepEqual(
      f.looks.map((l) => [l.step, l.extension]),
      [
        [0, 0],
        [1, 0],
      ],
    );
    const first = f.chain.find((e) => e.stage === 'CANARY')!;
    assert.equal(first.decision.verdict, 'pass');
    assert.match(first.decision.reasons.at(-1)!, /incomplete.*accepted: the policy sets acceptIncompleteWindows/);
  });

  it('rejects a SHADOW whose telemetry window was incomplete instead of passing it', async () => {
    const f = fakeActivities({ shadow: { measurement: { source: 'gateway-telemetry', completeness: INCOMPLETE } } });
    const { result } = await release(f.acts, request(), 'honest-shadow', false);
    assert.equal(result.outcome, 'REJECTED');
    assert.match(result.reason, /^SHADOW: the telemetry window incomplete: 1 of 2 gateways/);
    const shadow = f.chain.find((e) => e.stage === 'SHADOW')!;
    assert.equal(shadow.decision.verdict, 'inconclusive');
  });

  it('records a monitoring window measured incomplete as not judged; complete windows are judged as before', async () => {
    const windows = (_mode: string, step: number): LiveMeasurement => ({
      source: 'gateway-telemetry',
      completeness: step === 1 ? INCOMPLETE : COMPLETE,
      window: `monitoring ${step}`,
      treatment: arm(100, 90, 1000, 200),
      comparator: arm(100, 90, 1000, 200),
    });
    const f = fakeActivities({ live: windows });
    const r = request();
    r.policy.monitoring.intervals = 3;
    r.policy.monitoring.intervalsPerRun = 3;
    await withWorker(env, f.acts, async (taskQueue) => {
      const handle = await env.client.workflow.start('releaseMonitoring', {
        taskQueue,
        workflowId: `honest-monitoring-${Date.now()}`,
        args: [{ releaseId: 'r', request: r, baseline: arm(100, 90, 1000, 200), chainHead: null, nextInterval: 0 }],
      });
      return handle.result();
    });
    assert.deepEqual(
      f.chain.map((e) => e.decision.verdict),
      ['pass', 'inconclusive', 'pass'],
    );
    assert.match(f.chain[1]!.decision.reasons[0]!, /^telemetry window monitoring 1 incomplete/);
  });

  it('a complete window records no marker and passes as before', async () => {
    const f = fakeActivities({
      live: (mode, step, ext) => ({ ...telemetry(mode, step, ext), completeness: COMPLETE }),
    });
    const { result, markers: recorded } = await release(f.acts, request(), 'honest-complete');
    assert.equal(result.outcome, 'RELEASED');
    assert.equal(f.looks.length, 2);
    assert.ok(!recorded.some((m) => m.includes('honest-windows')));
  });
});
