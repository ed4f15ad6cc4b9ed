/**
 * The gateway's shadow route during SHADOW (`patched('shadow-route')`), on the time-skipping test server with
 * the shared fake activities: set before the shadow window with production unchanged, removed once the measurement
 * is taken — also when the gate rejects, when the measurement fails and when the release is superseded mid-window
 * — with both route changes listed as evidence by the chain entry that closes the stage, and the status showing the
 * mirror while it is on.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { VigilActivities } from '../../src/activities';
import { ErrorType, type ReleaseRequest, type ReleaseStatus } from '../../src/domain';
import { approveReleaseUpdate, releaseStatusQuery, supersedeReleaseUpdate } from '../../src/domain/messages';
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

const SHADOW_RECORD = REFS.shadow;
const routeRef = REFS.route;

/** The shared fakes, and every activity call this story is about in order (`setRoutes` with the table it wrote). */
function fakes(shadow: { agreement?: number; fail?: ApplicationFailure; sampled?: number } = {}) {
  const calls: string[] = [];
  const f = fakeActivities({ shadow });
  const acts: VigilActivities = {
    ...f.acts,
    observeShadow: (input) => (calls.push('observeShadow'), f.acts.observeShadow(input)),
    setRoutes: (input) => {
      const shadow = input.routes.shadow === undefined ? 'absent' : input.routes.shadow === null ? 'off' : 'on';
      calls.push(`setRoutes(v${input.routes.version} shadow ${shadow})`);
      return f.acts.setRoutes(input);
    },
    appendChainEntry: (entry) => (calls.push(`chain ${entry.stage}`), f.acts.appendChainEntry(entry)),
  };
  return { acts, calls, routes: f.routeChanges, chain: f.chain };
}

const run = <T>(acts: VigilActivities, fn: (taskQueue: string) => Promise<T>): Promise<T> => withWorker(env, acts, fn);

function request(patch: (r: ReleaseRequest) => void = () => undefined): ReleaseRequest {
  const r = validRequest();
  r.policy.shadow.durationSeconds = 6 * 3600;
  patch(r);
  return r;
}

