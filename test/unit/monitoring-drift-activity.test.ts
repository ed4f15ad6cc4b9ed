/**
 * observeDrift as an activity (real reader, scorer and drift statistics over an in-memory evidence store), the
 * simulator's population shift, and the revalidation request through a fake Temporal client.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import type { WorkflowClientPort } from '../../src/contracts/temporal-clients';
import { simulatedLiveSource } from '../../src/activities/live-source';
import { monitoringActivities } from '../../src/activities/monitoring';
import { DEMO_CANDIDATE, DEMO_INCUMBENT } from '../../src/demo/artifacts';
import {
  ErrorType,
  QueuedReleaseSchema,
  releaseIdFor,
  ReleaseRequestSchema,
  TrafficScenarioSchema,
  type ArmStats,
  type ReleaseRequest,
} from '../../src/domain';
import { canonicalBytes, sha256Hex } from '../../src/evidence';
import { judgeDrift } from '../../src/judging';
import { createLogger } from '../../src/logging/logger';
import { cohortToCsv, FEATURES, generateCohort } from '../../src/sim/cohort';
import { applyScenario } from '../../src/sim/scenario';
import { SimulatedTraffic } from '../../src/sim/traffic';
import { inCanaryArm } from '../../src/sim/canary-arm';
import { armStats } from '../../src/stats';
import { validPolicy, validReleaseRequest } from '../support/fixtures';
import { memoryEvidence } from '../support/memory-evidence';

const log = createLogger('test', 'silent');
const env = () => new MockActivityEnvironment({}, { logger: new DefaultLogger('ERROR') });

async function setup() {
  const evidence = memoryEvidence();
  const put = async (b: Uint8Array) => {
    const r = await evidence.putBytes(b, 'application/octet-stream');
    return { key: r.key, sha256: r.sha256 };
  };
  const base = validPolicy();
  const request: ReleaseRequest = ReleaseRequestSchema.parse(
    validReleaseRequest({
      candidate: { version: '2.0.0', artifact: await put(Buffer.from(JSON.stringify(DEMO_CANDIDATE))) },
      incumbent: { version: '1.4.0', artifact: await put(Buffer.from(JSON.stringify(DEMO_INCUMBENT))) },
      datasets: [{ role: 'evaluation', name: 'eval', artifact: await put(Buffer.from(cohortToCsv(EVALUATION))) }],
      policy: { ...base, monitoring: { ...base.monitoring, drift: { onDrift: 'revalidate' } } },
    }),
  );
  return { evidence, request };
}

const EVALUATION = generateCohort('unit:drift-evaluation', 3000);
/** The candidate's validated operating point on the evaluation split, as OFFLINE_EVAL would record it. */
const baseline: ArmStats = armStats(
  EVALUATION.map(
    (c) =>
      1 /
      (1 +
        Math.exp(
          -(DEMO_CANDIDATE.bias + DEMO_CANDIDATE.weights.reduce((s, w, k) => s + w * Math.fround(c.features[k]!), 0)),
        )),
  ),
  EVALUATION.map((c) => c.label),
  validPolicy().operatingThreshold,
);

