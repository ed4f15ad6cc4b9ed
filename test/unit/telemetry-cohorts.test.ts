/**
 * Per-cohort arms from gateway telemetry: the canary and production routes split by the request's recorded site, so
 * the guardrails per clinical cohort judge a gateway-fed canary exactly as a simulated one.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { telemetryWindow } from '../../src/activities/live-source/telemetry-window';
import type { ObserveLiveInput } from '../../src/contracts/live-source';
import { DEFAULT_COHORT_GUARDRAILS, type ArmStats } from '../../src/domain';
import { judgeGuardrailsSequential } from '../../src/judging';
import {
  measureLive,
  type LiveQuery,
  type OutcomeEvent,
  type PredictionEvent,
  type TelemetryEvent,
} from '../../src/telemetry';
import { memoryEvidence } from '../support/memory-evidence';
import { validPolicy, validRequest } from '../support/fixtures';

const FROM = '2026-03-01T10:00:00.000Z';
const TO = '2026-03-01T10:00:05.000Z';
const H = (id: string): string => Buffer.from(id).toString('hex').padEnd(64, '0').slice(0, 64);
let seq = 0;

function pred(id: string, route: 'canary' | 'production', score: number, site?: string): PredictionEvent {
  return {
    kind: 'prediction',
    eventId: `p-${++seq}`,
    at: '2026-03-01T10:00:01.000Z',
    model: 'sepsis-alert',
    modelVersion: route === 'canary' ? '2.1.0' : '2.0.0',
    route,
    routeVersion: 3,
    caseIdHash: H(id),
    score,
    decision: null,
    latencyMs: 1,
    quality: [],
    ...(site !== undefined ? { site } : {}),
  };
}
function outcome(id: string, label: 0 | 1): OutcomeEvent {
  return {
    kind: 'outcome',
    eventId: `o-${++seq}`,
    at: '2026-03-01T10:00:04.000Z',
    model: 'sepsis-alert',
    caseIdHash: H(id),
    label,
    source: 'clinician_review',
    observedAt: '2026-03-01T10:00:04.000Z',
  };
}

/**
 * Four sites; each route per site: `pos` positives (80 % alerted, except the canary at `broken`: none) and as many
 * negatives (20 % alerted). Site B's requests spell it "Site-B " half the time (one cohort, as the gateway's rules).
 */
function world(canaryPos: number, controlPos: number, broken: string | null): TelemetryEvent[] {
  const events: TelemetryEvent[] = [];
  for (const site of ['site-a', 'site-b', 'site-c', 'site-d']) {
    for (const [route, pos] of [
      ['canary', canaryPos],
      ['production', controlPos],
    ] as const) {
      for (let i = 0; i < 2 * pos; i++) {
        const id = `${site}:${route}:${i}`;
        const positive = i < pos;
        const hit = positive ? (route !== 'canary' || site !== broken ? i % 5 !== 0 : false) : i % 5 === 0;
        const spelled = site === 'site-b' && i % 2 === 1 ? 'Site-B ' : site;
        events.push(pred(id, route, hit ? 0.9 : 0.1, spelled), outcome(id, positive ? 1 : 0));
      }
    }
  }
  return events;
}

const sum = (xs: ArmStats[], k: keyof ArmStats): number => xs.reduce((a, x) => a + (x[k] as number), 0);

