/**
 * MONITORING per clinical cohort in the workflow (time skipping, shared fakes): a window whose measurement carries
 * per-cohort arms is judged per cohort (patched('monitoring-cohorts')); a site whose sensitivity collapsed after
 * release rolls the release back with the site named, while the whole release's window would have passed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { LiveMeasurement } from '../../src/domain';
import { BASELINE, fakeActivities, signOff } from '../support/fake-activities';
import { validRequest } from '../support/fixtures';
import { arm, startTimeSkippingEnv, withWorker } from '../support/time-skipping';

let env: TestWorkflowEnvironment;
before(async () => {
  env = await startTimeSkippingEnv();
});
after(async () => {
  await env?.teardown();
});

const VALIDATED = arm(180, 135, 750, 270);

/** Monitoring window `step`: two sites; site B's sensitivity is 0 from `brokenFrom` on. */
function window(step: number, brokenFrom: number): LiveMeasurement {
  return {
    window: `monitoring interval ${step + 1}`,
    treatment: BASELINE,
    comparator: BASELINE,
    cohorts: {
      'site=site-a': { treatment: arm(60, 45, 250, 90), comparator: VALIDATED },
      'site=site-b': {
        treatment: step >= brokenFrom ? arm(60, 0, 250, 20) : arm(60, 44, 250, 88),
        comparator: VALIDATED,
      },
    },
  };
}

describe('monitoring per cohort', () => {
  it('rolls back naming the site whose sensitivity collapsed in interval 2; interval 1 records every site', async () => {
    const f = fakeActivities({
      live: (mode, step) =>
        mode === 'monitoring' ? window(step, 1) : { window: 'w', treatment: BASELINE, comparator: BASELINE },
    });
    const r = validRequest();
    const result = await withWorker(env, f.acts, async (taskQueue) => {
      const handle = await env.client.workflow.start('releaseLifecycle', {
        taskQueue,
        workflowId: `monitoring-cohorts-${Date.now()}`,
        args: [r],
      });
      await signOff(handle);
      return handle.result();
    });
    assert.equal(result.outcome, 'ROLLED_BACK');
    assert.match(result.reason, /^MONITORING interval 2: site=site-b: performance drift: sensitivity upper bound/);
    const windows = f.chain.filter((e) => e.stage === 'MONITORING' && e.step !== null);
    assert.equal(windows[0]!.decision.verdict, 'pass');
    assert.match(windows[0]!.decision.reasons[0]!, /cohorts: site=site-a within limits, site=site-b within limits$/);
    assert.equal(f.rollbacks.length, 1);
    assert.equal(f.rollbacks[0]!.stage, 'MONITORING');
  });
});
