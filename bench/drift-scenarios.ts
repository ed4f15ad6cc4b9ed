/**
 * Drift windows for the benchmark (bench/drift.bench.ts) and the tests (test/unit/typed-drift.test.ts): a locked
 * reference of 2,000 rows and windows of n rows per feature type, with or without a shift, measured offline (the
 * values) or through the gateway (FeatureSketcher → mergeWindowSketches → sketchFeatureDrift), and judged by
 * judgeDrift as a monitoring window with that one feature.
 */
import { createHash } from 'node:crypto';
import { sketchFeatureDrift } from '../src/activities/live-source/typed-drift';
import { featureDriftRecord } from '../src/activities/live-source/typed-drift';
import { DriftPolicySchema, type DriftMeasurement, type FeatureDrift } from '../src/domain';
import { FeatureSketcher } from '../src/gateway/feature-sketches';
import { judgeDrift } from '../src/judging';
import { quantileEdges } from '../src/stats/drift';
import { continuousDrift, discreteDriftOfCounts, inferFeatureType, valueCounts } from '../src/stats/feature-drift';
import type { SketchEvent } from '../src/telemetry';
import { mergeWindowSketches } from '../src/telemetry/input-sketches';

export type Kind = 'continuous' | 'binary' | 'count' | 'categorical';

/**
 * A seeded generator (the windows are reproducible): sfc32, 128 bits of state, its state taken from SHA-256 of the
 * key. Every window and every reference has its own key, so adjacent keys give unrelated streams. The bench used to
 * run mulberry32 streams from adjacent integer seeds: one cycle of 2^32 states, of which a 100,000-window count run
 * draws about 10^9, so thousands of pairs of references shared stretches of one stream (docs/benchmarks.md, drift).
 */
