import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FeatureSketcher, GATEWAY_SKETCH_ALPHA } from '../../src/gateway/feature-sketches';
import { toFeatureMatrix, type InferRequest } from '../../src/gateway/oip';
import type { SketchEvent } from '../../src/telemetry';

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
    assert.deepEqual([first!.model, first!.at, first!.seconds, first!.rows], ['sepsis-alert', new Date(base + 10_000).toISOString(), 10, 4]);
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
});
