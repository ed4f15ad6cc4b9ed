/**
 * MONITORING per clinical cohort: the simulated live source measures each site's live window beside the released
 * model's validated figures there (the candidate on the locked evaluation rows of that site, computed here
 * independently), and the judge finds a site whose model stopped working while the whole release looks fine —
 * without false drift verdicts at the boundary of the policy's limits more often than α.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { simulatedLiveSource } from '../../src/activities/live-source';
import { recomputeDecisions } from '../../src/audit/decisions';
import { DEMO_CANDIDATE, DEMO_INCUMBENT } from '../../src/demo/artifacts';
import {
  ReleaseRequestSchema,
  TrafficScenarioSchema,
  type ArmStats,
  type LiveMeasurement,
  type ReleaseRequest,
} from '../../src/domain';
import { judgeGuardrails, judgeMonitoringCohorts, withMonitoringCohorts } from '../../src/judging';
import { cohortToCsv, generateCohort } from '../../src/sim/cohort';
import { prng } from '../../src/sim/prng';
import { SimulatedTraffic } from '../../src/sim/traffic';
import { armStats } from '../../src/stats';
import { validPolicy, validReleaseRequest } from '../support/fixtures';
import { memoryEvidence } from '../support/memory-evidence';

const SEQUENTIAL = {
  alpha: 0.05,
  harmMargin: 0,
  planned: { treatmentPositives: 340, comparatorPositives: 1120, sensitivity: 0.8 },
  minPositives: 50,
  maxAlertRateRatio: 1.6,
  maxExtensions: 2,
};
const policy = validPolicy({ canary: { ...validPolicy().canary, sequential: SEQUENTIAL } });
const parsed = ReleaseRequestSchema.parse(validReleaseRequest({ policy })).policy;
const EVALUATION = generateCohort('unit:monitoring-cohorts', 3000);

/** Counts of `n` cases with `positives` of them, `tp` alerted positives and `alerts` alerts in all. */
function counts(n: number, positives: number, tp: number, alerts: number): ArmStats {
  const negatives = n - positives;
  return {
    n,
    positives,
    truePositives: tp,
    negatives,
    trueNegatives: negatives - (alerts - tp),
    alerts,
    sensitivity: positives ? tp / positives : null,
    specificity: negatives ? (negatives - (alerts - tp)) / negatives : null,
    alertRate: n ? alerts / n : null,
  };
}

describe('judgeMonitoringCohorts', () => {
  const validated = counts(750, 180, 135, 270); // sensitivity 0.75, alert rate 0.36
  const window = (b: ArmStats): LiveMeasurement => ({
    source: 'simulated',
    window: 'monitoring interval 2',
    treatment: counts(1000, 240, 175, 330),
    comparator: counts(3000, 720, 540, 1080),
    cohorts: {
      'site=site-a': { treatment: counts(250, 60, 45, 90), comparator: validated },
      'site=site-b': { treatment: b, comparator: validated },
    },
  });

  it('rolls back naming the site whose sensitivity collapsed, though the whole release held', () => {
    const m = window(counts(250, 60, 0, 30));
    const whole = judgeGuardrails(m, parsed.monitoring.guardrails);
    assert.equal(whole.verdict, 'pass');
    const d = withMonitoringCohorts(whole, m, parsed);
    assert.equal(d.verdict, 'fail');
    assert.match(d.reasons[0]!, /^site=site-b: performance drift: sensitivity upper bound 0\.\d+ below the validated/);
    // α split over 8 budgeted levels × (3 live bounds × 3 windows + 3 validated bounds).
    assert.equal(d.cohorts!.perBound, 0.05 / (8 * 12));
    assert.deepEqual(
      d.cohorts!.cohorts.map((c) => c.verdict),
      ['pass', 'drift'],
    );
  });

  it('finds alert-rate drift both ways, and names a site the evaluation data never had', () => {
    assert.match(
      judgeMonitoringCohorts(window(counts(250, 60, 45, 240)), parsed).failures[0]!,
      /lower bound .* above 1\.5 ×/,
    );
    assert.match(
      judgeMonitoringCohorts(window(counts(250, 60, 45, 5)), parsed).failures[0]!,
      /upper bound .* below the validated lower bound .* \/ 1\.5/,
    );
    const m = window(counts(250, 60, 45, 90));
    m.cohorts!['site=site-b']!.comparator = counts(0, 0, 0, 0);
    const d = withMonitoringCohorts(judgeGuardrails(m, parsed.monitoring.guardrails), m, parsed);
    assert.equal(d.verdict, 'pass', 'the release is serving: an unvalidated site is named, not a drift');
    assert.match(d.reasons[0]!, /cohorts: site=site-a within limits( \(simulated traffic\))?$/);
    assert.match(d.reasons[1]!, /^site=site-b: no validated figures/);
  });

  it('gives false drift verdicts in at most α of windows at the boundary of the limits (2,000 simulated windows)', () => {
    // Worst case allowed by the policy: live sensitivity exactly validated − 0.10, alert rate exactly 1.5 × validated.
    const rand = prng('monitoring-cohorts:boundary');
    const binom = (n: number, p: number) => {
      let x = 0;
      for (let i = 0; i < n; i++) if (rand() < p) x++;
      return x;
    };
    let falseWindows = 0;
    for (let w = 0; w < 2000; w++) {
      const cohorts: LiveMeasurement['cohorts'] = {};
      for (const site of ['a', 'b', 'c', 'd']) {
        const v = counts(750, 180, binom(180, 0.75), 0);
        v.alerts = binom(750, 0.3);
        v.alertRate = v.alerts / 750;
        const live = counts(250, 60, binom(60, 0.65), 0);
        live.alerts = binom(250, 0.45);
        live.alertRate = live.alerts / 250;
        cohorts[`site=${site}`] = { treatment: live, comparator: v };
      }
      const j = judgeMonitoringCohorts({ window: `w${w}`, cohorts }, parsed);
      if (j.failures.length > 0) falseWindows++;
    }
    assert.ok(falseWindows / 2000 <= 0.05, `false drift in ${falseWindows} of 2000 windows`);
  });
});

