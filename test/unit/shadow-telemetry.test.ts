/**
 * SHADOW measured from gateway telemetry: pairing mirrored predictions with the production predictions they mirror
 * (case hash, instant and route-table version), the measurement checked against independent arithmetic on a small
 * hand-made event set, unpaired / orphan / ignored counting, empty and invalid windows, the judge without a drift
 * measurement, and the activity (reader → evidence record naming its source and segments).
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { shadowActivities, type DisagreementSample } from '../../src/activities/shadow';
import { gatewayTelemetryLiveSource } from '../../src/activities/live-source';
import { telemetryShadow as observeShadowFromTelemetry } from '../../src/activities/live-source/telemetry-shadow';
import { ErrorType, type EvidenceRef, type ShadowMeasurement } from '../../src/domain';
import { judgeShadow } from '../../src/judging';
import { GATEWAY_SKETCH_ALPHA } from '../../src/gateway/feature-sketches';
import { categoricalDrift, ks2Sample, psi } from '../../src/stats/drift';
import { LogSketchBuilder } from '../../src/stats/log-sketch';
import {
  type FailureEvent,
  type OutcomeEvent,
  type PredictionEvent,
  type SketchEvent,
  type TelemetryEvent,
  type TelemetryWindowReader,
} from '../../src/telemetry';
import {
  measureShadowTelemetry,
  pairShadowPredictions,
  TELEMETRY_SITE,
  type ShadowPairQuery,
} from '../../src/telemetry/shadow-pairs';
import { validRequest } from '../support/fixtures';
import { memoryEvidence, segmentSource as segmentSourceOf } from '../support/memory-evidence';

const MODEL = 'sepsis-alert';
const INCUMBENT = '1.4.0';
const CANDIDATE = '2.0.0';
const FROM = '2026-03-01T10:00:00.000Z';
const TO = '2026-03-01T10:10:00.000Z';
const T = 0.5;
const H = (c: string): string => crypto.createHash('sha256').update(c).digest('hex');
const Q: ShadowPairQuery = { model: MODEL, from: FROM, to: TO, productionVersion: INCUMBENT, shadowVersion: CANDIDATE };

let seq = 0;
function pred(
  caseId: string,
  at: string,
  score: number,
  route: PredictionEvent['route'],
  extra: Partial<PredictionEvent> = {},
): PredictionEvent {
  return {
    kind: 'prediction',
    eventId: `e-${String(++seq).padStart(4, '0')}`,
    at,
    model: MODEL,
    modelVersion: route === 'production' ? INCUMBENT : CANDIDATE,
    route,
    routeVersion: 5,
    caseIdHash: H(caseId),
    score,
    decision: null,
    latencyMs: 1,
    quality: [],
    ...extra,
  };
}
function outcome(caseId: string, label: 0 | 1, at = '2026-03-01T10:30:00.000Z'): OutcomeEvent {
  return {
    kind: 'outcome',
    eventId: `o-${++seq}`,
    at,
    model: MODEL,
    caseIdHash: H(caseId),
    label,
    source: 'clinician_review',
    observedAt: at,
  };
}

/** Ten mirrored requests: [production score, shadow score]; both 3, candidate-only 1, production-only 2, neither 4. */
const SCORES: Array<[string, number, number]> = [
  ['c01', 0.8, 0.9], // both
  ['c02', 0.6, 0.55], // both
  ['c03', 0.95, 0.5], // both (0.5 ≥ 0.5 alerts)
  ['c04', 0.2, 0.7], // candidate only
  ['c05', 0.7, 0.3], // production only
  ['c06', 0.5, 0.49], // production only
  ['c07', 0.1, 0.2], // neither
  ['c08', 0.3, 0.1], // neither
  ['c09', 0.05, 0.45], // neither
  ['c10', 0.4, 0.35], // neither
];
const at = (i: number): string => new Date(Date.parse(FROM) + (i + 1) * 30_000).toISOString();

