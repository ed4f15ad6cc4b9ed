/**
 * Issue #19 item 5 on the time-skipping server (`patched('policy-as-written')`): a release whose input carries the
 * policy as written hands it to every activity that takes the request (SNAPSHOT pins its digest, OFFLINE_EVAL
 * checks against it) and records the marker; an input without it (started by an API or worker before the change)
 * records no marker and gives no activity a written document, so the effective policy stays the pinned form.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { VigilActivities } from '../../src/activities';
import { ReleaseRequestSchema, type ReleaseRequest } from '../../src/domain';
import { fakeActivities, markers, signOff } from '../support/fake-activities';
import { validPolicy, validReleaseRequest, validRequest } from '../support/fixtures';
import { startTimeSkippingEnv, withWorker } from '../support/time-skipping';

let env: TestWorkflowEnvironment;
before(async () => {
  env = await startTimeSkippingEnv();
});
after(async () => {
  await env?.teardown();
});

/** Run one release to its end; the request each activity received, by activity name. */
async function release(r: ReleaseRequest, id: string) {
  const f = fakeActivities();
  const seen: Array<[string, ReleaseRequest]> = [];
  const acts = Object.fromEntries(
    Object.entries(f.acts).map(([name, fn]) => [
      name,
      async (input: { request?: ReleaseRequest }) => {
        if (input && typeof input === 'object' && input.request) seen.push([name, input.request]);
        return (fn as (i: unknown) => unknown)(input);
      },
    ]),
  ) as unknown as VigilActivities;
  return withWorker(env, acts, async (taskQueue) => {
    const handle = await env.client.workflow.start('releaseLifecycle', {
      taskQueue,
      workflowId: `${id}-${Date.now()}`,
      args: [r],
    });
    await signOff(handle);
    const result = await handle.result();
    return { result, seen, markers: await markers(handle) };
  });
}

describe('policy as written (time skipping)', () => {
  it('a request carrying the written policy gives it to every activity and records the marker', async () => {
    const r = ReleaseRequestSchema.parse(validReleaseRequest());
    assert.deepEqual(r.policyAsWritten, validPolicy());
    const d = await release(r, 'as-written');
    assert.equal(d.result.outcome, 'RELEASED');
    assert.ok(
      d.markers.some((m) => m.includes('policy-as-written')),
      d.markers.join(', '),
    );
    const names = new Set(d.seen.map(([n]) => n));
    assert.ok(names.has('snapshotRelease') && names.has('evaluateOffline'), [...names].join(', '));
    for (const [name, request] of d.seen) assert.deepEqual(request.policyAsWritten, validPolicy(), name);
  });

  it('a request without it records no marker and no activity gets a written document', async () => {
    const r = validRequest();
    assert.equal(r.policyAsWritten, undefined);
    const d = await release(r, 'effective');
    assert.equal(d.result.outcome, 'RELEASED');
    assert.ok(!d.markers.some((m) => m.includes('policy-as-written')), d.markers.join(', '));
    assert.ok(d.seen.length > 0);
    for (const [name, request] of d.seen) assert.equal(request.policyAsWritten, undefined, name);
  });
});
