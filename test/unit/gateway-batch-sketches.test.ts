/**
 * Input sketches of large batch requests are taken on the prediction encoder thread, with their rows: what the WAL
 * holds for a model's window must be exactly what one in-thread sketcher makes of the same requests (features,
 * exact value counts, rows, sites, centres), whichever thread sketched each request, and nothing may be missing
 * after `flush` or `close`.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { FeatureSketcher } from '../../src/gateway/feature-sketches';
import { InferenceTelemetry } from '../../src/gateway/inference-telemetry';
import type { FeatureMatrix } from '../../src/gateway/oip';
import { centreOf } from '../../src/stats/log-sketch';
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

async function sketchEvents(dir: string): Promise<SketchEvent[]> {
  const wal = await WriteAheadLog.open({ dir });
  try {
    return [...wal.scanLocal()].filter((e): e is SketchEvent => e.kind === 'sketch');
  } finally {
    await wal.close();
  }
}

describe('input sketches of large batches on the encoder thread', () => {
  it('the WAL holds the same window sketches as one in-thread sketcher of the same requests, every row once', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-batch-sketches-'));
    try {
      const wal = await WriteAheadLog.open({ dir });
      // An hour's bucket: every request of the test falls in one or two buckets; the window below covers them all.
      // Batches of 64 rows or more are encoded on the recorder's thread (its default `workerMinRows`).
      const opts = { wal, caseIdKey: KEY, sketchBucketMs: 3_600_000, sketchCentres: CENTRES };
      const telemetry = new InferenceTelemetry(opts);
      const reference: SketchEvent[] = [];
      const alone = new FeatureSketcher({ bucketMs: 3_600_000, centres: CENTRES, emit: (e) => reference.push(e) });
      const rand = rng(15);
      // Small and large requests interleaved, two column orders (the thread is told the names when they change), two sites.
      const sizes = [1, 200, 32, 1000, 64, 63, 500, 1000, 7];
      let threadRows = 0;
      sizes.forEach((rows, i) => {
        const names = i % 3 === 1 ? [...NAMES].reverse() : NAMES;
        const m = matrix(rand, rows, names);
        const site = i % 2 === 0 ? 'site-a' : 'site-b';
        const atMs = Date.now();
        if (rows >= 64) threadRows += rows;
        telemetry.served({
          atMs,
          model: 'm',
          modelVersion: '1.0.0',
          route: 'production',
          routeVersion: 1,
          caseIds: Array.from({ length: rows }, (_, r) => `case-${i}-${r}`),
          scores: new Float64Array(rows).fill(0.5),
          threshold: 0.5,
          latencyMs: 1,
          matrix: m,
          site,
        });
        alone.add('m', m, atMs, site);
      });
      // `flush` alone (no close) has every bucket of both threads in the WAL.
      await telemetry.flush();
      await wal.flush();
      const events = [...wal.scanLocal()].filter((e): e is SketchEvent => e.kind === 'sketch');
      await telemetry.close();
      await wal.close();
      alone.flush();

      const window = (es: readonly TelemetryEvent[]) =>
        mergeWindowSketches(es, 'm', '1970-01-01T00:00:00.000Z', '2100-01-01T00:00:00.000Z');
      const got = window(events);
      const want = window(reference);
      assert.equal(
        got.rows,
        sizes.reduce((a, b) => a + b, 0),
      );
      assert.deepEqual(got.features, want.features);
      assert.deepEqual(got.values, want.values);
      assert.deepEqual([got.sites.counts, got.sites.overflow], [want.sites.counts, want.sites.overflow]);
      assert.deepEqual(got.unusable, want.unusable);
      assert.equal(centreOf(got.features.get('age')!), 60);
      assert.equal(got.values.get('sex')!.size, 2, 'sex counted exactly (0 and 1)');
      // Both threads sketched: the large requests' rows are in events of their own.
      const rowsByEvent = events.map((e) => e.rows).sort((a, b) => a - b);
      assert.ok(events.length >= 2, `${events.length} sketch events`);
      assert.ok(
        rowsByEvent.includes(threadRows) || events.length > 2,
        `the thread's event counts the ${threadRows} large-batch rows (${rowsByEvent.join(', ')})`,
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("close alone emits the thread's open buckets, and every row is a prediction in the WAL", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-batch-sketches-'));
    try {
      const wal = await WriteAheadLog.open({ dir });
      const telemetry = new InferenceTelemetry({
        wal,
        caseIdKey: KEY,
        sketchBucketMs: 3_600_000,
        sketchCentres: CENTRES,
      });
      const rand = rng(7);
      for (const rows of [1000, 5, 300]) {
        telemetry.served({
          atMs: Date.now(),
          model: 'm',
          modelVersion: '1.0.0',
          route: 'production',
          routeVersion: 1,
          caseIds: Array.from({ length: rows }, (_, r) => `c-${rows}-${r}`),
          scores: new Float64Array(rows),
          threshold: undefined,
          latencyMs: 1,
          matrix: matrix(rand, rows, NAMES),
          site: null,
        });
      }
      await telemetry.close();
      await wal.close();
      const events = await sketchEvents(dir);
      assert.equal(
        events.reduce((a, e) => a + e.rows, 0),
        1305,
      );
      // The thread's bucket (1,300 rows) and the request thread's (5), or more if the hour turned during the test.
      assert.ok(events.some((e) => e.rows === 1300) || events.length > 2, events.map((e) => e.rows).join(', '));
      const reopened = await WriteAheadLog.open({ dir });
      try {
        const predictions = [...reopened.scanLocal()].filter((e) => e.kind === 'prediction');
        assert.equal(predictions.length, 1305);
      } finally {
        await reopened.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a thread behind hands work back: sketches past a short backlog and encoding past the bound, every row once', async () => {
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
      // first few carry their sketches, the next ones up to the 100,000-row bound only their rows, the last 10
      // are encoded here; every row must be one prediction and sketched once.
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
      assert.ok(sketches.length >= 2, `both threads sketched (${sketches.map((e) => e.rows).join(', ')})`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
