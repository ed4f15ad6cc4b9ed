/**
 * The prediction encoder thread far behind: past its backlog bound the request thread encodes large batches itself
 * (as the thread does: one line per batch). Every row must still be one prediction in the WAL, and every row's
 * inputs sketched once.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { FeatureSketcher } from '../../src/gateway/feature-sketches';
import { InferenceTelemetry } from '../../src/gateway/inference-telemetry';
import type { FeatureMatrix } from '../../src/gateway/oip';
import { mergeWindowSketches, WriteAheadLog, type SketchEvent, type TelemetryEvent } from '../../src/telemetry';

const KEY = 'case-id-key-0123456789';
const NAMES = ['age', 'lactate', 'sex'];
const CENTRES = new Map([['m', { age: 60 }]]);

/** A deterministic pseudo-random generator (mulberry32). */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `rows` rows in the column order `names`: age ~ 60 ± 15, lactate continuous with some missing, sex 0/1. */
function matrix(rand: () => number, rows: number, names: readonly string[]): FeatureMatrix {
  const F = names.length;
  const features = new Float32Array(rows * F);
  let missing: Uint8Array | null = null;
  for (let r = 0; r < rows; r++)
    for (let k = 0; k < F; k++) {
      const f = names[k];
      if (f === 'lactate' && rand() < 0.05) {
        (missing ??= new Uint8Array(rows * F))[r * F + k] = 1;
        continue;
      }
      features[r * F + k] = f === 'age' ? 60 + 15 * (rand() - 0.5) : f === 'sex' ? (rand() < 0.4 ? 1 : 0) : rand() * 4;
    }
  return { featureNames: names, features, rows, quality: missing ? ['missing_value'] : [], missing };
}

describe('prediction encoder thread behind (large batches)', () => {
  it('a burst past the backlog bound: every row one prediction, every row sketched once', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-batch-sketches-'));
    try {
      const wal = await WriteAheadLog.open({ dir });
      const telemetry = new InferenceTelemetry({
        wal,
        caseIdKey: KEY,
        sketchBucketMs: 3_600_000,
        sketchCentres: CENTRES,
      });
      const reference: SketchEvent[] = [];
      const alone = new FeatureSketcher({ bucketMs: 3_600_000, centres: CENTRES, emit: (e) => reference.push(e) });
      const rand = rng(3);
      // 110 batches of 1,000 rows in one synchronous burst: the thread cannot have encoded any of them yet, so the
      // first 100 go to it (its 100,000-row bound) and the last 10 are encoded on this thread.
      const batches = 110;
      for (let i = 0; i < batches; i++) {
        const m = matrix(rand, 1000, NAMES);
        const atMs = Date.now();
        telemetry.served({
          atMs,
          model: 'm',
          modelVersion: '1.0.0',
          route: 'production',
          routeVersion: 1,
          caseIds: Array.from({ length: 1000 }, (_, r) => `b-${i}-${r}`),
          scores: new Float64Array(1000).fill(0.25),
          threshold: 0.5,
          latencyMs: 1,
          matrix: m,
          site: 'site-a',
        });
        alone.add('m', m, atMs, 'site-a');
      }
      await telemetry.close();
      await wal.close();
      alone.flush();
      const reopened = await WriteAheadLog.open({ dir });
      let events: TelemetryEvent[];
      try {
        events = [...reopened.scanLocal()];
      } finally {
        await reopened.close();
      }
      const predictions = events.filter((e) => e.kind === 'prediction');
      assert.equal(predictions.length, batches * 1000);
      assert.equal(new Set(predictions.map((e) => e.caseIdHash)).size, batches * 1000, 'each row once');
      const sketches = events.filter((e): e is SketchEvent => e.kind === 'sketch');
      const window = (es: readonly TelemetryEvent[]) =>
        mergeWindowSketches(es, 'm', '1970-01-01T00:00:00.000Z', '2100-01-01T00:00:00.000Z');
      const got = window(sketches);
      const want = window(reference);
      assert.equal(got.rows, batches * 1000);
      assert.deepEqual(got.features, want.features);
      assert.deepEqual(got.values, want.values);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