describe('population shift in the simulator', () => {
  const cases = generateCohort('unit:shift', 500);
  const shift = TrafficScenarioSchema.parse({
    name: 'x7 moved',
    shift: { feature: 'x7', offset: 1.5, fromInterval: 2, phase: 'monitoring' },
  });

  it('moves the feature for both pipelines, only in monitoring windows from the given interval, outcomes untouched', () => {
    assert.deepEqual(
      applyScenario(cases, FEATURES, shift, 3, 'canary'),
      cases,
      'a monitoring-only shift leaves the canary alone',
    );
    assert.deepEqual(applyScenario(cases, FEATURES, shift, 1, 'monitoring'), cases, 'interval 1 is before the shift');
    const moved = applyScenario(cases, FEATURES, shift, 2, 'monitoring');
    moved.forEach((c, k) => {
      assert.equal(c.features[7], cases[k]!.features[7]! + 1.5);
      assert.deepEqual(c.features.slice(0, 7), cases[k]!.features.slice(0, 7));
      assert.equal(c.candidateFeatures, undefined, 'no pipeline fault: the candidate sees what production sees');
      assert.equal(c.label, cases[k]!.label);
    });
  });

  it('a site shift on top of a candidate pipeline fault: the fault applies to the shifted value', () => {
    const both = TrafficScenarioSchema.parse({
      regression: { site: 'site-b', feature: 'x0', scale: 1, offset: 2 },
      shift: { site: 'site-b', feature: 'x0', offset: 1 },
    });
    const out = applyScenario(cases, FEATURES, both, 0);
    out.forEach((c, k) => {
      const orig = cases[k]!;
      if (orig.site !== 'site-b') return assert.deepEqual(c, orig);
      assert.equal(c.features[0], orig.features[0]! + 1);
      assert.equal(c.candidateFeatures![0], orig.features[0]! + 1 + 2);
    });
  });

  it('SimulatedTraffic applies a monitoring shift to monitoring windows only', async () => {
    const t = new SimulatedTraffic(shift);
    const plain = new SimulatedTraffic();
    assert.deepEqual(await t.cases('canary:abc:0', 50, 4), await plain.cases('canary:abc:0', 50, 4));
    const m = (await t.cases('monitoring:abc:4', 50, 4)).cases;
    const p = (await plain.cases('monitoring:abc:4', 50, 4)).cases;
    assert.ok(m.every((c, k) => c.features[7] === p[k]!.features[7]! + 1.5));
  });
});

describe('observeDrift', () => {
  it('finds nothing on traffic like the reference, and names the shifted feature after a shift; aggregates only', async () => {
    const { evidence, request } = await setup();
    const scenario = TrafficScenarioSchema.parse({
      name: 'x7 moved',
      shift: { feature: 'x7', offset: 1.5, fromInterval: 1, phase: 'monitoring' },
    });
    const acts = monitoringActivities({
      evidence,
      live: simulatedLiveSource({ evidence, traffic: new SimulatedTraffic(scenario) }),
      log,
    });
    const run = (
      step: number,
      recent = [] as Parameters<typeof acts.observeDrift>[0]['recent'],
    ): Promise<Awaited<ReturnType<typeof acts.observeDrift>>> =>
      env().run(() =>
        acts.observeDrift({
          releaseId: 'r-1',
          request,
          step,
          cases: 1000,
          baseline,
          recent,
          at: '2026-07-01T00:00:00Z',
        }),
      );

    const calm = await run(0);
    const g = request.policy.monitoring.drift!;
    const calmVerdict = judgeDrift(calm.measurement, g);
    assert.equal(calmVerdict.verdict, 'pass', calmVerdict.reasons.join(' | '));
    assert.deepEqual(
      calm.measurement.data.features.map((f) => f.feature),
      [...FEATURES, 'site'],
    );
    assert.equal(calm.measurement.reference.rows, 3000);
    assert.equal(calm.measurement.source, 'simulated');
    assert.equal(calm.measurement.performance.windows.join(), '0');

    const shifted = await run(1, [calm.measurement.performance.current]);
    const verdict = judgeDrift(shifted.measurement, g);
    assert.equal(verdict.verdict, 'fail');
    const flagged = verdict.reasons.filter((r) => r.startsWith('data drift in')).map((r) => r.split(':')[0]);
    assert.deepEqual([...new Set(flagged)], ['data drift in x7'], verdict.reasons.join(' | '));
    // x7 has no weight in the candidate: its alerts do not move, the drift is in the inputs only.
    assert.ok(
      !verdict.reasons.some((r) => r.startsWith('workflow drift') || r.startsWith('performance drift')),
      verdict.reasons.join(' | '),
    );
    assert.deepEqual(shifted.measurement.performance.windows, [0, 1]);
    assert.equal(
      shifted.measurement.performance.labelled,
      calm.measurement.performance.current.labelled + shifted.measurement.performance.current.labelled,
    );

    // The evidence record holds bins and site counts — no case ids, no patient ids.
    const text = JSON.stringify(
      evidence.docs().filter((d) => (d as { kind?: string }).kind === 'vigil.monitoring-drift/v1'),
    );
    assert.ok(text.length > 0);
    assert.doesNotMatch(text, /traffic:monitoring:[0-9a-f]{64}:\d+:\d+/);
    assert.doesNotMatch(JSON.stringify(shifted.measurement), /caseId|patient/);
  });
});