function eventSet(): { events: TelemetryEvent[]; production: PredictionEvent[]; shadow: PredictionEvent[] } {
  const production: PredictionEvent[] = [];
  const shadow: PredictionEvent[] = [];
  SCORES.forEach(([c, p, s], i) => {
    const quality = c === 'c04' ? ['missing_value'] : c === 'c05' ? ['missing_value', 'out_of_range'] : [];
    production.push(pred(c, at(i), p, 'production', { latencyMs: i + 1, quality }));
    // The mirror's event: same case, instant and route version; written later (another event id), same quality.
    shadow.push(pred(c, at(i), s, 'shadow', { latencyMs: 11 + i, quality }));
  });
  const events: TelemetryEvent[] = [
    ...shadow.slice().reverse(), // order in the segments does not matter
    ...production,
    production[0]!, // a replayed segment line: the same event again
    shadow[0]!,
    // u1: mirror dropped (no shadow event).
    pred('u1', '2026-03-01T10:07:00.000Z', 0.9, 'production'),
    // u2: a shadow event one millisecond off: not the same request.
    pred('u2', '2026-03-01T10:07:30.000Z', 0.9, 'production'),
    pred('u2', '2026-03-01T10:07:30.001Z', 0.1, 'shadow'),
    // u3: same case and instant, another route-table version: not the same request.
    pred('u3', '2026-03-01T10:08:00.000Z', 0.9, 'production', { routeVersion: 4 }),
    pred('u3', '2026-03-01T10:08:00.000Z', 0.1, 'shadow'),
    // Another release's shadow version on c01's request: ignored (c01 still pairs with 2.0.0).
    pred('c01', at(0), 0.01, 'shadow', { modelVersion: '2.1.0' }),
    // A canary prediction, predictions outside [from, to), another model: left out.
    pred('k1', '2026-03-01T10:09:00.000Z', 0.9, 'canary'),
    pred('x1', '2026-03-01T09:59:59.999Z', 0.9, 'production'),
    pred('x1', '2026-03-01T09:59:59.999Z', 0.9, 'shadow'),
    pred('x2', TO, 0.9, 'production'),
    pred('x2', TO, 0.9, 'shadow'),
    pred('c02', at(1), 0.99, 'shadow', { model: 'other-model' }),
    // Outcomes: c01 and c05 positive, c04 and c07 negative; c10's arrives after the analysis (asOf).
    outcome('c01', 1),
    outcome('c05', 1),
    outcome('c04', 0),
    outcome('c07', 0),
    outcome('c10', 1, '2026-03-01T12:00:00.000Z'),
  ];
  return { events, production, shadow };
}

/** Cohen's κ from the 2×2 table, written out: (p_o − p_e) / (1 − p_e). */
function kappaOf(pairs: Array<[number, number]>, t: number): { agreement: number; kappa: number } {
  const n = pairs.length;
  const a = pairs.filter(([c, p]) => c >= t && p >= t).length;
  const d = pairs.filter(([c, p]) => c < t && p < t).length;
  const c1 = pairs.filter(([c]) => c >= t).length / n;
  const p1 = pairs.filter(([, p]) => p >= t).length / n;
  const po = (a + d) / n;
  const pe = c1 * p1 + (1 - c1) * (1 - p1);
  return { agreement: po, kappa: (po - pe) / (1 - pe) };
}

