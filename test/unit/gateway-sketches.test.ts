import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FeatureSketcher, GATEWAY_SKETCH_ALPHA } from '../../src/gateway/feature-sketches';
import { toFeatureMatrix, type InferRequest } from '../../src/gateway/oip';
import {
  mergeWindowSketches,
  MAX_SKETCH_SITES,
  siteParameter,
  windowSiteMix,
  type SketchEvent,
} from '../../src/telemetry';
import { categoricalDrift } from '../../src/stats/drift';
import { LogSketchBuilder } from '../../src/stats/log-sketch';

const FEATURES = ['age', 'lactate'];
const gamma = (1 + GATEWAY_SKETCH_ALPHA) / (1 - GATEWAY_SKETCH_ALPHA);
/** The bucket a positive value belongs to, computed here independently of the sketch. */
const bucketOf = (v: number): string => String(Math.ceil(Math.log(v) / Math.log(gamma)));

function request(age: number | null, lactate: number | null, rows = 1): InferRequest {
  return {
    parameters: { case_id: 'c' },
    inputs: [
      { name: 'age', shape: [rows], datatype: 'FP32', data: Array.from({ length: rows }, () => age) },
      { name: 'lactate', shape: [rows], datatype: 'FP32', data: Array.from({ length: rows }, () => lactate) },
    ],
  };
}