describe('simulated canary window: salted as the route table', () => {
  it('with canary.saltPerRelease the canary arm is drawn with the release id too, as the gateway draws it', async () => {
    const { evidence, request } = await setup();
    const traffic = new SimulatedTraffic();
    const drawn: { caseId: string }[][] = [];
    const live = simulatedLiveSource({
      evidence,
      traffic: {
        cases: async (w: string, n: number, i?: number) => {
          const c = await traffic.cases(w, n, i);
          drawn.push(c.cases);
          return c;
        },
      } as unknown as SimulatedTraffic,
    });
    const look = (releaseId: string, saltPerRelease: boolean): ReturnType<typeof live.window> => {
      const r = structuredClone(request);
      r.policy.canary.saltPerRelease = saltPerRelease;
      return env().run(() =>
        live.window({
          releaseId,
          request: r,
          mode: 'canary',
          step: 0,
          percent: 25,
          cases: 400,
          baseline: null,
          at: '2026-07-01T00:00:00Z',
        }),
      );
    };
    for (const [releaseId, salted] of [
      ['rel-a', true],
      ['rel-b', true],
      ['rel-a', false],
    ] as const) {
      const out = await look(releaseId, salted);
      const cases = drawn.at(-1)!;
      const expected = cases.filter((c) => inCanaryArm(c.caseId, 25, 'sepsis-alert', salted ? releaseId : null)).length;
      assert.equal(out.measurement.treatment.n, expected, `${releaseId} salted ${salted}`);
      assert.equal(out.measurement.treatment.n + out.measurement.comparator.n, cases.length);
    }
  });
});