describe('pairShadowPredictions', () => {
  it('pairs by case hash, instant and route version; counts unpaired, orphans and what it left out', () => {
    const { events, production, shadow } = eventSet();
    const r = pairShadowPredictions(events, Q);
    assert.equal(r.pairs.length, 10);
    r.pairs.forEach((p, i) => {
      assert.equal(p.production, production[i], 'in order of time');
      assert.equal(p.shadow, shadow[i]);
      assert.equal(p.caseIdHash, H(SCORES[i]![0]));
    });
    assert.equal(r.production, 13, 'ten paired + u1, u2, u3 (each event once)');
    assert.equal(r.unpaired, 3);
    assert.equal(r.orphanShadow, 2, "u2's shadow (1 ms off) and u3's (other route version)");
    assert.deepEqual(r.ignored, { canary: 1, otherVersions: 1 });
    assert.deepEqual(r.routeVersions, [
      { routeVersion: 4, production: 1, shadow: 0, paired: 0 },
      { routeVersion: 5, production: 12, shadow: 12, paired: 10 },
    ]);
    assert.equal(r.sharedKeys, 0);
  });

  it('requests sharing (case, instant, route version) pair in event-id order; extra mirrors are orphans', () => {
    const when = '2026-03-01T10:01:00.000Z';
    const p1 = pred('s', when, 0.9, 'production');
    const p2 = pred('s', when, 0.1, 'production');
    const s1 = pred('s', when, 0.8, 'shadow');
    const s2 = pred('s', when, 0.2, 'shadow');
    const s3 = pred('s', when, 0.3, 'shadow');
    const r = pairShadowPredictions([s3, s2, p2, s1, p1], Q);
    assert.deepEqual(
      r.pairs.map((p) => [p.production.eventId, p.shadow.eventId]),
      [
        [p1.eventId, s1.eventId],
        [p2.eventId, s2.eventId],
      ],
    );
    assert.deepEqual([r.production, r.unpaired, r.orphanShadow, r.sharedKeys], [2, 0, 1, 1]);
  });

  it('refuses an empty or inverted window', () => {
    assert.throws(() => pairShadowPredictions([], { ...Q, to: FROM }), RangeError);
    assert.throws(() => pairShadowPredictions([], { ...Q, from: 'not a time' }), RangeError);
  });
});

