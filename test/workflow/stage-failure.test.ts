/**
 * A release that cannot proceed ends with an explicit outcome (`patched('stage-failure-outcome')`), on the
 * time-skipping test server with the shared fake activities: a typed, non-retryable activity failure (a model
 * missing a feature the traffic carries, an unreadable artifact) ends the release REJECTED at its stage, with a chain
 * entry naming the cause, instead of a failed workflow whose status still shows the stage. A retryable failure is
 * still retried; and a release whose declared incumbent production does not serve is refused at SNAPSHOT.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { ErrorType, type ReleaseRequest } from '../../src/domain';
import { releaseStatusQuery } from '../../src/domain/messages';
import { fakeActivities, markers, REFS } from '../support/fake-activities';
import { validRequest } from '../support/fixtures';
import { startTimeSkippingEnv, withWorker } from '../support/time-skipping';

let env: TestWorkflowEnvironment;
before(async () => {
  env = await startTimeSkippingEnv();
});
after(async () => {
  await env?.teardown();
});

const MISSING =
  'model 2.1.0 on live cases: the model reads feature "mean_radius", which the input does not carry (it has x0, x1, x2)';

function request(): ReleaseRequest {
  const r = validRequest();
  r.policy.shadow.durationSeconds = 30;
  return r;
}

describe('a stage that cannot proceed (time skipping)', () => {
  it('a model missing a feature ends the release REJECTED at SHADOW, the chain entry and status naming the feature', async () => {
    const f = fakeActivities({
      shadow: { fail: ApplicationFailure.nonRetryable(MISSING, ErrorType.InvalidArtifact) },
    });
    const { result, status, marks } = await withWorker(env, f.acts, async (taskQueue) => {
      const handle = await env.client.workflow.start('releaseLifecycle', {
        taskQueue,
        workflowId: `stage-failure-shadow-${Date.now()}`,
        args: [request()],
      });
      const result = await handle.result();
      return { result, status: await handle.query(releaseStatusQuery), marks: await markers(handle) };
    });
    const cause = `cannot proceed: VigilInvalidArtifact: ${MISSING}`;
    assert.equal(result.outcome, 'REJECTED');
    assert.equal(result.reason, `SHADOW: ${cause}`);
    assert.deepEqual(
      f.chain.map((e) => [e.stage, e.decision.verdict]),
      [
        ['SNAPSHOT', 'pass'],
        ['OFFLINE_EVAL', 'pass'],
        ['SHADOW', 'fail'],
        ['REJECTED', 'fail'],
      ],
    );
    const shadowEntry = f.chain.find((e) => e.stage === 'SHADOW')!;
    assert.deepEqual(shadowEntry.decision.reasons, [cause]);
    // The shadow route was set and removed; both changes are evidence of the failed stage.
    assert.deepEqual(shadowEntry.artifacts, [REFS.route(1), REFS.route(2)]);
    assert.equal(f.routes.at(-1)!.shadow, null);
    assert.equal(status.stage, 'REJECTED');
    assert.equal(status.outcome, 'REJECTED');
    assert.match(status.reason ?? '', /mean_radius/);
    assert.ok(
      marks.some((m) => m.includes('"stage-failure-outcome"')),
      marks.join(', '),
    );
  });

  it('an unreadable artifact at OFFLINE_EVAL ends the release REJECTED there, before any route changes', async () => {
    const f = fakeActivities({
      overrides: {
        async evaluateOffline() {
          throw ApplicationFailure.nonRetryable(
            'model 2.1.0 (onnx, sha256/ab…): not an ONNX model: protobuf parse error',
            ErrorType.InvalidArtifact,
          );
        },
      },
    });
    const result = await withWorker(env, f.acts, (taskQueue) =>
      env.client.workflow.execute('releaseLifecycle', {
        taskQueue,
        workflowId: `stage-failure-offline-${Date.now()}`,
        args: [request()],
      }),
    );
    assert.equal(result.outcome, 'REJECTED');
    assert.match(
      result.reason,
      /^OFFLINE_EVAL: cannot proceed: VigilInvalidArtifact: model 2\.1\.0 .*not an ONNX model/,
    );
    assert.deepEqual(
      f.chain.map((e) => e.stage),
      ['SNAPSHOT', 'OFFLINE_EVAL', 'REJECTED'],
    );
    assert.equal(f.routes.length, 0);
  });

  it('a retryable failure is retried, not turned into an outcome', async () => {
    let attempts = 0;
    const f = fakeActivities();
    const acts = {
      ...f.acts,
      observeShadow: async (input: Parameters<typeof f.acts.observeShadow>[0]) => {
        if (++attempts < 3) throw new Error('evidence store unreachable');
        return f.acts.observeShadow(input);
      },
    };
    // Awaiting the result lets time skip over the retry back-off and the shadow window; nobody signs, so it expires.
    const { result, status } = await withWorker(env, acts, async (taskQueue) => {
      const handle = await env.client.workflow.start('releaseLifecycle', {
        taskQueue,
        workflowId: `stage-failure-retry-${Date.now()}`,
        args: [request()],
      });
      return { result: await handle.result(), status: await handle.query(releaseStatusQuery) };
    });
    assert.equal(attempts, 3);
    assert.equal(result.outcome, 'EXPIRED');
    assert.equal(status.history.find((h) => h.stage === 'SHADOW')?.decision?.verdict, 'pass');
  });

  it('a declared incumbent that production does not serve is refused at SNAPSHOT, naming both versions', async () => {
    const f = fakeActivities({
      overrides: {
        async snapshotRelease() {
          return {
            measurement: {
              policySha256: 'a'.repeat(64),
              missingFields: [],
              digestMismatches: [],
              production: { declared: '2.0.0', serving: '2.1.0-rc' },
            },
            artifacts: [REFS.archive],
          };
        },
      },
    });
    const result = await withWorker(env, f.acts, (taskQueue) =>
      env.client.workflow.execute('releaseLifecycle', {
        taskQueue,
        workflowId: `stage-failure-incumbent-${Date.now()}`,
        args: [request()],
      }),
    );
    assert.equal(result.outcome, 'REJECTED');
    assert.equal(
      result.reason,
      'SNAPSHOT: declared incumbent 2.0.0, but production serves 2.1.0-rc: a release must replace the version production serves',
    );
    assert.deepEqual(
      f.chain.map((e) => e.stage),
      ['SNAPSHOT', 'REJECTED'],
    );
  });
});
