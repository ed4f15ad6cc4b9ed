/**
 * Drift surveillance in post-release monitoring (policy monitoring.drift), on the time-skipping test server with
 * the shared fake activities: 'notify' (a notice once per drift episode, surveillance continues across
 * continue-as-new), 'revalidate' (a new release of the same candidate queued with attempt + 1, the release stays
 * RELEASED with the reason recorded), 'rollback' (the parent rolls back), and a month of hourly windows with drift
 * checks whose per-run history stays bounded.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { temporal } from '@temporalio/proto';
import type { ObserveDriftInput } from '../../src/activities';
import {
  ErrorType,
  type ChainEntry,
  type DriftMeasurement,
  type DriftPolicy,
  type ReleaseRequest,
} from '../../src/domain';
import { releaseStatusQuery } from '../../src/domain/messages';
import type { MonitoringResult, MonitoringStatus } from '../../src/workflows';
import { BASELINE, fakeActivities as sharedFakes, signOff, type FakeActivities } from '../support/fake-activities';
import { validRequest } from '../support/fixtures';
import { ref, startTimeSkippingEnv, withWorker } from '../support/time-skipping';

let env: TestWorkflowEnvironment;

before(async () => {
  env = await startTimeSkippingEnv();
});
after(async () => {
  await env?.teardown();
});

/** A window's drift measurement: x7 moved (PSI 1.5, KS p 1e-30) when `drifting`, else nothing. */
function driftMeasurement(input: ObserveDriftInput, drifting: boolean): DriftMeasurement {
  const current = { interval: input.step, labelled: 1000, positives: 100, truePositives: 90, scoreSum: 100 };
  const pooled = [...input.recent, current];
  const sum = (k: 'labelled' | 'positives' | 'truePositives' | 'scoreSum') => pooled.reduce((s, w) => s + w[k], 0);
  return {
    window: `monitoring interval ${input.step + 1}`,
    interval: input.step,
    cases: 1000,
    reference: { dataset: 'eval', sha256: 'e'.repeat(64), rows: 3000 },
    data: {
      features: [
        { feature: 'x0', kind: 'numeric', psi: 0.01, test: 'ks', statistic: 0.02, pValue: 0.6 },
        {
          feature: 'x7',
          kind: 'numeric',
          psi: drifting ? 1.5 : 0.01,
          test: 'ks',
          statistic: drifting ? 0.5 : 0.02,
          pValue: drifting ? 1e-30 : 0.7,
        },
        { feature: 'site', kind: 'categorical', psi: 0.002, test: 'chi-square', statistic: 1, pValue: 0.8, df: 3 },
      ],
      notCompared: [],
    },
    performance: {
      current,
      windows: pooled.map((w) => w.interval),
      labelled: sum('labelled'),
      positives: sum('positives'),
      truePositives: sum('truePositives'),
      sensitivity: sum('truePositives') / sum('positives'),
      calibrationInTheLarge: sum('positives') / sum('labelled') - sum('scoreSum') / sum('labelled'),
      baseline: { sensitivity: 0.9, calibrationInTheLarge: 0 },
    },
    workflow: { alertRate: 0.2, baselineAlertRate: 0.2, alertRateRatio: 1, overrideRate: null },
  };
}

/** The shared fakes; drift shows in the monitoring windows `drifting` names. */
function fakeActivities(drifting: (step: number) => boolean, overrides: Partial<FakeActivities> = {}) {
  const f = sharedFakes({ drift: (input) => driftMeasurement(input, drifting(input.step)), overrides });
  return { ...f, notices: f.revalidationNotices, requests: f.revalidationRequests };
}

const run = <T>(acts: FakeActivities, fn: (taskQueue: string) => Promise<T>): Promise<T> => withWorker(env, acts, fn);