describe('measureShadowTelemetry', () => {
  const query = {
    ...Q,
    threshold: T,
    asOf: '2026-03-01T11:00:00.000Z',
    sampleSize: 2,
    seed: 'vigil.shadow-disagreements/v1:rel-1',
  };

  it('agreement and κ at the threshold match an independent computation from the events', () => {
    const { events } = eventSet();
    const { measurement: m, agreementTable } = measureShadowTelemetry(events, query);
    const expected = kappaOf(
      SCORES.map(([, p, s]) => [s, p]),
      T,
    );
    assert.equal(m.cases, 10);
    assert.deepEqual(agreementTable, { both: 3, candidateOnly: 1, productionOnly: 2, neither: 4 });
    // p_o = 7/10; alert rates candidate 4/10, production 5/10: p_e = 0.4·0.5 + 0.6·0.5 = 0.5; κ = 0.2 / 0.5.
    assert.equal(expected.agreement, 0.7);
    assert.ok(Math.abs(expected.kappa - 0.4) < 1e-12);
    assert.equal(m.agreement, expected.agreement);
    assert.ok(Math.abs(m.kappa! - expected.kappa) < 1e-12, `κ ${m.kappa}`);
    assert.equal(m.agreements, 7);
    assert.deepEqual([m.disagreements!.candidateOnly, m.disagreements!.productionOnly], [1, 2]);
    const mad = SCORES.reduce((s, [, p, c]) => s + Math.abs(c - p), 0) / 10;
    assert.ok(Math.abs(m.meanAbsScoreDifference! - mad) < 1e-12);
  });

  it('labels from the outcomes known by asOf; latency, input quality and mirror coverage from the pairs; drift not measured', () => {
    const { events } = eventSet();
    const { measurement: m, pairing } = measureShadowTelemetry(events, query);
    // Labelled: c01 (1), c05 (1), c04 (0), c07 (0); c10's outcome came after asOf.
    // Candidate alerts: c01, c02, c03, c04 → TP c01, FN c05, FP c04 (not a TN), TN c07.
    assert.deepEqual(m.candidate, {
      n: 10,
      positives: 2,
      truePositives: 1,
      negatives: 2,
      trueNegatives: 1,
      alerts: 4,
      sensitivity: 0.5,
      specificity: 0.5,
      alertRate: 0.4,
    });
    // Production alerts: c01, c02, c03, c05, c06 → TP c01, c05; TN c04, c07.
    assert.deepEqual(m.production, {
      n: 10,
      positives: 2,
      truePositives: 2,
      negatives: 2,
      trueNegatives: 2,
      alerts: 5,
      sensitivity: 1,
      specificity: 1,
      alertRate: 0.5,
    });
    assert.equal(pairing.labelledPairs, 4);
    assert.equal(pairing.distinctCases, 10);
    // numpy.percentile(range(1, 11), 50) = 5.5 (production), of range(11, 21) = 15.5 (shadow).
    assert.equal(m.latencyMs!.production.p50, 5.5);
    assert.equal(m.latencyMs!.candidate.p50, 15.5);
    assert.equal(m.latencyMs!.production.calls, 10);
    assert.deepEqual(m.inputQuality, { requests: 10, flags: { missing_value: 2, out_of_range: 1 } });
    assert.deepEqual(m.mirror, {
      production: 13,
      paired: 10,
      unpaired: 3,
      coverage: 10 / 13,
      orphanShadow: 2,
      invalidScores: 0,
      failed: 0,
    });
    assert.equal(m.drift, undefined, 'never simulated');
    assert.equal(m.missing, undefined);
    assert.match(m.notMeasured!.drift!, /no input sketches/);
  });

  it('samples disagreements by direction when no prediction names a site, identified by the telemetry hash', () => {
    const { events } = eventSet();
    const { measurement: m, sample } = measureShadowTelemetry(events, query);
    assert.deepEqual(m.disagreements!.strata, [
      { site: TELEMETRY_SITE, direction: 'candidate-only', available: 1, sampled: 1 },
      { site: TELEMETRY_SITE, direction: 'production-only', available: 2, sampled: 1 },
    ]);
    assert.equal(sample.length, 2);
    assert.equal(sample[0]!.caseIdHash, H('c04'));
    assert.ok([H('c05'), H('c06')].includes(sample[1]!.caseIdHash));
    assert.deepEqual(measureShadowTelemetry(events, query).sample, sample, 'reproducible for a seed');
    assert.equal(measureShadowTelemetry(events, { ...query, sampleSize: 0 }).sample.length, 0);
  });

  it('stratifies disagreements by the site the gateway recorded with each production prediction, as for simulated cases', () => {
    const siteOf: Record<string, string> = { [H('c04')]: 'site-b', [H('c05')]: 'site-a' };
    const events = eventSet().events.map((e) =>
      e.kind === 'prediction' && e.route === 'production' && siteOf[e.caseIdHash]
        ? { ...e, site: siteOf[e.caseIdHash] }
        : e,
    );
    const { measurement: m, sample } = measureShadowTelemetry(events, { ...query, sampleSize: 5 });
    const bySite = (a: { site: string }, b: { site: string }) => a.site.localeCompare(b.site);
    // Every site × direction is a stratum (as for simulated cases, empty ones included); these hold the disagreements.
    assert.equal(m.disagreements!.strata.length, 3 * 2);
    assert.deepEqual(m.disagreements!.strata.filter((x) => x.available > 0).sort(bySite), [
      { site: TELEMETRY_SITE, direction: 'production-only', available: 1, sampled: 1 }, // c06 named no site
      { site: 'site-a', direction: 'production-only', available: 1, sampled: 1 },
      { site: 'site-b', direction: 'candidate-only', available: 1, sampled: 1 },
    ]);
    assert.deepEqual(new Set(sample.map((p) => p.caseIdHash)), new Set([H('c04'), H('c05'), H('c06')]));
  });

  it('an empty window measures nothing and passes nothing', () => {
    const { measurement: m } = measureShadowTelemetry([], query);
    assert.equal(m.cases, 0);
    assert.equal(m.agreement, null);
    assert.equal(m.kappa, null);
    assert.deepEqual(m.mirror, {
      production: 0,
      paired: 0,
      unpaired: 0,
      coverage: null,
      orphanShadow: 0,
      invalidScores: 0,
      failed: 0,
    });
    const d = judgeShadow(m, { durationSeconds: 600, cases: 10, minAgreement: 0.8 });
    assert.equal(d.verdict, 'inconclusive');
    assert.deepEqual(d.reasons, [
      'only 0 of 10 required shadow cases observed',
      'the gateway recorded no production prediction of the incumbent in the shadow window',
    ]);
  });

  it('failed mirrors and unanswered production requests (failure events) are the errors; the rest of unpaired were dropped', () => {
    const fail = (
      caseId: string,
      at: string,
      route: 'production' | 'shadow',
      extra: Partial<FailureEvent> = {},
    ): FailureEvent => ({
      kind: 'failure',
      eventId: `x-${++seq}`,
      at,
      model: MODEL,
      modelVersion: route === 'production' ? INCUMBENT : CANDIDATE,
      route,
      routeVersion: 5,
      caseIdHash: H(caseId),
      status: route === 'production' ? 502 : null,
      latencyMs: 2,
      reason: 'failed',
      ...extra,
    });
    const at = '2026-03-01T10:01:00.000Z';
    const mirrorFailed = fail('m1', at, 'shadow');
    const events: TelemetryEvent[] = [
      pred('ok', at, 0.9, 'production'),
      pred('ok', at, 0.8, 'shadow'),
      pred('m1', at, 0.7, 'production'), // its mirror failed
      mirrorFailed,
      mirrorFailed, // replayed: once
      pred('m2', at, 0.7, 'production'), // its mirror was dropped: no event
      fail('p1', at, 'production'), // production failed: never mirrored
      fail('late', TO, 'shadow'), // at `to`: outside
      fail('other', at, 'shadow', { modelVersion: '9.9.9' }), // another version
      fail('other', at, 'shadow', { model: 'another-model' }),
    ];
    const { measurement: m, pairing } = measureShadowTelemetry(events, query);
    assert.deepEqual(pairing.failures, { shadow: 1, production: 1 });
    assert.deepEqual(m.errors, { candidate: 1, production: 1, cases: 2 });
    assert.deepEqual(m.mirror, {
      production: 3,
      paired: 1,
      unpaired: 2,
      coverage: 1 / 3,
      orphanShadow: 0,
      invalidScores: 0,
      failed: 1,
    });
    assert.equal(m.notMeasured!.errors, undefined, 'measured from failure events');
  });

  it('a score that is not a finite number leaves its pair out, counted', () => {
    const p = pred('n', '2026-03-01T10:01:00.000Z', 0.9, 'production');
    const s = pred('n', '2026-03-01T10:01:00.000Z', null as unknown as number, 'shadow'); // JSON null: a non-finite score
    const { measurement: m } = measureShadowTelemetry([p, s], query);
    assert.equal(m.cases, 0);
    assert.equal(m.mirror!.paired, 1);
    assert.equal(m.mirror!.invalidScores, 1);
  });
});