describe('gateway input sketches (drift without case-level values)', () => {
  it('one event per model per aligned bucket, stamped with its end, with the rows served and imputed nulls counted as missing', () => {
    const events: SketchEvent[] = [];
    const s = new FeatureSketcher({ bucketMs: 10_000, emit: (e) => events.push(e) });
    const base = 1_700_000_000_000; // a multiple of 10 s, in the past (a bucket is stamped no later than now)
    s.add('sepsis-alert', toFeatureMatrix(request(0.5, 2.25), FEATURES), base + 100);
    s.add('sepsis-alert', toFeatureMatrix(request(-0.5, null, 3), FEATURES), base + 9_999);
    s.add('other-model', toFeatureMatrix(request(1, 1), FEATURES), base + 5_000);
    assert.equal(events.length, 0, 'nothing before the bucket ends');
    s.add('sepsis-alert', toFeatureMatrix(request(4, 4), FEATURES), base + 10_000);
    assert.equal(events.length, 2);
    const [first, other] = events;
    assert.deepEqual(
      [first!.model, first!.at, first!.seconds, first!.rows],
      ['sepsis-alert', new Date(base + 10_000).toISOString(), 10, 4],
    );
    assert.deepEqual([other!.model, other!.rows], ['other-model', 1]);
    const age = first!.features.age!;
    assert.deepEqual([age.count, age.missing, age.zero], [4, 0, 0]);
    assert.deepEqual(age.positive, { [bucketOf(0.5)]: 1 });
    assert.deepEqual(age.negative, { [bucketOf(0.5)]: 3 });
    const lactate = first!.features.lactate!;
    // The three nulls were imputed as 0 for the model; the sketch counts them as missing, not as zeros.
    assert.deepEqual([lactate.count, lactate.missing, lactate.zero], [1, 3, 0]);
    assert.deepEqual(lactate.positive, { [bucketOf(2.25)]: 1 });
    // The next bucket holds only what came after; flush emits it now (shutdown).
    s.flush();
    assert.equal(events.length, 3);
    assert.deepEqual([events[2]!.rows, events[2]!.features.age!.positive], [1, { [bucketOf(4)]: 1 }]);
    // No raw value is written: only bucket indexes and counts.
    assert.ok(!JSON.stringify(events).includes('2.25'));
  });

  it('the gateway timer closes idle buckets: rollover emits a bucket that saw rows once it has ended, and nothing twice', () => {
    const events: SketchEvent[] = [];
    const s = new FeatureSketcher({ bucketMs: 1_000, emit: (e) => events.push(e) });
    s.add('m', toFeatureMatrix(request(1, 1), FEATURES), 5_500);
    s.rollover(5_999);
    assert.equal(events.length, 0);
    s.rollover(6_000);
    s.rollover(9_000);
    assert.equal(events.length, 1);
    assert.equal(events[0]!.at, new Date(6_000).toISOString());
  });

  it('counts rows per site, bounded: past MAX_SKETCH_SITES distinct sites, rows go to siteOverflow', () => {
    const events: SketchEvent[] = [];
    const s = new FeatureSketcher({ bucketMs: 1_000, emit: (e) => events.push(e) });
    s.add('m', toFeatureMatrix(request(1, 1, 2), FEATURES), 5_100, 'site-a');
    s.add('m', toFeatureMatrix(request(1, 1), FEATURES), 5_200, 'site-b');
    s.add('m', toFeatureMatrix(request(1, 1), FEATURES), 5_300, 'site-a');
    s.add('m', toFeatureMatrix(request(1, 1), FEATURES), 5_400); // no site: rows, but no site count
    s.add('m', toFeatureMatrix(request(1, 1), FEATURES), 5_500, siteParameter(7)); // not a string: no site either
    s.add('m', toFeatureMatrix(request(1, 1), FEATURES), 5_600, siteParameter('x'.repeat(129))); // over-long: likewise
    for (let i = 0; i < MAX_SKETCH_SITES + 5; i++) s.add('m', toFeatureMatrix(request(1, 1), FEATURES), 5_700, `s${i}`);
    s.add('m', toFeatureMatrix(request(1, 1), FEATURES), 5_800, 'site-b'); // already counted: still counted past the limit
    s.rollover(6_000);
    const e = events[0]!;
    assert.equal(Object.keys(e.sites!).length, MAX_SKETCH_SITES);
    assert.deepEqual([e.sites!['site-a'], e.sites!['site-b'], e.siteOverflow], [3, 2, 7]);
    assert.equal(siteParameter('x'.repeat(128)), 'x'.repeat(128));
    assert.equal(e.rows, 8 + MAX_SKETCH_SITES + 5);
    // The next bucket starts empty.
    s.add('m', toFeatureMatrix(request(1, 1), FEATURES), 6_100, 'site-c');
    s.flush();
    assert.deepEqual([events[1]!.sites, events[1]!.siteOverflow], [{ 'site-c': 1 }, undefined]);
  });

  it("a model's sketchCentres: each feature is sketched as v − centre and its sketch names the centre", () => {
    const events: SketchEvent[] = [];
    const s = new FeatureSketcher({
      bucketMs: 1_000,
      emit: (e) => events.push(e),
      centres: new Map([['m', { age: 60 }]]),
    });
    s.add('m', toFeatureMatrix(request(62.5, 2.25), FEATURES), 5_500);
    s.add('m', toFeatureMatrix(request(57.5, 2.25), FEATURES), 5_600);
    s.add('other', toFeatureMatrix(request(62.5, 2.25), FEATURES), 5_700);
    s.flush();
    const m = events.find((e) => e.model === 'm')!;
    assert.equal(m.features.age!.centre, 60);
    assert.deepEqual(
      [m.features.age!.positive, m.features.age!.negative],
      [{ [bucketOf(2.5)]: 1 }, { [bucketOf(2.5)]: 1 }],
    );
    // Features without a centre, and other models, are sketched around 0 as before (no centre written).
    assert.equal('centre' in m.features.lactate!, false);
    assert.deepEqual(events.find((e) => e.model === 'other')!.features.age!.positive, { [bucketOf(62.5)]: 1 });
  });
});