function request(
  onDrift: DriftPolicy['onDrift'],
  patch: (r: ReleaseRequest) => void = () => undefined,
): ReleaseRequest {
  const r = validRequest();
  r.policy.monitoring.drift = {
    maxPsi: 0.25,
    ksAlpha: 0.01,
    maxAlertRateRatio: 1.25,
    windowsForPerformance: 3,
    maxSensitivityDrop: 0.05,
    maxCalibrationGap: 0.05,
    minPositives: 30,
    onDrift,
  };
  patch(r);
  return r;
}

/** The whole lifecycle, signed off, to its end. */
async function release(acts: FakeActivities, r: ReleaseRequest, id: string) {
  return run(acts, async (taskQueue) => {
    const handle = await env.client.workflow.start('releaseLifecycle', {
      taskQueue,
      workflowId: `${id}-${Date.now()}`,
      args: [r],
    });
    await signOff(handle);
    const result = await handle.result();
    return { result, status: await handle.query(releaseStatusQuery) };
  });
}

const monitoringEntries = (chain: ChainEntry[]) => chain.filter((e) => e.stage === 'MONITORING' && e.step !== null);
const isDriftEntry = (e: ChainEntry) => /^(no drift|drift detected|no drift check)/.test(e.decision.reasons[0] ?? '');

describe('monitoring drift: notify', () => {
  it('notifies once per drift episode, keeps watching across continue-as-new, and reports drift in the status', async () => {
    const { acts, chain, observed, notices, requests } = fakeActivities((s) => s === 2 || s === 3 || s === 6);
    const r = request('notify', (q) => {
      q.policy.monitoring.intervals = 8;
      q.policy.monitoring.intervalsPerRun = 3;
    });
    const workflowId = `drift-notify-${Date.now()}`;
    const { result, status } = await run(acts, async (taskQueue) => {
      const handle = await env.client.workflow.start('releaseMonitoring', {
        taskQueue,
        workflowId,
        args: [{ releaseId: 'r', request: r, baseline: BASELINE, chainHead: null, nextInterval: 0 }],
      });
      const result: MonitoringResult = await handle.result();
      return { result, status: await handle.query<MonitoringStatus>('monitoringStatus') };
    });
    assert.equal(result.decision.verdict, 'pass');
    assert.match(
      result.decision.reasons[0]!,
      /8 of 8 windows judged; drift detected in 3 windows, 2 revalidation notices\)$/,
    );
    assert.equal(result.revalidation, undefined);

    // Two entries per window: the guardrails' verdict, then drift's; the chain stays one sequence.
    assert.equal(chain.length, 16);
    assert.ok(chain.every((e, i) => e.seq === i && e.step === Math.floor(i / 2)));
    assert.deepEqual(chain.map((e) => (isDriftEntry(e) ? 'D' : 'G')).join(''), 'GD'.repeat(8));
    assert.deepEqual(
      chain.filter(isDriftEntry).map((e) => e.decision.verdict),
      ['pass', 'pass', 'fail', 'fail', 'pass', 'pass', 'fail', 'pass'],
    );
    assert.match(
      chain[5]!.decision.reasons[0]!,
      /^drift detected in monitoring interval 3: revalidation required \(policy onDrift: notify/,
    );

    // One notice at the start of each episode (windows 3 and 7), listed by that window's drift entry; no new release.
    assert.deepEqual(
      notices.map((n) => n.interval),
      [2, 6],
    );
    assert.ok(notices.every((n) => n.onDrift === 'notify' && n.drift.sha256 === ref(1000 + n.interval).sha256));
    assert.deepEqual(
      chain[5]!.artifacts.map((a) => a.sha256),
      [ref(1002).sha256, ref(2002).sha256],
    );
    assert.deepEqual(
      chain[7]!.artifacts.map((a) => a.sha256),
      [ref(1003).sha256],
      'no second notice within the episode',
    );
    assert.equal(requests.length, 0);

    // Performance is pooled over the latest windows, carried across continue-as-new (runs of 3 windows).
    assert.deepEqual(
      observed.map((o) => o.recent.map((w) => w.interval).join(',')),
      ['', '0', '0,1', '1,2', '2,3', '3,4', '4,5', '5,6'],
    );

    assert.deepEqual(status.drift, {
      onDrift: 'notify',
      last: chain[15]!.decision,
      detectedWindows: 3,
      episodeSince: null,
      notices: 2,
      revalidation: null,
    });
  });

  it('a notice that cannot be delivered is logged; the drift is still on record and surveillance continues', async () => {
    const { acts, chain } = fakeActivities((s) => s === 1, {
      notifyRevalidation: async () => {
        throw ApplicationFailure.nonRetryable('notification webhook answered 403', 'VigilNotifyRefused');
      },
    });
    const r = request('notify', (q) => (q.policy.monitoring.intervals = 3));
    const result: MonitoringResult = await run(acts, (taskQueue) =>
      env.client.workflow.execute('releaseMonitoring', {
        taskQueue,
        workflowId: `drift-dead-hook-${Date.now()}`,
        args: [{ releaseId: 'r', request: r, baseline: BASELINE, chainHead: null, nextInterval: 0 }],
      }),
    );
    assert.equal(result.decision.verdict, 'pass');
    assert.equal(chain.length, 6);
    assert.equal(chain[3]!.decision.verdict, 'fail');
    assert.deepEqual(
      chain[3]!.artifacts.map((a) => a.sha256),
      [ref(1001).sha256],
    );
  });
});