async function until(handle: WorkflowHandle, what: string, ok: (s: ReleaseStatus) => boolean): Promise<ReleaseStatus> {
  for (let i = 0; i < 300; i++) {
    const s = await handle.query(releaseStatusQuery).catch(() => null);
    if (s && ok(s)) return s;
    if (s?.outcome) assert.fail(`ended before ${what}: ${s.outcome} ${s.reason}`);
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error(`never reached ${what}`);
}

describe('shadow route during SHADOW (time skipping)', () => {
  it('mirrors production to the candidate for the window, removes the mirror after measuring, and a rejected release leaves none', async () => {
    const { acts, calls, routes, chain } = fakes();
    const r = request();
    const { result, during, status, found } = await run(acts, async (taskQueue) => {
      const handle = await env.client.workflow.start('releaseLifecycle', {
        taskQueue,
        workflowId: `shadow-route-${Date.now()}`,
        args: [r],
      });
      // The status shows the mirror while the shadow window runs (time does not skip while nobody awaits the result).
      const during = await until(handle, 'the shadow window', (s) => s.stage === 'SHADOW' && s.routes !== null);
      await env.sleep('7 hours');
      const waiting = await until(
        handle,
        'AWAITING_APPROVAL',
        (s) => s.stage === 'AWAITING_APPROVAL' && s.dossier !== null,
      );
      await handle.executeUpdate(approveReleaseUpdate, {
        args: [
          {
            signer: 'sam.clin',
            printedName: 'Sam',
            role: 'clinical',
            decision: 'reject',
            meaning: 'rejected as clinical reviewer',
            reason: 'not yet',
            dossierSha256: waiting.dossier!.sha256,
          },
        ],
      });
      const result = await handle.result();
      return { result, during, status: await handle.query(releaseStatusQuery), found: await markers(handle) };
    });
    assert.equal(result.outcome, 'REJECTED', result.reason);
    assert.deepEqual(during.routes, {
      version: 1,
      production: r.incumbent.version,
      canary: null,
      shadow: { model: r.candidate.version, percent: 100 },
    });

    // Set before the window, removed right after the measurement and before the SHADOW decision is chained.
    assert.deepEqual(calls, [
      'chain SNAPSHOT',
      'chain OFFLINE_EVAL',
      'setRoutes(v1 shadow on)',
      'observeShadow',
      'setRoutes(v2 shadow off)',
      'chain SHADOW',
      'chain AWAITING_APPROVAL',
      'chain REJECTED',
    ]);
    assert.deepEqual(
      routes.map((x) => x.routes),
      [
        {
          version: 1,
          production: r.incumbent.version,
          canary: null,
          shadow: { model: r.candidate.version, percent: 100 },
        },
        { version: 2, production: r.incumbent.version, canary: null, shadow: null },
      ],
    );
    assert.match(routes[0]!.reason, /^SHADOW: every production request \(2\.0\.0\) mirrored to the candidate 2\.1\.0/);
    assert.equal(routes[1]!.reason, 'SHADOW measured: shadow mirror to 2.1.0 removed');
    assert.deepEqual(
      status.routes,
      { version: 2, production: r.incumbent.version, canary: null, shadow: null },
      'the rejected release left no mirror and never served the candidate',
    );

    // The SHADOW entry lists the measurement, then both route changes.
    const shadow = chain.find((e) => e.stage === 'SHADOW')!;
    assert.equal(shadow.decision.verdict, 'pass');
    assert.deepEqual(
      shadow.artifacts.map((a) => a.sha256),
      [SHADOW_RECORD.sha256, routeRef(1).sha256, routeRef(2).sha256],
    );
    assert.ok(
      found.some((d) => d.includes('shadow-route')),
      `patch marker recorded: ${found.join(', ')}`,
    );
  });

  it('a SHADOW gate that rejects still removes the mirror first', async () => {
    const { acts, calls, routes, chain } = fakes({ agreement: 0.5 });
    const result = await run(acts, (taskQueue) =>
      env.client.workflow.execute('releaseLifecycle', {
        taskQueue,
        workflowId: `shadow-route-reject-${Date.now()}`,
        args: [request()],
      }),
    );
    assert.equal(result.outcome, 'REJECTED');
    assert.match(result.reason, /^SHADOW: agreement with production 0\.5000 is below the minimum 0\.8/);
    assert.deepEqual(calls, [
      'chain SNAPSHOT',
      'chain OFFLINE_EVAL',
      'setRoutes(v1 shadow on)',
      'observeShadow',
      'setRoutes(v2 shadow off)',
      'chain SHADOW',
      'chain REJECTED',
    ]);
    assert.equal(routes[routes.length - 1]!.routes.shadow, null);
    assert.deepEqual(
      chain.find((e) => e.stage === 'SHADOW')!.artifacts.map((a) => a.sha256),
      [SHADOW_RECORD.sha256, routeRef(1).sha256, routeRef(2).sha256],
    );
  });

  it('a failed measurement removes the mirror, and the release ends REJECTED with the cause (stage-failure-outcome)', async () => {
    const fail = ApplicationFailure.nonRetryable('model 2.1.0 is a prediction file', ErrorType.InvalidArtifact);
    const { acts, calls, routes, chain } = fakes({ fail });
    const result = await run(acts, (taskQueue) =>
      env.client.workflow.execute('releaseLifecycle', {
        taskQueue,
        workflowId: `shadow-route-fail-${Date.now()}`,
        args: [request()],
      }),
    );
    assert.equal(result.outcome, 'REJECTED');
    assert.deepEqual(calls, [
      'chain SNAPSHOT',
      'chain OFFLINE_EVAL',
      'setRoutes(v1 shadow on)',
      'observeShadow',
      'setRoutes(v2 shadow off)',
      'chain SHADOW',
      'chain REJECTED',
    ]);
    assert.deepEqual(routes[1], {
      routes: { version: 2, production: '2.0.0', canary: null, shadow: null },
      reason: 'SHADOW stopped (the shadow measurement failed): shadow mirror to 2.1.0 removed',
    });
    // The failed stage's entry lists both route changes.
    assert.deepEqual(
      chain.find((e) => e.stage === 'SHADOW')!.artifacts.map((a) => a.sha256),
      [routeRef(1).sha256, routeRef(2).sha256],
    );
  });

  it('a supersede mid-window removes the mirror, and the SUPERSEDED entry lists both route changes', async () => {
    const { acts, calls, routes, chain } = fakes();
    const result = await run(acts, async (taskQueue) => {
      const handle = await env.client.workflow.start('releaseLifecycle', {
        taskQueue,
        workflowId: `shadow-route-supersede-${Date.now()}`,
        args: [request()],
      });
      await until(handle, 'the shadow window', (s) => s.stage === 'SHADOW' && s.routes?.shadow != null);
      const out = await handle.executeUpdate(supersedeReleaseUpdate, {
        args: [{ supersededBy: 'sepsis-alert-newer', reason: 'retrained' }],
      });
      assert.equal(out.outcome, 'SUPERSEDED');
      return handle.result();
    });
    assert.equal(result.outcome, 'SUPERSEDED');
    assert.deepEqual(
      calls,
      [
        'chain SNAPSHOT',
        'chain OFFLINE_EVAL',
        'setRoutes(v1 shadow on)',
        'setRoutes(v2 shadow off)',
        'chain SUPERSEDED',
      ],
      'never measured',
    );
    assert.equal(routes[1]!.reason, 'SHADOW stopped (the release was superseded): shadow mirror to 2.1.0 removed');
    const last = chain[chain.length - 1]!;
    assert.equal(last.stage, 'SUPERSEDED');
    assert.deepEqual(
      last.artifacts.slice(0, 2).map((a) => a.sha256),
      [routeRef(1).sha256, routeRef(2).sha256],
    );
  });
  it('a supersede while reviewers adjudicate (mirror already removed) still chains both route changes, in the SUPERSEDED entry', async () => {
    const { acts, calls, chain } = fakes({ sampled: 3 });
    const r = request(
      (x) =>
        (x.policy.shadow.adjudication = {
          sampleSize: 3,
          minAdjudicated: 2,
          maxCandidateWrongShare: 0.5,
          timeoutSeconds: 48 * 3600,
        }),
    );
    const result = await run(acts, async (taskQueue) => {
      const handle = await env.client.workflow.start('releaseLifecycle', {
        taskQueue,
        workflowId: `shadow-route-adj-${Date.now()}`,
        args: [r],
      });
      await env.sleep('7 hours');
      const open = await until(handle, 'the adjudication window', (s) => s.shadowAdjudication?.open === true);
      assert.equal(open.routes?.shadow, null, 'the mirror is off while people adjudicate');
      await handle.executeUpdate(supersedeReleaseUpdate, {
        args: [{ supersededBy: 'sepsis-alert-newer', reason: 'retrained' }],
      });
      return handle.result();
    });
    assert.equal(result.outcome, 'SUPERSEDED');
    assert.deepEqual(calls, [
      'chain SNAPSHOT',
      'chain OFFLINE_EVAL',
      'setRoutes(v1 shadow on)',
      'observeShadow',
      'setRoutes(v2 shadow off)',
      'chain SUPERSEDED',
    ]);
    assert.deepEqual(
      chain[chain.length - 1]!.artifacts.slice(0, 2).map((a) => a.sha256),
      [routeRef(1).sha256, routeRef(2).sha256],
    );
  });
});