describe('requestRevalidation', () => {
  it('queues the same candidate with attempt + 1 behind this release, through signalWithStart on the model queue', async () => {
    const { evidence, request } = await setup();
    const signals: Array<{ type: string; options: { workflowId: string; signalArgs: unknown[] } }> = [];
    const temporal: WorkflowClientPort = {
      workflow: {
        start: async () => assert.fail('not used'),
        getHandle: () => assert.fail('not used'),
        signalWithStart: async (type, options) => {
          signals.push({ type, options });
          return {};
        },
      },
    };
    const acts = monitoringActivities({
      evidence,
      live: simulatedLiveSource({ evidence, traffic: new SimulatedTraffic() }),
      log,
      temporal,
    });
    const drift = await evidence.putJson({ kind: 'vigil.monitoring-drift/v1' });
    const out = await acts.requestRevalidation({
      releaseId: 'r-1',
      request,
      attempt: 2,
      interval: 4,
      reasons: ['drift detected …', 'data drift in x7: PSI 1.2 > 0.25'],
      drift,
      at: '2026-07-01T00:00:00Z',
    });
    assert.equal(out.attempt, 2);
    assert.equal(signals.length, 1);
    const s = signals[0]!;
    assert.equal(s.type, 'releaseQueue');
    assert.equal(s.options.workflowId, 'release-queue-sepsis-alert');
    const entry = QueuedReleaseSchema.parse(s.options.signalArgs[0]);
    assert.equal(entry.request.attempt, 2);
    assert.equal(entry.request.candidate.artifact.sha256, request.candidate.artifact.sha256);
    assert.deepEqual(entry.behind, ['r-1']);
    // The revalidation pins the policy as its author wrote it for the release it follows (defaults left out).
    assert.deepEqual(entry.request.policyAsWritten, request.policyAsWritten);
    assert.equal(entry.releaseId, releaseIdFor(entry.request, sha256Hex(canonicalBytes(request.policyAsWritten))));
    assert.equal(out.releaseId, entry.releaseId);
    assert.match(
      entry.request.reason,
      /^revalidation required: drift detected in monitoring interval 5 of release r-1/,
    );
  });

  /** requestRevalidation with a route store whose production serves `serving`; the queued entry (or the error). */
  async function queueWith(serving: string | null) {
    const { evidence, request } = await setup();
    const entries: unknown[] = [];
    const temporal: WorkflowClientPort = {
      workflow: {
        start: async () => assert.fail('not used'),
        getHandle: () => assert.fail('not used'),
        signalWithStart: async (_type, options) => (entries.push(options.signalArgs[0]), {}),
      },
    };
    const routes = {
      apply: async () => assert.fail('not used'),
      current: async (model: string) => (assert.equal(model, 'sepsis-alert'), serving ? { production: serving } : null),
    };
    const acts = monitoringActivities({
      evidence,
      live: simulatedLiveSource({ evidence, traffic: new SimulatedTraffic() }),
      log,
      temporal,
      routes,
    });
    const drift = await evidence.putJson({ kind: 'vigil.monitoring-drift/v1' });
    const run = () =>
      acts.requestRevalidation({
        releaseId: 'r-1',
        request,
        attempt: 2,
        interval: 4,
        reasons: ['drift detected …', 'data drift in x7: PSI 1.2 > 0.25'],
        drift,
        at: '2026-07-01T00:00:00Z',
      });
    return { request, run, entries };
  }

  it('declares what production serves: the promoted candidate itself, not the incumbent it replaced', async () => {
    const { request, run, entries } = await queueWith('2.0.0');
    await run();
    const entry = QueuedReleaseSchema.parse(entries[0]);
    // SNAPSHOT compares the declared incumbent with production's version: they now agree (before: 1.4.0 vs 2.0.0).
    assert.equal(entry.request.incumbent.version, '2.0.0');
    assert.deepEqual(entry.request.incumbent, request.candidate);
    assert.deepEqual(entry.request.candidate, request.candidate);
    assert.deepEqual(entry.request.trigger, { kind: 'revalidation', deliveryId: 'revalidation:r-1:4' });
    // The same model on both sides is accepted for a revalidation only.
    assert.ok(!ReleaseRequestSchema.safeParse({ ...entry.request, trigger: { kind: 'api' } }).success);
  });

  it('declares the old incumbent when production serves it again, and refuses a version it cannot name', async () => {
    const back = await queueWith('1.4.0');
    await back.run();
    assert.deepEqual(QueuedReleaseSchema.parse(back.entries[0]).request.incumbent, back.request.incumbent);
    const other = await queueWith('3.1.0');
    await assert.rejects(other.run(), (e) => {
      assert.ok(e instanceof ApplicationFailure);
      assert.equal(e.type, ErrorType.InvalidRequest);
      assert.match(
        e.message,
        /production serves sepsis-alert 3\.1\.0, neither this release's candidate 2\.0\.0 nor its incumbent 1\.4\.0/,
      );
      return true;
    });
    assert.equal(other.entries.length, 0, 'nothing queued');
  });

  it('without a Temporal client it fails for good, typed NotConfigured', async () => {
    const { evidence, request } = await setup();
    const acts = monitoringActivities({
      evidence,
      live: simulatedLiveSource({ evidence, traffic: new SimulatedTraffic() }),
      log,
    });
    const drift = await evidence.putJson({ kind: 'x' });
    await assert.rejects(
      acts.requestRevalidation({
        releaseId: 'r-1',
        request,
        attempt: 2,
        interval: 0,
        reasons: [],
        drift,
        at: '2026-07-01T00:00:00Z',
      }),
      (e) => {
        assert.ok(e instanceof ApplicationFailure);
        assert.equal(e.type, ErrorType.NotConfigured);
        assert.equal(e.nonRetryable, true);
        return true;
      },
    );
  });
});