describe("a window's input sketches (mergeWindowSketches)", () => {
  const sketchOf = (values: number[], alpha = GATEWAY_SKETCH_ALPHA) => {
    const b = new LogSketchBuilder(alpha);
    for (const v of values) b.add(v);
    return b.toSketch();
  };
  const event = (id: string, at: string, features: SketchEvent['features'], model = 'm'): SketchEvent => ({
    kind: 'sketch',
    eventId: id,
    at,
    seconds: 10,
    model,
    rows: 2,
    features,
  });
  const FROM = '2026-03-01T10:00:00.000Z';
  const TO = '2026-03-01T10:01:00.000Z';

  it('merges the buckets that ended in [from, to) once each, of this model only; a feature whose sketches cannot be merged is named, not merged in part', () => {
    const ok = event('a', FROM, { age: sketchOf([1, 2]), lactate: sketchOf([3, 4]) });
    const events: SketchEvent[] = [
      ok,
      ok, // the same event twice (a replayed segment)
      event('b', '2026-03-01T10:00:30.000Z', { age: sketchOf([5, 6], 0.001), lactate: sketchOf([7, 8]) }),
      event('c', TO, { lactate: sketchOf([100]) }), // ends at `to`: the next window's
      event('d', '2026-03-01T10:00:40.000Z', { lactate: sketchOf([100]) }, 'other-model'),
      event('e', '2026-03-01T10:00:50.000Z', { glucose: { ...sketchOf([1]), count: 5 } }), // counts that do not add up
    ];
    const w = mergeWindowSketches(events, 'm', FROM, TO);
    assert.deepEqual([w.buckets, w.rows], [3, 6]);
    assert.deepEqual([...w.features.keys()], ['lactate']);
    assert.deepEqual(w.features.get('lactate'), sketchOf([3, 4, 7, 8]));
    assert.deepEqual([...w.unusable.keys()], ['age', 'glucose']);
    assert.match(w.unusable.get('age')!, /^sketches of different accuracies in the window \(α 0\.01 and 0\.001\)/);
    assert.match(w.unusable.get('glucose')!, /^an unreadable sketch/);
  });

  it('sketches of one centre merge; a feature sketched around different centres in the window is named, not merged', () => {
    const centred = (values: number[], centre: number) => {
      const b = new LogSketchBuilder(GATEWAY_SKETCH_ALPHA, centre);
      for (const v of values) b.add(v);
      return b.toSketch();
    };
    const w = mergeWindowSketches(
      [
        event('a', FROM, { age: centred([61, 62], 60), lactate: centred([1], 2) }),
        event('b', '2026-03-01T10:00:30.000Z', { age: centred([59], 60), lactate: centred([3], 0) }),
      ],
      'm',
      FROM,
      TO,
    );
    assert.deepEqual(w.features.get('age'), centred([61, 62, 59], 60));
    assert.deepEqual(
      [...w.unusable],
      [['lactate', 'sketches around different centres in the window (2 and 0: gateways with different sketchCentres)']],
    );
  });

  it("windowSiteMix: the buckets' site counts against the reference's sites, or why they cannot be compared", () => {
    const ref = ['a', 'a', 'a', 'b', 'b', 'c'];
    const withSites = (id: string, sites: Record<string, number> | undefined, overflow?: number): SketchEvent => ({
      ...event(id, FROM, {}),
      ...(sites ? { sites } : {}),
      ...(overflow ? { siteOverflow: overflow } : {}),
    });
    const mix = (...events: SketchEvent[]) => windowSiteMix(ref, mergeWindowSketches(events, 'm', FROM, TO));
    const both = mix(withSites('1', { a: 10, b: 2 }), withSites('2', { a: 5, c: 3 }));
    assert.ok('drift' in both);
    assert.deepEqual(both.drift, categoricalDrift(ref, [...Array<string>(15).fill('a'), 'b', 'b', 'c', 'c', 'c']));
    assert.deepEqual(mix(withSites('1', { a: 1 }), withSites('2', undefined)), {
      notCompared: '1 of 2 input sketch buckets count no site (older gateways)',
    });
    assert.deepEqual(mix(withSites('1', undefined)), {
      notCompared: 'the gateway counts no site in this window (older gateways)',
    });
    assert.deepEqual(mix(withSites('1', { a: 1 }, 4)), {
      notCompared: "4 rows came from sites past a bucket's limit of distinct sites",
    });
    assert.deepEqual(mix(withSites('1', {})), { notCompared: 'no request in the window named a site' });
    assert.deepEqual(windowSiteMix(null, mergeWindowSketches([withSites('1', { a: 1 })], 'm', FROM, TO)), {
      notCompared: 'the evaluation split has no site column',
    });
  });
});
