/**
 * Issue #22, routing per release (`patched('release-salt')`), on the time-skipping server with the shared fakes: a
 * policy with `canary.saltPerRelease` makes the workflow write its release id into every canary route table; the
 * gateway's `assign` over those tables gives two releases of one model independent canary sets, and a retried
 * route write carries the same salt, so the patients already exposed stay the ones exposed. Without the option the
 * tables carry no salt (every release of the model draws the same patients). Also: a new sequential canary without
 * `cohorts` records `patched('cohort-alpha-split')` and judges the whole canary at 97.5 % of α, with the planned
 * mixture (`patched('planned-mixture')`, issue #16).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { VigilActivities } from '../../src/activities';
import type { ReleaseRequest, RouteState } from '../../src/domain';
import { assign, GatewayRouteTableSchema } from '../../src/gateway';
import { fakeActivities, markers, signOff } from '../support/fake-activities';
import { validRequest } from '../support/fixtures';
import { arm, startTimeSkippingEnv, withWorker } from '../support/time-skipping';

let env: TestWorkflowEnvironment;
before(async () => {
  env = await startTimeSkippingEnv();
});
after(async () => {
  await env?.teardown();
});

const healthy = () => ({
  window: 'w',
  treatment: arm(200, 170, 2000, 300),
  comparator: arm(800, 680, 8000, 1200),
});

function request(saltPerRelease: boolean | undefined, attempt = 1): ReleaseRequest {
  const r = validRequest();
  r.attempt = attempt;
  r.policy.canary.sequential = {
    alpha: 0.05,
    harmMargin: 0,
    planned: { treatmentPositives: 400, comparatorPositives: 1600, sensitivity: 0.85 },
    minPositives: 30,
    maxAlertRateRatio: 1.5,
    maxExtensions: 2,
  };
  if (saltPerRelease !== undefined) r.policy.canary.saltPerRelease = saltPerRelease;
  return r;
}

/** Run one release to its end; the canary tables it wrote (every setRoutes call, retries included) and its id. */
async function release(r: ReleaseRequest, id: string, failFirstCanaryWrite = false) {
  const f = fakeActivities({ live: () => healthy() });
  const writes: RouteState[] = [];
  let failed = false;
  const acts: VigilActivities = {
    ...f.acts,
    setRoutes: async (input) => {
      if (input.routes.canary) writes.push(input.routes);
      if (failFirstCanaryWrite && input.routes.canary && !failed) {
        failed = true;
        throw ApplicationFailure.retryable('route store unavailable (test)', 'Unavailable');
      }
      return f.acts.setRoutes(input);
    },
  };
  const workflowId = `${id}-${Date.now()}`;
  return withWorker(env, acts, async (taskQueue) => {
    const handle = await env.client.workflow.start('releaseLifecycle', { taskQueue, workflowId, args: [r] });
    await signOff(handle);
    const result = await handle.result();
    return { result, writes, workflowId, markers: await markers(handle), verdicts: f.verdicts };
  });
}

/** The patients a table puts on the canary, as the gateway assigns them (model "sepsis"). */
function canarySet(routes: RouteState, patients: number): Set<number> {
  const table = GatewayRouteTableSchema.parse(routes);
  const out = new Set<number>();
  for (let p = 0; p < patients; p++)
    if (assign(table, `case-${p}`, { patient_id: `P${p}` }, 'sepsis').route === 'canary') out.add(p);
  return out;
}

describe('per-release canary salt (time skipping)', () => {
  it('two releases of one model write their own salts and expose independent patients; a retried write keeps its set', async () => {
    const a = await release(request(true, 1), 'salt-a', true);
    const b = await release(request(true, 2), 'salt-b');
    assert.equal(a.result.outcome, 'RELEASED');
    assert.equal(b.result.outcome, 'RELEASED');
    assert.ok(
      a.markers.some((m) => m.includes('release-salt')),
      'the patch marker is in the history',
    );
    // Every canary table a release wrote is salted with that release's own id (the workflow id).
    for (const { writes, workflowId } of [a, b]) {
      assert.ok(writes.length >= 2);
      for (const w of writes) assert.equal(w.canary!.salt, workflowId);
    }
    // The first write failed and was retried: the same table, so the same patients.
    assert.deepEqual(a.writes[1], a.writes[0], 'the retried write is the same table');
    const n = 20_000;
    const first = a.writes[0]!;
    const retried = canarySet(a.writes[1]!, n);
    const setA = canarySet(first, n);
    assert.deepEqual([...retried], [...setA]);
    // Two releases at the same percent: independent draws overlap in ≈ p² of patients, the same salt in p.
    const other = b.writes.find((w) => w.canary!.percent === first.canary!.percent)!;
    const setB = canarySet(other, n);
    const p = first.canary!.percent / 100;
    const both = [...setA].filter((x) => setB.has(x)).length;
    const sd = Math.sqrt(n * p * p * (1 - p * p));
    assert.ok(Math.abs(setA.size - n * p) < 5 * Math.sqrt(n * p * (1 - p)), `${setA.size} canary patients`);
    assert.ok(
      Math.abs(both - n * p * p) < 5 * sd,
      `${both} patients in both releases' canaries (independent: ${n * p * p})`,
    );
  });

  it('the per-interval canary (a policy without sequential guardrails) writes the salt too', async () => {
    const r = request(true, 4);
    delete r.policy.canary.sequential;
    const d = await release(r, 'salt-interval');
    assert.equal(d.result.outcome, 'RELEASED');
    assert.ok(d.writes.length >= 2);
    for (const w of d.writes) assert.equal(w.canary!.salt, d.workflowId);
  });

  it('without saltPerRelease the tables carry no salt and take no marker', async () => {
    const c = await release(request(undefined, 3), 'salt-none');
    assert.equal(c.result.outcome, 'RELEASED');
    for (const w of c.writes) assert.equal(w.canary!.salt, undefined);
    assert.ok(!c.markers.some((m) => m.includes('release-salt')));
    // Issue #16: a policy without `cohorts` is judged with the 97.5 / 2 / 0.5 % split (`cohort-alpha-split`).
    assert.ok(c.markers.some((m) => m.includes('cohort-alpha-split')));
    const overall = c.verdicts.map(
      (v) => (v.verdict as { evidence: { cohorts: { allocation: { overall: number } } } }).evidence.cohorts.allocation,
    );
    assert.ok(overall.length >= 2);
    for (const a of overall) assert.ok(Math.abs(a.overall - 0.04875) < 1e-12, `${a.overall}`);
    // Issue #16: every look's whole-canary comparison uses the planned mixture (`planned-mixture`) and records it.
    assert.ok(c.markers.some((m) => m.includes('planned-mixture')));
    for (const v of c.verdicts) {
      const seq = (v.verdict as { evidence: { sequential: { mixture?: { kind: string } } } }).evidence.sequential;
      assert.equal(seq.mixture?.kind, 'planned');
    }
  });
});