describe('monitoring drift: revalidate', () => {
  it('queues the same candidate with attempt + 1, ends surveillance, and the release stays RELEASED with the reason on record', async () => {
    const { acts, chain, observed, notices, requests, live, rollbacks, routes } = fakeActivities((s) => s === 1);
    const r = request('revalidate', (q) => (q.policy.monitoring.intervals = 4));
    const { result, status } = await release(acts, r, 'drift-revalidate');
    assert.equal(result.outcome, 'RELEASED', result.reason);
    assert.equal(
      result.reason,
      `released after 2 canary steps; revalidation required: drift detected in monitoring interval 2; new release sepsis-alert-next-2 (attempt 2) queued`,
    );
    assert.equal(status.reason, result.reason);

    assert.equal(requests.length, 1);
    const q = requests[0]!;
    assert.equal(q.attempt, r.attempt + 1);
    assert.equal(q.request.candidate.artifact.sha256, r.candidate.artifact.sha256);
    assert.equal(q.interval, 1);
    assert.equal(q.releaseId, result.releaseId);
    assert.equal(notices.length, 1);
    assert.equal(notices[0]!.onDrift, 'revalidate');

    // Surveillance ended with the drifting window; patients stay on the candidate.
    assert.deepEqual(live, [0, 1]);
    assert.deepEqual(
      observed.map((o) => o.step),
      [0, 1],
    );
    assert.equal(rollbacks.length, 0);
    assert.deepEqual(routes.at(-1), { version: routes.length, production: r.candidate.version, canary: null });

    const windows = monitoringEntries(chain);
    assert.equal(windows.length, 4);
    const driftEntry = windows[3]!;
    assert.equal(driftEntry.decision.verdict, 'fail');
    assert.deepEqual(
      driftEntry.artifacts.map((a) => a.sha256),
      [ref(1001).sha256, ref(2001).sha256, ref(3001).sha256],
    );
    const final = chain.find((e) => e.stage === 'MONITORING' && e.step === null)!;
    assert.equal(final.decision.verdict, 'pass');
    assert.match(
      final.decision.reasons[0]!,
      /^revalidation required: drift detected in monitoring interval 2; new release sepsis-alert-next-2 \(attempt 2\) queued; the release stays in service$/,
    );
    assert.equal(final.decision.reasons[1], 'surveillance ended after 2 of 4 windows, 2 judged by the guardrails');
    assert.equal(chain.at(-1)!.stage, 'RELEASED');
  });

  it('when the queue refuses, the release still stays in service and the reason says the new release was not queued', async () => {
    const { acts } = fakeActivities((s) => s === 0, {
      requestRevalidation: async () => {
        throw ApplicationFailure.nonRetryable(
          'this worker has no Temporal client: a revalidation release cannot be queued here',
          ErrorType.NotConfigured,
        );
      },
    });
    const { result } = await release(
      acts,
      request('revalidate', (q) => (q.policy.monitoring.intervals = 4)),
      'drift-no-queue',
    );
    assert.equal(result.outcome, 'RELEASED');
    assert.match(
      result.reason,
      /revalidation required: drift detected in monitoring interval 1; the new release \(attempt 2\) could not be queued: this worker has no Temporal client/,
    );
  });
});