describe('judgeShadow on a telemetry measurement', () => {
  const measured = (): ShadowMeasurement =>
    measureShadowTelemetry(eventSet().events, { ...Q, threshold: T, sampleSize: 0, seed: 's' }).measurement;

  it('a policy bounding input drift is inconclusive, naming why drift was not measured', () => {
    const d = judgeShadow(measured(), { durationSeconds: 600, cases: 10, minAgreement: 0.6, maxPsi: 0.25 });
    assert.equal(d.verdict, 'inconclusive');
    assert.match(
      d.reasons[0]!,
      /^input drift against the validation reference was not measured \(the policy allows PSI up to 0\.25\): the window has no input sketches of the model/,
    );
  });

  it('passes on agreement and κ, saying how much of production was mirrored; too few pairs says how many were not', () => {
    const d = judgeShadow(measured(), { durationSeconds: 600, cases: 10, minAgreement: 0.6, minKappa: 0.3 });
    assert.deepEqual(d, {
      verdict: 'pass',
      reasons: [
        'agreement with production 0.7000 on 10 mirrored cases; mirror coverage 0.7692 (10 of 13 production predictions); κ 0.4000',
      ],
    });
    const few = judgeShadow(measured(), { durationSeconds: 600, cases: 11, minAgreement: 0.6 });
    assert.deepEqual(few.reasons, [
      'only 10 of 11 required shadow cases observed',
      '3 of 13 production predictions had no shadow prediction (mirror coverage 0.7692)',
    ]);
  });
});

/** The event set as two uploaded segments behind a TelemetryLiveSource, as of 11:00. */
const segmentSource = (events: TelemetryEvent[]) =>
  segmentSourceOf(events, { now: '2026-03-01T11:00:00.000Z', cuts: [15] });

const env = () => new MockActivityEnvironment({}, { logger: new DefaultLogger('ERROR') });