describe('measureLive per cohort', () => {
  const query: LiveQuery = { model: 'sepsis-alert', from: FROM, to: TO, threshold: 0.5 };

  it('splits both routes by the recorded site, case-folded, and the cohorts add up to the routes', () => {
    const events = [...world(30, 120, 'site-b'), pred('nosite', 'canary', 0.9), outcome('nosite', 1)];
    // A case keeps the cohort of its first prediction in the interval.
    events.push({ ...pred('site-a:canary:0', 'canary', 0.95, 'site-c'), at: '2026-03-01T10:00:02.000Z' });
    const m = measureLive(events, { ...query, cohortAttributes: ['site', 'age_band'] });
    const c = m.cohorts!;
    assert.deepEqual(Object.keys(c), ['site=(none)', 'site=site-a', 'site=site-b', 'site=site-c', 'site=site-d']);
    assert.deepEqual(m.cohortsNotRecorded, ['age_band']);
    assert.equal(c['site=site-b']!.canary.n, 60);
    assert.equal(c['site=site-b']!.canary.truePositives, 0);
    assert.equal(c['site=site-b']!.production.truePositives, 96);
    assert.equal(c['site=site-a']!.canary.n, 60);
    assert.equal(c['site=site-c']!.canary.n, 60);
    assert.equal(c['site=(none)']!.canary.positives, 1);
    for (const route of ['canary', 'production'] as const) {
      const parts = Object.values(c).map((x) => x[route]);
      for (const k of ['n', 'positives', 'truePositives', 'negatives', 'trueNegatives', 'alerts'] as const)
        assert.equal(sum(parts, k), m.arms[route].stats[k], `${route} ${k}`);
    }
  });

  it('measures no cohorts unless asked', () => {
    const m = measureLive(world(5, 5, null), query);
    assert.equal(m.cohorts, undefined);
    assert.equal(m.cohortsNotRecorded, undefined);
  });
});

describe('telemetryWindow per cohort', () => {
  const request = validRequest({
    policy: validPolicy({
      canary: {
        ...validPolicy().canary,
        sequential: {
          alpha: 0.05,
          harmMargin: 0,
          planned: { treatmentPositives: 340, comparatorPositives: 1120, sensitivity: 0.8 },
          minPositives: 50,
          maxAlertRateRatio: 1.6,
          maxExtensions: 2,
        },
      },
    }),
  });
  const input = (mode: 'canary' | 'monitoring'): ObserveLiveInput => ({
    releaseId: 'r-1',
    request,
    mode,
    step: 0,
    percent: 10,
    cases: 0,
    baseline: null,
    at: TO,
  });
  const port = (events: TelemetryEvent[], asked: LiveQuery[]) => ({
    measure: async (q: LiveQuery) => {
      asked.push(q);
      return { ...measureLive(events, q), segments: [], completeness: null };
    },
  });

  it("gives the canary's cohorts (canary route vs production route) and the judge rolls back naming site B", async () => {
    const asked: LiveQuery[] = [];
    const evidence = memoryEvidence();
    const out = await telemetryWindow(port(world(25, 100, 'site-b'), asked), evidence, input('canary'));
    assert.deepEqual(asked[0]!.cohortAttributes, ['site']);
    const b = out.measurement.cohorts!['site=site-b']!;
    assert.equal(b.treatment.truePositives, 0);
    assert.equal(b.treatment.positives, 25);
    assert.equal(b.comparator.truePositives, 80);
    assert.deepEqual(
      (evidence.json(out.artifacts[0]!) as { measurement: { cohorts: unknown } }).measurement.cohorts,
      out.measurement.cohorts,
    );
    const g = request.policy.canary.sequential!;
    const judged = judgeGuardrailsSequential([out.measurement], g, { cohorts: DEFAULT_COHORT_GUARDRAILS });
    assert.equal(judged.verdict, 'fail');
    assert.match(judged.reasons[0]!, /^site=site-b: sensitivity harm declared at look 1/);
    const verdicts = Object.fromEntries(judged.evidence.cohorts!.cohorts.map((x) => [x.cohort, x.verdict]));
    assert.deepEqual(verdicts, {
      'site=site-a': 'pass',
      'site=site-b': 'harm',
      'site=site-c': 'pass',
      'site=site-d': 'pass',
    });
  });

  it('asks for no cohorts in monitoring', async () => {
    const asked: LiveQuery[] = [];
    const out = await telemetryWindow(port(world(5, 5, null), asked), memoryEvidence(), input('monitoring'));
    assert.equal(asked[0]!.cohortAttributes, undefined);
    assert.equal(out.measurement.cohorts, undefined);
  });
});
