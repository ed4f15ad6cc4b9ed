import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EvidenceRef } from '../../src/domain/evidence';
import {
  measureLive,
  nearestRank,
  pointersFor,
  segmentBytes,
  TelemetryLiveSource,
  windowsBetween,
  type FailureEvent,
  type FeedbackEvent,
  type OutcomeEvent,
  type PredictionEvent,
  type SegmentPointer,
  type SourceWeights,
  type TelemetryEvent,
} from '../../src/telemetry';

const H = (c: string): string => c.padEnd(64, '0').replace(/[^0-9a-f]/g, 'a');
let seq = 0;
function pred(
  caseId: string,
  at: string,
  score: number,
  route: PredictionEvent['route'] = 'canary',
  extra: Partial<PredictionEvent> = {},
): PredictionEvent {
  return {
    kind: 'prediction',
    eventId: `p-${++seq}`,
    at,
    model: 'sepsis-alert',
    modelVersion: route === 'canary' ? '2.0.0' : '1.4.0',
    route,
    routeVersion: 3,
    caseIdHash: H(caseId),
    score,
    decision: null,
    latencyMs: 1,
    quality: [],
    ...extra,
  };
}
function outcome(
  caseId: string,
  label: 0 | 1,
  source: OutcomeEvent['source'],
  observedAt = '2026-03-01T11:00:00.000Z',
  at = '2026-03-01T10:30:00.000Z',
): OutcomeEvent {
  return {
    kind: 'outcome',
    eventId: `o-${++seq}`,
    at,
    model: 'sepsis-alert',
    caseIdHash: H(caseId),
    label,
    source,
    observedAt,
  };
}
function fb(caseId: string, type: FeedbackEvent['type']): FeedbackEvent {
  return {
    kind: 'feedback',
    eventId: `f-${++seq}`,
    at: '2026-03-01T10:20:00.000Z',
    model: 'sepsis-alert',
    caseIdHash: H(caseId),
    type,
    modelVersion: null,
    observedAt: '2026-03-01T10:20:00.000Z',
    reason: null,
  };
}

const WEIGHTS: SourceWeights = { clinician_review: 2, downstream_outcome: 1, complaint: 0 };
const FROM = '2026-03-01T10:00:00.000Z';
const TO = '2026-03-01T10:10:00.000Z';