describe('monitoring drift: rollback', () => {
  it('fails the window like a guardrail: the parent rolls back to the incumbent and records why', async () => {
    const { acts, chain, notices, requests, rollbacks, routes, live } = fakeActivities((s) => s === 1);
    const r = request('rollback', (q) => (q.policy.monitoring.intervals = 4));
    const { result } = await release(acts, r, 'drift-rollback');
    assert.equal(result.outcome, 'ROLLED_BACK');
    assert.match(
      result.reason,
      /^MONITORING interval 2: drift detected in monitoring interval 2: the window fails \(policy onDrift: rollback\); data drift in x7: PSI 1\.5000 > 0\.25/,
    );
    assert.deepEqual(live, [0, 1]);
    assert.equal(rollbacks.length, 1);
    assert.equal(rollbacks[0]!.stage, 'MONITORING');
    assert.equal(rollbacks[0]!.trigger!.verdict, 'fail');
    assert.deepEqual(
      { production: routes.at(-1)!.production, canary: routes.at(-1)!.canary },
      { production: r.incumbent.version, canary: null },
    );
    assert.deepEqual([notices.length, requests.length], [0, 0]);
    assert.equal(chain.at(-1)!.stage, 'ROLLED_BACK');
  });
});

describe('monitoring drift: a month of hourly windows', () => {
  it('checks drift every window with continue-as-new keeping each run bounded', async () => {
    const { acts, chain, notices, observed } = fakeActivities((s) => s >= 100 && s < 110);
    const r = request('notify', (q) => {
      q.policy.monitoring.intervals = 30 * 24;
      q.policy.monitoring.intervalSeconds = 3600;
      q.policy.monitoring.intervalsPerRun = 48;
    });
    const workflowId = `drift-month-${Date.now()}`;
    let firstRunId = '';
    const result: MonitoringResult = await run(acts, async (taskQueue) => {
      const handle = await env.client.workflow.start('releaseMonitoring', {
        taskQueue,
        workflowId,
        args: [
          {
            releaseId: 'r',
            request: r,
            baseline: BASELINE,
            chainHead: { seq: 6, digest: 'd'.repeat(64) },
            nextInterval: 0,
          },
        ],
      });
      firstRunId = handle.firstExecutionRunId;
      return handle.result();
    });
    assert.equal(result.decision.verdict, 'pass');
    assert.equal(result.lastInterval, 719);
    assert.equal(chain.length, 1440);
    assert.equal(chain.filter((e) => isDriftEntry(e) && e.decision.verdict === 'fail').length, 10);
    assert.deepEqual(
      notices.map((n) => n.interval),
      [100],
    );
    assert.ok(
      observed.every((o) => o.recent.length <= 2),
      'the carried performance window stays bounded',
    );

    const runs: number[] = [];
    for (let runId: string | undefined = firstRunId; runId;) {
      const history = await env.client.workflow.getHandle(workflowId, runId).fetchHistory();
      const events: temporal.api.history.v1.IHistoryEvent[] = history.events ?? [];
      runs.push(events.length);
      runId = events[events.length - 1]!.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
    }
    assert.equal(runs.length, 15);
    // ~17 events per window for the guardrails plus 12 for drift (activity, chain entry, workflow tasks): ~1405 per run.
    assert.ok(Math.max(...runs) <= 48 * 30, `largest run history: ${Math.max(...runs)} events`);
    assert.ok(
      runs.slice(0, -1).every((n) => Math.abs(n - runs[0]!) <= 10),
      `run sizes must not grow: ${runs.join(', ')}`,
    );
  });
});