describe('observeShadow from gateway telemetry (activity)', () => {
  const request = () => {
    const r = validRequest({
      candidate: { version: CANDIDATE, artifact: { key: 'models/c.json', sha256: 'a'.repeat(64) } },
      incumbent: { version: INCUMBENT, artifact: { key: 'models/i.json', sha256: 'b'.repeat(64) } },
    });
    r.policy.operatingThreshold = T;
    r.policy.shadow.durationSeconds = 600;
    r.policy.shadow.cases = 10;
    r.policy.shadow.adjudication = {
      sampleSize: 3,
      minAdjudicated: 1,
      maxCandidateWrongShare: 0.5,
      timeoutSeconds: 3600,
    };
    return r;
  };

  it('measures [at − duration, at) from the segments and records its source, window, segments and sample', async () => {
    const evidence = memoryEvidence();
    const { source, segments } = segmentSource(eventSet().events);
    const acts = shadowActivities({ evidence, live: gatewayTelemetryLiveSource({ evidence, telemetry: source }) });
    const out = (await env().run(acts.observeShadow, { releaseId: 'rel-1', request: request(), at: TO })) as Awaited<
      ReturnType<typeof acts.observeShadow>
    >;
    assert.equal(out.measurement.source, 'gateway-telemetry');
    assert.equal(out.measurement.cases, 10);
    assert.equal(out.measurement.agreement, 0.7);
    assert.equal(out.measurement.disagreements!.sampled, 3);
    assert.deepEqual(out.measurement.disagreements!.sample, out.artifacts[1]);
    const record = evidence.json(out.artifacts[0]!) as {
      kind: string;
      source: string;
      trafficWindow: { model: string; from: string; to: string };
      measurement: ShadowMeasurement;
      segments: Array<{ window: string; segment: EvidenceRef }>;
      telemetry: { unpaired: number; modelVersions: unknown };
    };
    assert.equal(record.kind, 'vigil.shadow/v1');
    assert.equal(record.source, 'gateway-telemetry');
    assert.deepEqual(record.trafficWindow, { model: MODEL, from: FROM, to: TO });
    assert.deepEqual([...new Set(record.segments.map((s) => s.segment.sha256))].sort(), [...segments].sort());
    assert.equal(record.telemetry.unpaired, 3);
    assert.deepEqual(record.telemetry.modelVersions, { production: INCUMBENT, shadow: CANDIDATE });
    assert.deepEqual(record.measurement, out.measurement);
    const sample = evidence.json(out.artifacts[1]!) as DisagreementSample;
    assert.equal(sample.source, 'gateway-telemetry');
    assert.equal(sample.cases.length, 3);
    for (const c of sample.cases) {
      assert.ok(
        SCORES.some(([id]) => H(id) === c.caseIdHash),
        'the telemetry case hash',
      );
      assert.notEqual(c.candidate.alert, c.production.alert);
      assert.deepEqual(c.features, {});
      assert.match(c.predictedAt!, /^2026-03-01T10:0/);
    }
    assert.doesNotMatch(JSON.stringify(sample), /"c0\d"/, 'no raw case ids');
  });

  it('a window shorter than the events sees only its part; a bad instant is a typed error', async () => {
    const { source } = segmentSource(eventSet().events);
    const r = request();
    r.policy.shadow.durationSeconds = 120; // [10:08, 10:10): u3 only — no pairs
    const out = await observeShadowFromTelemetry(source, memoryEvidence(), { releaseId: 'rel-1', request: r, at: TO });
    assert.equal(out.measurement.cases, 0);
    assert.deepEqual(out.measurement.mirror, {
      production: 1,
      paired: 0,
      unpaired: 1,
      coverage: 0,
      orphanShadow: 1,
      invalidScores: 0,
      failed: 0,
    });
    await assert.rejects(
      observeShadowFromTelemetry(source, memoryEvidence(), { releaseId: 'rel-1', request: r, at: 'yesterday' }),
      (e: unknown) => e instanceof ApplicationFailure && e.type === ErrorType.InvalidRequest,
    );
  });

  it('TelemetryLiveSource.read returns what measure reads, with the segments', async () => {
    const reader: TelemetryWindowReader = segmentSource(eventSet().events).source;
    const w = await reader.read({ model: MODEL, from: FROM, to: TO });
    assert.equal(w.asOf, '2026-03-01T11:00:00.000Z');
    assert.ok(w.events.length > 0 && w.segments.length > 0);
  });
});