export function rng(key: number | string): () => number {
  const d = createHash('sha256').update(`vigil-drift-bench/${key}`).digest();
  let a = d.readUInt32LE(0);
  let b = d.readUInt32LE(4);
  let c = d.readUInt32LE(8);
  let n = d.readUInt32LE(12);
  const next = () => {
    const t = (((a + b) | 0) + n) | 0;
    n = (n + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 12; i++) next();
  return next;
}

const normal = (r: () => number) => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
const pick = (r: () => number, probs: readonly number[]) => {
  let u = r();
  for (let i = 0; i < probs.length; i++) if ((u -= probs[i]!) < 0) return i;
  return probs.length - 1;
};
const binomial = (r: () => number, n: number, p: number) => {
  let k = 0;
  for (let i = 0; i < n; i++) if (r() < p) k++;
  return k;
};

/** No shift, and the shift whose detection the bench reports (issue #22's examples). */
export const SCENARIOS: Record<Kind, { label: string; draw: (r: () => number, shifted: boolean) => number }> = {
  continuous: { label: 'N(0,1); shift +0.5 SD', draw: (r, s) => Math.fround(normal(r) + (s ? 0.5 : 0)) },
  binary: { label: '0/1, P(1) 0.296; shift to 0.396', draw: (r, s) => (r() < (s ? 0.396 : 0.296) ? 1 : 0) },
  count: { label: '0..5 Binomial(5, 0.3); shift p to 0.36', draw: (r, s) => binomial(r, 5, s ? 0.36 : 0.3) },
  categorical: {
    label: 'codes 0/1/2 at 50/30/20; shift to 50/25/25',
    draw: (r, s) => pick(r, s ? [0.5, 0.25, 0.25] : [0.5, 0.3, 0.2]),
  },
};

export const POLICY = DriftPolicySchema.parse({ onDrift: 'notify' });

export interface Reference {
  kind: Kind;
  values: number[];
  edges: number[];
}

export function reference(kind: Kind, seed: number | string, rows = 2000): Reference {
  const r = rng(`reference/${kind}/${rows}/${seed}`);
  const values = Array.from({ length: rows }, () => SCENARIOS[kind].draw(r, false));
  return { kind, values, edges: quantileEdges(values, 10) };
}

export function drawWindow(kind: Kind, n: number, shifted: boolean, seed: number | string): number[] {
  const r = rng(`window/${kind}/${n}/${shifted ? 'shifted' : 'null'}/${seed}`);
  return Array.from({ length: n }, () => SCENARIOS[kind].draw(r, shifted));
}

/** The feature's drift measured from the values (offline, as the simulated source does). */
export function offlineFeature(ref: Reference, window: readonly number[]): FeatureDrift {
  const type = inferFeatureType(ref.values);
  const d =
    type === 'continuous'
      ? continuousDrift(ref.values, window, ref.edges)
      : discreteDriftOfCounts(type, valueCounts(ref.values), valueCounts(window));
  return featureDriftRecord('x', d);
}

/** The feature's drift measured through the gateway's telemetry: sketches and exact counts, one 10 s bucket per 100 rows. */
export function gatewayFeature(ref: Reference, window: readonly number[]): FeatureDrift | string {
  const events: SketchEvent[] = [];
  const sketcher = new FeatureSketcher({ emit: (e) => events.push(e), bucketMs: 10_000 });
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  window.forEach((v, i) =>
    sketcher.add(
      'm',
      { featureNames: ['x'], features: Float32Array.of(v), rows: 1, quality: [], missing: null },
      t0 + Math.floor(i / 100) * 10_000,
    ),
  );
  sketcher.flush();
  const w = mergeWindowSketches(events, 'm', '2025-01-01T00:00:00Z', '2027-01-01T00:00:00Z');
  const r = sketchFeatureDrift('x', ref.values, ref.edges, w.features.get('x')!, w.values.get('x') ?? null);
  return 'notCompared' in r ? r.notCompared : r.feature;
}

/** judgeDrift on a window with this one feature (performance and alert rate not judged). */
export function judgeWindow(feature: FeatureDrift, cases: number) {
  const m: DriftMeasurement = {
    window: 'w',
    interval: 0,
    cases,
    reference: { dataset: 'ref', sha256: '0'.repeat(64), rows: 2000 },
    data: { features: [feature], notCompared: [] },
    performance: {
      current: { interval: 0, labelled: 0, positives: 0, truePositives: 0, scoreSum: 0 },
      windows: [0],
      labelled: 0,
      positives: 0,
      truePositives: 0,
      sensitivity: null,
      calibrationInTheLarge: null,
      baseline: { sensitivity: null, calibrationInTheLarge: null },
    },
    workflow: { alertRate: null, baselineAlertRate: null, alertRateRatio: null, overrideRate: null },
  };
  return judgeDrift(m, POLICY);
}

export interface Rates {
  windows: number;
  /** Windows the judge refused as too small (data drift not judged). */
  notJudged: number;
  alarms: number;
  /** Windows whose PSI exceeded maxPsi (alarming or not). */
  psiOver: number;
  maxPsi: number;
}

/** Alarm rate over `windows` windows of n rows. */
export function alarmRates(
  kind: Kind,
  n: number,
  shifted: boolean,
  via: 'offline' | 'gateway',
  windows: number,
  seed = 1,
): Rates {
  const out: Rates = { windows, notJudged: 0, alarms: 0, psiOver: 0, maxPsi: 0 };
  for (let w = 0; w < windows; w++) {
    // A fresh reference per window: a false-alarm rate is over both samples (docs/statistics.md on a fixed one).
    const ref = reference(kind, `${seed}/${w}`);
    const win = drawWindow(kind, n, shifted, `${seed}/${w}`);
    const f = via === 'offline' ? offlineFeature(ref, win) : gatewayFeature(ref, win);
    if (typeof f === 'string') throw new Error(`not compared: ${f}`);
    if (f.psi > POLICY.maxPsi) out.psiOver++;
    out.maxPsi = Math.max(out.maxPsi, f.psi);
    const d = judgeWindow(f, n);
    if (d.reasons.some((x) => x.startsWith('data drift not judged'))) out.notJudged++;
    else if (d.verdict === 'fail') out.alarms++;
  }
  return out;
}
