/**
 * The SHADOW gate with clinical adjudication, on the time-skipping test server with the shared fake activities:
 * the gate waits for adjudications, passes or fails on the production-right share, fails on timeout; the
 * adjudicateCase validator's refusals; and runs without the new policy fields record no patch marker.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { VigilActivities } from '../../src/activities';
import {
  ErrorType,
  type AdjudicationInput,
  type ChainEntry,
  type ReleaseRequest,
  type ReleaseStatus,
  type ShadowMeasurement,
} from '../../src/domain';
import { adjudicateCaseUpdate, releaseStatusQuery } from '../../src/domain/messages';
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

const SAMPLE = REFS.sample;

/** The shared fakes: SHADOW has `sampled` disagreements; adjudications and the closing tally are kept. */
function fakes(sampled = 5, shadow: Partial<ShadowMeasurement> = {}) {
  const f = fakeActivities({ shadow: { sampled, measurement: shadow } });
  return { acts: f.acts, chain: f.chain, recorded: f.adjudications, closes: f.closes, routes: f.routes };
}

const run = <T>(acts: VigilActivities, fn: (taskQueue: string) => Promise<T>): Promise<T> => withWorker(env, acts, fn);

const H = 3600;
function request(
  adjudication: Partial<NonNullable<ReleaseRequest['policy']['shadow']['adjudication']>> | null = {},
): ReleaseRequest {
  const r = validRequest();
  r.policy.approval.expirySeconds = 60; // nobody signs in these tests: a reached approval stage expires quickly
  if (adjudication)
    r.policy.shadow.adjudication = {
      sampleSize: 5,
      minAdjudicated: 3,
      maxCandidateWrongShare: 0.34,
      timeoutSeconds: 48 * H,
      ...adjudication,
    };
  return r;
}

const vote = (
  sampleId: string,
  reviewer: string,
  verdict: AdjudicationInput['verdict'],
  role: 'qa' | 'clinical' = 'clinical',
): AdjudicationInput => ({
  sampleId,
  reviewer,
  printedName: reviewer.toUpperCase(),
  role,
  verdict,
  comment: `${verdict} was right`,
});