/** Seeded standard normals (Box–Muller over a small LCG): the same numbers every run. */
function normals(n: number, seed: number, mean = 0, sd = 1): number[] {
  let x = seed >>> 0;
  const u = (): number => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return (x + 0.5) / 2 ** 32;
  };
  return Array.from({ length: n }, () => mean + sd * Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u()));
}

describe("SHADOW input drift from the gateway's input sketches", () => {
  it('PSI and KS of each sketched feature against the evaluation split, missing values counted, a too-coarse feature reported as not compared', async () => {
    const evidence = memoryEvidence();
    // The locked evaluation split: x0 ~ N(0, 1); sodium ~ N(140, 3) — far from zero for its spread.
    const refX0 = normals(4000, 1).map((v) => Math.fround(v));
    const refNa = normals(4000, 2, 140, 3).map((v) => Math.fround(v));
    const refSites = refX0.map((_, i) => (i % 4 === 0 ? 'site-b' : 'site-a'));
    const csv =
      ['case_id,site,x0,sodium,label', ...refX0.map((v, i) => `r${i},${refSites[i]},${v},${refNa[i]},${i % 2}`)].join(
        '\n',
      ) + '\n';
    const dataset = await evidence.putBytes(Buffer.from(csv), 'text/csv');
    const request = validRequest({
      candidate: { version: CANDIDATE, artifact: { key: 'models/c.json', sha256: 'a'.repeat(64) } },
      incumbent: { version: INCUMBENT, artifact: { key: 'models/i.json', sha256: 'b'.repeat(64) } },
    });
    request.datasets = request.datasets.map((d) =>
      d.role === 'evaluation' ? { ...d, format: 'csv', artifact: { key: dataset.key, sha256: dataset.sha256 } } : d,
    );
    request.policy.shadow.durationSeconds = 600;
    // The window's traffic: x0 shifted by 0.3, in three 10-s buckets of the gateway; 25 nulls of x0.
    const curX0 = normals(3000, 3, 0.3).map((v) => Math.fround(v));
    const curNa = normals(3000, 4, 140, 3).map((v) => Math.fround(v));
    const sketches: SketchEvent[] = [0, 1, 2].map((b) => {
      const x0 = new LogSketchBuilder(GATEWAY_SKETCH_ALPHA);
      const na = new LogSketchBuilder(GATEWAY_SKETCH_ALPHA);
      for (let i = b * 1000; i < (b + 1) * 1000; i++) {
        x0.add(curX0[i]!);
        na.add(curNa[i]!);
      }
      if (b === 0) for (let i = 0; i < 25; i++) x0.add(null);
      // Rows per site as the gateway counts them: half from site-b in the window, a quarter in the reference.
      return {
        kind: 'sketch',
        eventId: `sk-${b}`,
        at: new Date(Date.parse(FROM) + (b + 1) * 10_000).toISOString(),
        seconds: 10,
        model: MODEL,
        rows: 1000 + (b === 0 ? 25 : 0),
        features: { x0: x0.toSketch(), sodium: na.toSketch() },
        sites: { 'site-a': 500, 'site-b': 500 + (b === 0 ? 25 : 0) },
      };
    });
    // A bucket of another model and one ending after the window are not part of it.
    const stray: SketchEvent[] = [
      { ...sketches[0]!, eventId: 'sk-other', model: 'other' },
      { ...sketches[1]!, eventId: 'sk-late', at: TO },
    ];
    const { source } = segmentSource([...eventSet().events, ...sketches, ...stray]);
    const out = await observeShadowFromTelemetry(source, evidence, { releaseId: 'rel-1', request, at: TO });
    const drift = out.measurement.drift!;
    assert.deepEqual(drift.reference, { dataset: 'eval-2026q2', sha256: dataset.sha256, rows: 4000 });
    assert.equal(drift.features.length, 1);
    const x0 = drift.features[0]!;
    assert.equal(x0.feature, 'x0');
    assert.equal(x0.n, 3000);
    // Against the statistics of the raw values (which the gateway never wrote): the sketch is within its accuracy.
    const raw = psi(refX0, curX0).psi;
    const rawKs = ks2Sample(refX0, curX0);
    assert.ok(raw > 0.05, `a real shift (PSI ${raw})`);
    assert.ok(Math.abs(x0.psi - raw) < 0.005, `sketch PSI ${x0.psi} vs ${raw}`);
    assert.ok(x0.ks <= rawKs.statistic + 1e-12 && x0.ks > rawKs.statistic - 0.01, `KS ${x0.ks} vs ${rawKs.statistic}`);
    assert.ok(x0.ksPValue < 1e-6);
    assert.deepEqual(out.measurement.missing, { x0: 25, sodium: 0 });
    // Site mix from the buckets' counts, as the case-level computation gives it on the same sites.
    const siteMix = categoricalDrift(refSites, [
      ...Array<string>(1500).fill('site-a'),
      ...Array<string>(1525).fill('site-b'),
    ]);
    assert.deepEqual(drift.site, {
      chiSquare: siteMix.chiSquare.statistic,
      df: 1,
      pValue: siteMix.chiSquare.pValue,
      psi: siteMix.psi,
    });
    assert.ok(drift.site!.pValue < 1e-6);
    assert.equal(drift.notCompared?.length, 1);
    assert.match(drift.notCompared![0]!, /^sodium: the gateway's sketch .* too coarse/);
    assert.equal(out.measurement.notMeasured?.drift, undefined);
    // A PSI bound is never passed on a feature whose drift was not measured.
    const d = judgeShadow(
      { ...out.measurement, cases: 10, agreement: 1 },
      { durationSeconds: 600, cases: 10, minAgreement: 0.5, maxPsi: 0.5 },
    );
    assert.equal(d.verdict, 'inconclusive');
    assert.ok(
      d.reasons.some((r) => /input drift was not measured for sodium/.test(r)),
      d.reasons.join(' | '),
    );
    // …and a real shift above the bound fails.
    const tight = judgeShadow(
      { ...out.measurement, cases: 10, agreement: 1 },
      { durationSeconds: 600, cases: 10, minAgreement: 0.5, maxPsi: 0.01 },
    );
    assert.equal(tight.verdict, 'fail');

    // The note names the centre that would resolve sodium: the reference median (≈ 140).
    const suggested = Number(/a sketch centre of ([\d.]+) \(the reference median\)/.exec(drift.notCompared![0]!)?.[1]);
    const sortedNa = [...refNa].sort((a, b) => a - b);
    assert.equal(sortedNa.length % 2, 0);
    assert.equal(
      suggested,
      Number(((sortedNa[sortedNa.length / 2 - 1]! + sortedNa[sortedNa.length / 2]!) / 2).toPrecision(6)),
      'the mean of the two middle values',
    );
    // Sketched around it (the gateway's sketchCentres), sodium is compared, and its drift is that of the raw values.
    const shiftedNa = normals(3000, 5, 141, 3).map((v) => Math.fround(v));
    const centred: SketchEvent[] = sketches.map((e, b) => {
      const na = new LogSketchBuilder(GATEWAY_SKETCH_ALPHA, suggested);
      for (let i = b * 1000; i < (b + 1) * 1000; i++) na.add(shiftedNa[i]!);
      return { ...e, eventId: `c-${b}`, features: { ...e.features, sodium: na.toSketch() } };
    });
    const again = await observeShadowFromTelemetry(segmentSource([...eventSet().events, ...centred]).source, evidence, {
      releaseId: 'rel-1',
      request,
      at: TO,
    });
    const na = again.measurement.drift!.features.find((f) => f.feature === 'sodium')!;
    assert.equal(again.measurement.drift!.notCompared, undefined);
    const rawNa = psi(refNa, shiftedNa).psi;
    const rawNaKs = ks2Sample(refNa, shiftedNa);
    assert.ok(rawNa > 0.05, `a real shift of sodium (PSI ${rawNa})`);
    assert.ok(Math.abs(na.psi - rawNa) < 0.01, `centred sketch PSI ${na.psi} vs ${rawNa} from the values`);
    assert.ok(
      na.ks <= rawNaKs.statistic + 1e-12 && na.ks > rawNaKs.statistic - 0.01,
      `KS ${na.ks} vs ${rawNaKs.statistic}`,
    );
  });
});