describe('measureLive (the pure join)', () => {
  // Hand-computed: see the comments on each event.
  const c1 = pred('c1', '2026-03-01T10:01:00.000Z', 0.8, 'canary', { latencyMs: 7 });
  const events: TelemetryEvent[] = [
    c1,
    c1, // the same event twice (a replayed segment line): counted once
    pred('c1', '2026-03-01T10:02:00.000Z', 0.1), // c1 again, lower score: still one case, alerting (max score)
    pred('c2', '2026-03-01T10:03:00.000Z', 0.3), // FN
    pred('c3', '2026-03-01T10:04:00.000Z', 0.6), // FP
    pred('c4', '2026-03-01T10:04:30.000Z', 0.2), // TN (clinician 0 outweighs downstream 1)
    pred('c5', '2026-03-01T10:05:00.000Z', 0.7), // alert, outcome after asOf → unlabelled
    pred('c6', '2026-03-01T10:06:00.000Z', 0.1), // only a complaint (weight 0) → unlabelled
    pred('p1', '2026-03-01T10:05:00.000Z', 0.9, 'production'), // TP (the later-observed clinician outcome wins the tie)
    pred('p2', '2026-03-01T10:07:00.000Z', 0.4, 'production'), // TN
    pred('p3', '2026-03-01T09:59:59.999Z', 0.55, 'production'), // before the interval
    pred('p4', '2026-03-01T10:10:00.000Z', 0.55, 'production'), // at `to`: excluded
    pred('p1', '2026-03-01T10:05:00.000Z', 0.9, 'shadow'), // shadow: ignored
    pred('p7', '2026-03-01T10:05:00.000Z', 0.9, 'production', { model: 'other-model' }), // another model
    pred('c1', '2026-03-01T10:06:00.000Z', 0.95, 'production'), // c1 crosses to production: counted on canary only
    outcome('c1', 1, 'clinician_review'),
    outcome('c2', 1, 'clinician_review'),
    outcome('c3', 0, 'downstream_outcome'),
    outcome('c4', 1, 'downstream_outcome'),
    outcome('c4', 0, 'clinician_review'),
    outcome('c5', 1, 'clinician_review', '2026-03-01T11:00:00.000Z', '2026-03-01T12:00:00.000Z'),
    outcome('c6', 0, 'complaint'),
    outcome('p1', 0, 'clinician_review', '2026-03-01T11:00:00.000Z'),
    outcome('p1', 1, 'clinician_review', '2026-03-01T11:30:00.000Z'),
    outcome('p2', 1, 'complaint'),
    outcome('p2', 0, 'clinician_review'),
    { ...outcome('p2', 1, 'clinician_review', '2026-03-01T13:00:00.000Z'), model: 'other-model' },
    fb('c3', 'override'),
    fb('c3', 'alert_dismissed'),
    fb('p9', 'override'), // a case outside the interval
  ];
  const m = measureLive(events, {
    model: 'sepsis-alert',
    from: FROM,
    to: TO,
    threshold: 0.5,
    weights: WEIGHTS,
    asOf: '2026-03-01T11:00:00.000Z',
  });

  it('counts the canary arm by case, with labels from the most heavily weighted source', () => {
    assert.deepEqual(m.arms.canary.stats, {
      n: 6,
      positives: 2,
      truePositives: 1,
      negatives: 2,
      trueNegatives: 1,
      alerts: 3,
      sensitivity: 0.5,
      specificity: 0.5,
      alertRate: 0.5,
    });
    assert.equal(m.arms.canary.unlabelled, 2);
    assert.equal(m.arms.canary.predictions, 7);
    assert.equal(m.arms.canary.overrides, 1);
    assert.equal(m.arms.canary.dismissedAlerts, 1);
    assert.equal(m.arms.canary.overrideRate, 1 / 3);
    assert.equal(m.arms.canary.p99LatencyMs, 7);
    assert.deepEqual(m.arms.canary.modelVersions, ['2.0.0']);
  });

  it('counts the production arm inside [from, to) only, without shadow, other models or crossed cases', () => {
    assert.deepEqual(m.arms.production.stats, {
      n: 2,
      positives: 1,
      truePositives: 1,
      negatives: 1,
      trueNegatives: 1,
      alerts: 1,
      sensitivity: 1,
      specificity: 1,
      alertRate: 0.5,
    });
    assert.equal(m.arms.production.unlabelled, 0);
    assert.equal(m.arms.production.predictions, 2);
    assert.equal(m.arms.production.overrides, 0);
    assert.equal(m.crossovers, 1);
  });

  it('defaults to equal weights and all outcomes read when no weights or asOf are given', () => {
    const d = measureLive(events, { model: 'sepsis-alert', from: FROM, to: TO, threshold: 0.5 });
    // c5's late outcome now counts (TP); c6's complaint counts (TN); c4: downstream 1 and clinician 0 tie at
    // weight 1, both observed 11:00 → the greater event id (the clinician one, added later) → 0.
    assert.deepEqual(
      [
        d.arms.canary.stats.positives,
        d.arms.canary.stats.truePositives,
        d.arms.canary.stats.negatives,
        d.arms.canary.stats.trueNegatives,
        d.arms.canary.unlabelled,
      ],
      [3, 2, 3, 2, 0],
    );
    // p2: complaint 1 (10:30 accepted, observed 11:00) vs clinician 0 (same observedAt) → greater event id → 0.
    assert.equal(d.arms.production.stats.trueNegatives, 1);
  });

  it('keeps only the named route-table and model versions', () => {
    const evs = [
      pred('a', '2026-03-01T10:01:00.000Z', 0.9, 'canary', { routeVersion: 2 }),
      pred('b', '2026-03-01T10:01:00.000Z', 0.9),
      pred('c', '2026-03-01T10:01:00.000Z', 0.9, 'canary', { modelVersion: '1.9.0' }),
    ];
    assert.equal(
      measureLive(evs, { model: 'sepsis-alert', from: FROM, to: TO, threshold: 0.5 }).arms.canary.stats.n,
      3,
    );
    assert.equal(
      measureLive(evs, { model: 'sepsis-alert', from: FROM, to: TO, threshold: 0.5, routeVersions: [3] }).arms.canary
        .stats.n,
      2,
    );
    assert.equal(
      measureLive(evs, {
        model: 'sepsis-alert',
        from: FROM,
        to: TO,
        threshold: 0.5,
        routeVersions: [3],
        modelVersions: { canary: '2.0.0' },
      }).arms.canary.stats.n,
      1,
    );
  });

  it('gives null rates for an empty arm and refuses an empty interval', () => {
    const e = measureLive([], { model: 'sepsis-alert', from: FROM, to: TO, threshold: 0.5 });
    assert.deepEqual(e.arms.canary.stats, {
      n: 0,
      positives: 0,
      truePositives: 0,
      negatives: 0,
      trueNegatives: 0,
      alerts: 0,
      sensitivity: null,
      specificity: null,
      alertRate: null,
    });
    assert.equal(e.arms.canary.p99LatencyMs, null);
    assert.throws(
      () => measureLive([], { model: 'sepsis-alert', from: TO, to: TO, threshold: 0.5 }),
      /empty or invalid interval/,
    );
  });

  it('counts failed requests per arm like predictions (interval, versions, duplicates), never as feedback', () => {
    const fail = (route: FailureEvent['route'], at: string, extra: Partial<FailureEvent> = {}): FailureEvent => ({
      kind: 'failure',
      eventId: `x-${++seq}`,
      at,
      model: 'sepsis-alert',
      modelVersion: route === 'canary' ? '2.0.0' : '1.4.0',
      route,
      routeVersion: 3,
      caseIdHash: H('zz'),
      status: route === 'shadow' ? null : 502,
      latencyMs: 3,
      reason: 'backend failed',
      ...extra,
    });
    const twice = fail('canary', '2026-03-01T10:01:00.000Z');
    const withFailures: TelemetryEvent[] = [
      ...events,
      twice,
      twice, // replayed: once
      fail('canary', '2026-03-01T10:02:00.000Z'),
      fail('production', '2026-03-01T10:03:00.000Z'),
      fail('shadow', '2026-03-01T10:03:00.000Z'), // a failed mirror is not an arm's request
      fail('canary', '2026-03-01T10:10:00.000Z'), // at `to`
      fail('canary', '2026-03-01T10:04:00.000Z', { modelVersion: '1.9.9' }), // another version
      fail('canary', '2026-03-01T10:04:00.000Z', { model: 'other-model' }),
    ];
    const q = {
      model: 'sepsis-alert',
      from: FROM,
      to: TO,
      threshold: 0.5,
      weights: WEIGHTS,
      asOf: '2026-03-01T11:00:00.000Z',
      modelVersions: { canary: '2.0.0', production: '1.4.0' },
    };
    const f = measureLive(withFailures, q);
    assert.deepEqual([f.arms.canary.failures, f.arms.production.failures], [2, 1]);
    assert.deepEqual([m.arms.canary.failures, m.arms.production.failures], [0, 0]);
    // Everything else is as without the failures (a failure is not a dismissed alert or an outcome).
    const strip = (x: typeof f) => ({
      ...x,
      arms: { canary: { ...x.arms.canary, failures: 0 }, production: { ...x.arms.production, failures: 0 } },
    });
    assert.deepEqual(strip(f), strip(measureLive(events, q)));
  });

  it('takes the nearest-rank p99', () => {
    const xs = Array.from({ length: 200 }, (_, i) => i + 1);
    assert.equal(nearestRank(xs, 0.99), 198);
    assert.equal(nearestRank([5, 9], 0.99), 9);
    assert.equal(nearestRank([], 0.99), null);
  });
});