async function adjudicationOpen(handle: WorkflowHandle): Promise<ReleaseStatus> {
  for (let i = 0; i < 200; i++) {
    const s = await handle.query(releaseStatusQuery);
    if (s.shadowAdjudication?.open) return s;
    assert.equal(s.outcome, null, `ended early: ${s.reason}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('adjudication never opened');
}

async function refusal(p: Promise<unknown>): Promise<{ type: string | undefined; message: string }> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof WorkflowUpdateFailedError, String(e));
    assert.ok(e.cause instanceof ApplicationFailure);
    return { type: e.cause.type ?? undefined, message: e.cause.message };
  }
  assert.fail('the update was accepted');
}

const shadowEntry = (chain: ChainEntry[]) => chain.find((e) => e.stage === 'SHADOW')!;

describe('shadow gate with clinical adjudication (time skipping)', () => {
  it('waits for adjudications (hours pass, nothing moves), then passes on the share and goes on to approval', async () => {
    const { acts, chain, recorded, closes, routes } = fakes();
    const { status, result, found } = await run(acts, async (taskQueue) => {
      const handle = await env.client.workflow.start('releaseLifecycle', {
        taskQueue,
        workflowId: `adj-pass-${Date.now()}`,
        args: [request()],
      });
      const open = await adjudicationOpen(handle);
      // The gateway's shadow mirror is off again once the measurement is taken: reviewers' time needs no mirror.
      assert.deepEqual(
        routes.map((r) => r.shadow?.model ?? null),
        ['2.1.0', null],
      );
      assert.deepEqual(open.routes?.shadow, null);
      assert.deepEqual(
        [
          open.shadowAdjudication!.sampled,
          open.shadowAdjudication!.required,
          open.shadowAdjudication!.adjudicatedCases,
        ],
        [5, 3, 0],
      );
      await env.sleep('24 hours');
      assert.equal((await handle.query(releaseStatusQuery)).stage, 'SHADOW', 'the gate waits for people');
      const first = await handle.executeUpdate(adjudicateCaseUpdate, {
        args: [vote('d-001', 'sam.clin', 'candidate')],
      });
      assert.deepEqual([first.adjudicatedCases, first.required], [1, 3]);
      // A second reviewer on the same case does not add a case.
      await handle.executeUpdate(adjudicateCaseUpdate, { args: [vote('d-001', 'dana.qa', 'production', 'qa')] });
      await handle.executeUpdate(adjudicateCaseUpdate, { args: [vote('d-002', 'sam.clin', 'candidate')] });
      const mid = await handle.query(releaseStatusQuery);
      assert.equal(mid.shadowAdjudication!.adjudicatedCases, 2);
      await handle.executeUpdate(adjudicateCaseUpdate, { args: [vote('d-003', 'sam.clin', 'candidate')] });
      const r = await handle.result();
      return { status: await handle.query(releaseStatusQuery), result: r, found: await markers(handle) };
    });
    assert.equal(result.outcome, 'EXPIRED', result.reason); // passed SHADOW, then nobody signed
    const entry = shadowEntry(chain);
    // d-001 is a tie (unclear), d-002 and d-003 candidate right: production right on 0 of 2 decided.
    assert.deepEqual(entry.decision, {
      verdict: 'pass',
      reasons: [
        'agreement with production 0.9500 on 1000 mirrored cases; production judged right on 0 of 2 adjudicated disagreements (share 0.0000; 1 unclear excluded from the denominator)',
      ],
    });
    assert.deepEqual(closes, [{ adjudications: 4, deadline: status.shadowAdjudication!.deadline }]);
    assert.equal(recorded.length, 4);
    assert.ok(
      entry.artifacts.some((a) => a.sha256 === REFS.adjudication(4).sha256) &&
        entry.artifacts.some((a) => a.sha256 === REFS.shadowSummary.sha256),
      'adjudication records and the summary are in the chain entry',
    );
    // Measurement, sample, the two route changes of the shadow mirror, then the adjudications and the summary.
    assert.deepEqual(
      entry.artifacts.slice(0, 4).map((a) => a.sha256),
      [REFS.shadow.sha256, SAMPLE.sha256, REFS.route(1).sha256, REFS.route(2).sha256],
    );
    assert.deepEqual(status.shadowAdjudication!.tally, {
      sampled: 5,
      adjudicatedCases: 3,
      adjudications: 4,
      candidateRight: 2,
      productionRight: 0,
      unclear: 1,
      deadline: status.shadowAdjudication!.deadline,
    });
    assert.equal(status.shadowAdjudication!.open, false);
    assert.ok(
      !JSON.stringify(status.shadowAdjudication).includes('was right'),
      'comments stay in the evidence, not the status',
    );
    assert.ok(
      found.some((d) => d.includes('shadow-adjudication')),
      `patch marker recorded: ${found.join(', ')}`,
    );
  });

  it('fails the gate when production was right too often, naming the share', async () => {
    const { acts, chain } = fakes();
    const result = await run(acts, async (taskQueue) => {
      const handle = await env.client.workflow.start('releaseLifecycle', {
        taskQueue,
        workflowId: `adj-fail-${Date.now()}`,
        args: [request()],
      });
      await adjudicationOpen(handle);
      await handle.executeUpdate(adjudicateCaseUpdate, { args: [vote('d-001', 'sam.clin', 'production')] });
      await handle.executeUpdate(adjudicateCaseUpdate, { args: [vote('d-002', 'sam.clin', 'production')] });
      await handle.executeUpdate(adjudicateCaseUpdate, { args: [vote('d-004', 'sam.clin', 'candidate')] });
      return handle.result();
    });
    assert.equal(result.outcome, 'REJECTED');
    assert.equal(
      result.reason,
      'SHADOW: production judged right on 2 of 3 adjudicated disagreements (share 0.6667; 0 unclear excluded from the denominator), more than the allowed 0.34',
    );
    assert.deepEqual(
      chain.map((e) => `${e.stage}:${e.decision.verdict}`),
      ['SNAPSHOT:pass', 'OFFLINE_EVAL:pass', 'SHADOW:fail', 'REJECTED:fail'],
    );
  });

  it('times out: too few adjudications by the deadline fails the gate with a reason', async () => {
    const { acts, closes } = fakes();
    const { result, deadline } = await run(acts, async (taskQueue) => {
      const handle = await env.client.workflow.start('releaseLifecycle', {
        taskQueue,
        workflowId: `adj-timeout-${Date.now()}`,
        args: [request()],
      });
      const open = await adjudicationOpen(handle);
      await handle.executeUpdate(adjudicateCaseUpdate, { args: [vote('d-005', 'sam.clin', 'candidate')] });
      return { result: await handle.result(), deadline: open.shadowAdjudication!.deadline };
    });
    assert.equal(result.outcome, 'REJECTED');
    assert.equal(
      result.reason,
      `SHADOW: clinical adjudication timed out: 1 of 3 required disagreement cases adjudicated by ${deadline}`,
    );
    assert.equal(closes[0]!.adjudications, 1);
  });

  it('refuses invalid adjudications in the validator, with typed failures', async () => {
    const { acts, recorded } = fakes();
    await run(acts, async (taskQueue) => {
      const handle = await env.client.workflow.start('releaseLifecycle', {
        taskQueue,
        workflowId: `adj-refuse-${Date.now()}`,
        args: [request({ minAdjudicated: 1 })],
      });
      await adjudicationOpen(handle);
      const send = (input: unknown) =>
        refusal(handle.executeUpdate(adjudicateCaseUpdate, { args: [input as AdjudicationInput] }));
      assert.equal((await send(vote('d-006', 'sam.clin', 'candidate'))).type, ErrorType.UnknownSample);
      assert.equal((await send(vote('d-000', 'sam.clin', 'candidate'))).type, ErrorType.UnknownSample);
      assert.equal(
        (await send(vote('d-001', 'dev.alice', 'candidate'))).type,
        ErrorType.SelfApproval,
        'the submitter may not adjudicate',
      );
      assert.equal(
        (await send({ ...vote('d-001', 'sam.clin', 'candidate'), verdict: 'both' })).type,
        ErrorType.InvalidRequest,
      );
      assert.equal(
        (await send({ ...vote('d-001', 'reg.person', 'candidate'), role: 'regulatory' })).type,
        ErrorType.InvalidRequest,
      );
      assert.equal(
        (await send({ ...vote('d-001', 'sam.clin', 'candidate'), comment: '  ' })).type,
        ErrorType.InvalidRequest,
      );
      assert.equal(recorded.length, 0, 'nothing refused was recorded');
      await handle.executeUpdate(adjudicateCaseUpdate, { args: [vote('d-001', 'sam.clin', 'candidate')] });
      // minAdjudicated 1 is reached: the window closes, and the gate moves on.
      const after = await handle.result();
      assert.equal(after.outcome, 'EXPIRED');
    });
    assert.equal(recorded.length, 1);
  });

  it('refuses a second adjudication of a case by the same reviewer, and any adjudication after SHADOW', async () => {
    const { acts } = fakes();
    await run(acts, async (taskQueue) => {
      const r = request({ minAdjudicated: 2 });
      r.policy.approval.expirySeconds = 7 * 24 * H;
      const handle = await env.client.workflow.start('releaseLifecycle', {
        taskQueue,
        workflowId: `adj-dup-${Date.now()}`,
        args: [r],
      });
      await adjudicationOpen(handle);
      await handle.executeUpdate(adjudicateCaseUpdate, { args: [vote('d-001', 'sam.clin', 'candidate')] });
      const dup = await refusal(
        handle.executeUpdate(adjudicateCaseUpdate, { args: [vote('d-001', 'sam.clin', 'production')] }),
      );
      assert.equal(dup.type, ErrorType.AlreadyAdjudicated);
      await handle.executeUpdate(adjudicateCaseUpdate, { args: [vote('d-002', 'sam.clin', 'candidate')] });
      for (let i = 0; i < 200 && (await handle.query(releaseStatusQuery)).stage === 'SHADOW'; i++)
        await new Promise((res) => setTimeout(res, 50));
      const late = await refusal(
        handle.executeUpdate(adjudicateCaseUpdate, { args: [vote('d-003', 'sam.clin', 'candidate')] }),
      );
      assert.equal(late.type, ErrorType.NotAdjudicating);
      assert.match(late.message, /not collecting adjudications \(stage AWAITING_APPROVAL\)/);
      await handle.terminate('test done');
    });
  });

  it('no disagreements: nothing to wait for, the gate passes at once', async () => {
    const { acts, chain } = fakes(0);
    const result = await run(acts, (taskQueue) =>
      env.client.workflow.execute('releaseLifecycle', {
        taskQueue,
        workflowId: `adj-none-${Date.now()}`,
        args: [request()],
      }),
    );
    assert.equal(result.outcome, 'EXPIRED');
    assert.match(shadowEntry(chain).decision.reasons[0]!, /; no disagreements to adjudicate$/);
  });

  it('a measured failure (κ below the policy minimum) rejects without asking anybody', async () => {
    const { acts, closes } = fakes(5, { kappa: 0.2 });
    const r = request();
    r.policy.shadow.minKappa = 0.4;
    const result = await run(acts, (taskQueue) =>
      env.client.workflow.execute('releaseLifecycle', { taskQueue, workflowId: `adj-kappa-${Date.now()}`, args: [r] }),
    );
    assert.equal(result.outcome, 'REJECTED');
    assert.match(
      result.reason,
      /^SHADOW: Cohen's κ 0\.2000 is below the minimum 0\.4; disagreements were not clinically adjudicated/,
    );
    assert.equal(closes.length, 0);
  });

  it('without the new policy fields: no wait, no adjudication status, no patch marker (v0.2.0 commands)', async () => {
    const { acts, chain } = fakes();
    const { result, found, status } = await run(acts, async (taskQueue) => {
      const handle = await env.client.workflow.start('releaseLifecycle', {
        taskQueue,
        workflowId: `adj-off-${Date.now()}`,
        args: [request(null)],
      });
      const r = await handle.result();
      return { result: r, found: await markers(handle), status: await handle.query(releaseStatusQuery) };
    });
    assert.equal(result.outcome, 'EXPIRED');
    assert.deepEqual(shadowEntry(chain).decision, {
      verdict: 'pass',
      reasons: ['agreement with production 0.9500 on 1000 mirrored cases'],
    });
    assert.ok(!found.some((d) => d.includes('shadow-adjudication')), `markers: ${found.join(', ')}`);
    assert.equal(status.shadowAdjudication, undefined);
  });
});