describe('simulated monitoring window per cohort', () => {
  it("measures each site's live counts beside the candidate's validated counts on that site's evaluation rows", async () => {
    const evidence = memoryEvidence();
    const put = async (b: Uint8Array) => {
      const r = await evidence.putBytes(b, 'application/octet-stream');
      return { key: r.key, sha256: r.sha256 };
    };
    const request: ReleaseRequest = ReleaseRequestSchema.parse(
      validReleaseRequest({
        candidate: { version: '2.0.0', artifact: await put(Buffer.from(JSON.stringify(DEMO_CANDIDATE))) },
        incumbent: { version: '1.4.0', artifact: await put(Buffer.from(JSON.stringify(DEMO_INCUMBENT))) },
        datasets: [{ role: 'evaluation', name: 'eval', artifact: await put(Buffer.from(cohortToCsv(EVALUATION))) }],
        policy,
      }),
    );
    // Site B's candidate pipeline delivers x0 − 3 in production: its sensitivity collapses there only.
    const scenario = TrafficScenarioSchema.parse({ regression: { site: 'site-b', feature: 'x0', offset: -3 } });
    const live = simulatedLiveSource({ evidence, traffic: new SimulatedTraffic(scenario) });
    const out = (await new MockActivityEnvironment({}, { logger: new DefaultLogger('ERROR') }).run(() =>
      live.window({
        releaseId: 'r-1',
        request,
        mode: 'monitoring',
        step: 1,
        percent: 100,
        cases: 4000,
        baseline: counts(3000, 700, 520, 1000),
        at: '2026-07-01T00:00:00Z',
      }),
    )) as { measurement: LiveMeasurement };
    const cohorts = out.measurement.cohorts!;
    assert.deepEqual(Object.keys(cohorts), ['site=site-a', 'site=site-b', 'site=site-c', 'site=site-d']);
    const t = request.policy.operatingThreshold;
    const score = (f: number[]) =>
      1 /
      (1 +
        Math.exp(-(DEMO_CANDIDATE.bias + DEMO_CANDIDATE.weights.reduce((s, w, k) => s + w * Math.fround(f[k]!), 0))));
    for (const site of ['site-a', 'site-b', 'site-c', 'site-d']) {
      const rows = EVALUATION.filter((c) => c.site === site);
      const v = armStats(
        rows.map((c) => score(c.features)),
        rows.map((c) => c.label),
        t,
      );
      const got = cohorts[`site=${site}`]!.comparator;
      assert.deepEqual(
        [got.n, got.positives, got.truePositives, got.alerts],
        [v.n, v.positives, v.truePositives, v.alerts],
      );
    }
    assert.equal(
      Object.values(cohorts).reduce((s, c) => s + c.treatment.n, 0),
      out.measurement.treatment.n,
    );
    const d = withMonitoringCohorts(
      judgeGuardrails(out.measurement, request.policy.monitoring.guardrails),
      out.measurement,
      request.policy,
    );
    assert.equal(d.verdict, 'fail');
    assert.match(d.reasons[0]!, /^site=site-b: performance drift/);
  });
});

describe('vigil audit: monitoring per cohort', () => {
  const validated = counts(750, 180, 135, 270);
  const m: LiveMeasurement = {
    source: 'simulated',
    window: 'monitoring interval 2',
    treatment: counts(1000, 240, 175, 330),
    comparator: counts(3000, 720, 540, 1080),
    cohorts: {
      'site=site-a': { treatment: counts(250, 60, 45, 90), comparator: validated },
      'site=site-b': { treatment: counts(250, 60, 0, 30), comparator: validated },
    },
  };
  const request = ReleaseRequestSchema.parse(validReleaseRequest({ policy }));
  const call = {
    workflowId: 'r-1-monitoring',
    runId: 'run',
    name: 'observeLive',
    scheduledEventId: 5,
    completedEventId: 7,
    input: { request, mode: 'monitoring', step: 1 },
    result: { measurement: m, artifacts: [] },
  };
  const entry = (decision: { verdict: 'pass' | 'fail' | 'inconclusive'; reasons: string[] }) =>
    ({ seq: 9, stage: 'MONITORING', step: 1, decision }) as never;

  it('recomputes the per-cohort verdict, and flags a window recorded as judged without its cohorts', () => {
    const d = withMonitoringCohorts(judgeGuardrails(m, request.policy.monitoring.guardrails), m, request.policy);
    const ok = recomputeDecisions([call], [entry({ verdict: d.verdict, reasons: d.reasons })]);
    assert.deepEqual(ok.findings, []);
    assert.equal(ok.checks[0]!.recomputed.verdict, 'fail');
    const whole = judgeGuardrails(m, request.policy.monitoring.guardrails);
    const bad = recomputeDecisions([call], [entry({ verdict: 'pass', reasons: whole.reasons })]);
    assert.equal(bad.findings.length, 1);
    assert.match(bad.findings[0]!.expected!, /^fail: site=site-b: performance drift/);
  });
});