describe('windowsBetween', () => {
  it('lists hourly windows inclusive of both ends', () => {
    assert.deepEqual(windowsBetween('2026-03-01T22:59:00.000Z', '2026-03-02T01:00:00.000Z'), [
      '2026-03-01T22',
      '2026-03-01T23',
      '2026-03-02T00',
      '2026-03-02T01',
    ]);
    assert.deepEqual(windowsBetween('2026-03-01T10:10:00.000Z', '2026-03-01T10:20:00.000Z'), ['2026-03-01T10']);
  });
});

describe('TelemetryLiveSource (reading segments)', () => {
  it('reads the interval’s windows and later windows only where they name its cases, each segment once', async () => {
    const objects = new Map<string, Buffer>();
    const byWindow = new Map<string, SegmentPointer[]>();
    const put = (events: TelemetryEvent[]): string => {
      const bytes = segmentBytes(events);
      const ref: EvidenceRef = {
        key: `evidence/sha256/${events[0]!.eventId}`,
        sha256: events[0]!.eventId.padEnd(64, '0'),
        size: bytes.length,
        mediaType: 'application/x-ndjson',
      };
      objects.set(ref.key, bytes);
      for (const p of pointersFor(events, ref)) byWindow.set(p.window, [...(byWindow.get(p.window) ?? []), p]);
      return ref.key;
    };
    // One segment straddling 10:xx and 11:xx; a later unrelated segment; a later outcome for c2.
    put([
      pred('c1', '2026-03-01T10:59:00.000Z', 0.9),
      outcome('c1', 1, 'clinician_review', '2026-03-01T11:00:00.000Z', '2026-03-01T11:00:01.000Z'),
    ]);
    put([pred('c2', '2026-03-01T10:58:00.000Z', 0.2, 'production')]);
    const unrelated = put([
      outcome('zz', 1, 'clinician_review', '2026-03-01T12:00:00.000Z', '2026-03-01T12:00:01.000Z'),
    ]);
    put([outcome('c2', 1, 'downstream_outcome', '2026-03-01T12:00:00.000Z', '2026-03-01T12:30:00.000Z')]);
    const reads: string[] = [];
    const source = new TelemetryLiveSource(
      { pointers: async (w) => byWindow.get(w) ?? [] },
      {
        getJson: () => Promise.reject(new Error('unused')),
        getBytes: async (key) => {
          reads.push(key);
          return objects.get(key)!;
        },
      },
      () => new Date('2026-03-01T13:00:00.000Z'),
    );
    const r = await source.measure({
      model: 'sepsis-alert',
      from: '2026-03-01T10:50:00.000Z',
      to: '2026-03-01T11:00:00.000Z',
      threshold: 0.5,
    });
    assert.deepEqual([r.arms.canary.stats.n, r.arms.canary.stats.truePositives, r.arms.canary.unlabelled], [1, 1, 0]);
    // c2 (production, 0.2) missed a positive whose outcome came in the 12:xx window.
    assert.deepEqual(
      [r.arms.production.stats.n, r.arms.production.stats.positives, r.arms.production.stats.truePositives],
      [1, 1, 0],
    );
    // The unrelated 12:xx segment was never fetched; the straddling one was fetched once though listed twice.
    assert.equal(reads.length, 3);
    assert.ok(!reads.includes(unrelated));
    assert.deepEqual(
      r.segments.map((s) => s.window),
      ['2026-03-01T10', '2026-03-01T10', '2026-03-01T11', '2026-03-01T12'],
    );
  });
});
