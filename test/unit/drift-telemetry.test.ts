/**
 * Drift surveillance from gateway telemetry: the monitoring window's input sketches against the locked evaluation
 * split (the demo's), the released model's production predictions joined with outcomes, and its overrides — each
 * checked against an independent computation on the same numbers.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { gatewayTelemetryLiveSource } from '../../src/activities/live-source';
import { monitoringActivities } from '../../src/activities/monitoring';
import type { ArmStats } from '../../src/domain';
import { GATEWAY_SKETCH_ALPHA } from '../../src/gateway/feature-sketches';
import { createLogger } from '../../src/logging/logger';
import { binCounts, categoricalDrift, psi, quantileEdges } from '../../src/stats/drift';
import { LogSketchBuilder } from '../../src/stats/log-sketch';
import type { TelemetryEvent, TelemetryLiveSource } from '../../src/telemetry';
import { validRequest } from '../support/fixtures';
import { memoryEvidence, segmentSource } from '../support/memory-evidence';

const DEMO = path.join(__dirname, '../../demo');
const MODEL = 'sepsis-alert';
const FROM = '2026-03-01T10:00:00.000Z';
const TO = '2026-03-01T10:10:00.000Z';
const H = (c: string): string => crypto.createHash('sha256').update(c).digest('hex');

const source = (events: TelemetryEvent[]): TelemetryLiveSource =>
  segmentSource(events, { now: '2026-03-01T11:00:00.000Z' }).source;

const at = (s: number): string => new Date(Date.parse(FROM) + s * 1000).toISOString();
function prediction(caseId: string, score: number, s: number, over: Record<string, unknown> = {}): TelemetryEvent {
  return {
    kind: 'prediction',
    eventId: `p-${caseId}-${s}`,
    at: at(s),
    model: MODEL,
    modelVersion: '2.0.0',
    route: 'production',
    routeVersion: 3,
    caseIdHash: H(caseId),
    score,
    decision: score >= 0.5,
    latencyMs: 1,
    quality: [],
    ...over,
  } as TelemetryEvent;
}
function outcome(caseId: string, label: 0 | 1): TelemetryEvent {
  return {
    kind: 'outcome',
    eventId: `o-${caseId}`,
    at: at(700),
    model: MODEL,
    caseIdHash: H(caseId),
    label,
    source: 'clinician_review',
    observedAt: at(650),
  };
}

describe('drift surveillance from gateway telemetry (observeDrift, VIGIL_LIVE_SOURCE=telemetry)', () => {
  it('data drift from the input sketches, performance and alert burden from the predictions and outcomes, overrides from feedback', async () => {
    const evidence = memoryEvidence();
    const csv = fs.readFileSync(path.join(DEMO, 'data/evaluation.csv'));
    const modelBytes = fs.readFileSync(path.join(DEMO, 'models/sepsis-alert-2.0.0.json'));
    const dataset = await evidence.putBytes(csv, 'text/csv');
    const model = await evidence.putBytes(modelBytes, 'application/json');
    const request = validRequest({
      candidate: { version: '2.0.0', artifact: { key: model.key, sha256: model.sha256 } },
      incumbent: { version: '1.4.0', artifact: { key: 'models/i.json', sha256: 'b'.repeat(64) } },
    });
    request.datasets = request.datasets.map((d) =>
      d.role === 'evaluation' ? { ...d, format: 'csv', artifact: { key: dataset.key, sha256: dataset.sha256 } } : d,
    );
    request.policy.operatingThreshold = 0.5;
    request.policy.monitoring.intervalSeconds = 600;

    // The window's inputs: the evaluation split's own rows, x0 shifted by +0.5 (float32, as the gateway sees them).
    const rows = csv.toString('utf8').trim().split('\n');
    const header = rows[0]!.split(',');
    const col = (name: string): number[] => rows.slice(1).map((r) => Number(r.split(',')[header.indexOf(name)]));
    const features = ['x0', 'x1', 'x2', 'x3', 'x4', 'x5', 'x6', 'x7'];
    const current = Object.fromEntries(
      features.map((f) => [f, col(f).map((v) => Math.fround(f === 'x0' ? v + 0.5 : v))]),
    );
    const builders = Object.fromEntries(features.map((f) => [f, new LogSketchBuilder(GATEWAY_SKETCH_ALPHA)]));
    for (const f of features) for (const v of current[f]!) builders[f]!.add(v);
    const n = current.x0!.length;
    // Sites as the gateway counts them (rows per site parameter): the split's own, with every site-a row counted twice.
    const refSites = rows.slice(1).map((r) => r.split(',')[header.indexOf('site')]!);
    const curSites = [...refSites, ...refSites.filter((x) => x === 'site-a')];
    const sites: Record<string, number> = {};
    for (const x of curSites) sites[x] = (sites[x] ?? 0) + 1;
    const sketch: TelemetryEvent = {
      kind: 'sketch',
      eventId: 'sk-1',
      at: at(300),
      seconds: 10,
      model: MODEL,
      rows: n,
      features: Object.fromEntries(features.map((f) => [f, builders[f]!.toSketch()])),
      sites,
    };

    // Six cases of the released model; c2 scored twice (its highest score counts); outcomes for four; an override on c1.
    const events: TelemetryEvent[] = [
      sketch,
      prediction('c1', 0.9, 10),
      prediction('c2', 0.3, 20),
      prediction('c2', 0.6, 25),
      prediction('c3', 0.2, 30),
      prediction('c4', 0.7, 40),
      prediction('c5', 0.1, 50),
      prediction('c6', 0.55, 60),
      prediction('c7', 0.9, 70, { modelVersion: '1.4.0' }), // not the released model
      prediction('c8', 0.9, 601), // after the window
      outcome('c1', 1),
      outcome('c2', 1),
      outcome('c3', 1),
      outcome('c5', 0),
      {
        kind: 'feedback',
        eventId: 'f-c1',
        at: at(200),
        model: MODEL,
        caseIdHash: H('c1'),
        type: 'override',
        modelVersion: '2.0.0',
        observedAt: at(199),
        reason: null,
      },
    ];
    const telemetry = source(events);
    const acts = monitoringActivities({
      evidence,
      live: gatewayTelemetryLiveSource({ evidence, telemetry }),
      log: createLogger('test', 'silent'),
    });
    const baseline: ArmStats = {
      n: 100,
      positives: 20,
      truePositives: 16,
      negatives: 80,
      trueNegatives: 60,
      alerts: 36,
      sensitivity: 0.8,
      specificity: 0.75,
      alertRate: 0.36,
    };
    const env = new MockActivityEnvironment({}, { logger: new DefaultLogger('ERROR') });
    const out = (await env.run(acts.observeDrift, {
      releaseId: 'rel-1',
      request,
      step: 0,
      cases: 100,
      baseline,
      recent: [],
      at: TO,
    })) as Awaited<ReturnType<typeof acts.observeDrift>>;
    const m = out.measurement;
    assert.equal(m.source, 'gateway-telemetry');

    // Performance: labelled c1 (1, 0.9 alert), c2 (1, max 0.6 alert), c3 (1, 0.2 miss), c5 (0, 0.1).
    assert.equal(m.cases, 6);
    assert.deepEqual(m.performance.current, {
      interval: 0,
      labelled: 4,
      positives: 3,
      truePositives: 2,
      scoreSum: 0.9 + 0.6 + 0.2 + 0.1,
    });
    assert.equal(m.performance.sensitivity, 2 / 3);
    assert.ok(Math.abs(m.performance.calibrationInTheLarge! - (3 / 4 - 1.8 / 4)) < 1e-12);
    // Alerts: c1, c2, c4, c6 of 6; one override of 4 alerts.
    assert.equal(m.workflow.alertRate, 4 / 6);
    assert.ok(Math.abs(m.workflow.alertRateRatio! - 4 / 6 / 0.36) < 1e-12);
    assert.equal(m.workflow.overrideRate, 1 / 4);

    // Data drift: x0 against the reference's declared deciles, within the sketch's accuracy of the raw-value PSI.
    const refX0 = col('x0').map((v) => Math.fround(v));
    const edges = quantileEdges(refX0, 10);
    const rawPsi = psi(refX0, current.x0!, { edges }).psi;
    const x0 = m.data.features.find((f) => f.feature === 'x0')!;
    assert.ok(rawPsi > 0.1 && Math.abs(x0.psi - rawPsi) < 0.01, `sketch PSI ${x0.psi} vs raw ${rawPsi}`);
    assert.ok(x0.pValue < 1e-6);
    for (const f of m.data.features.filter((g) => !['x0', 'site'].includes(g.feature)))
      assert.ok(f.psi < 0.001 && f.pValue > 0.5, `${f.feature} unchanged: ${JSON.stringify(f)}`);
    assert.deepEqual(
      m.data.features.map((f) => f.feature),
      [...features, 'site'],
    );
    assert.deepEqual(m.data.notCompared, []);
    // Site mix: what the case-level computation gives on the same sites (the gateway kept only the counts).
    const site = m.data.features.find((f) => f.feature === 'site')!;
    const expected = categoricalDrift(refSites, curSites);
    assert.deepEqual(
      [site.kind, site.test, site.statistic, site.df, site.pValue, site.psi],
      [
        'categorical',
        'chi-square',
        expected.chiSquare.statistic,
        expected.chiSquare.df,
        expected.chiSquare.pValue,
        expected.psi,
      ],
    );
    assert.ok(site.pValue < 1e-6, 'doubling one site is a shift');

    const record = evidence.json(out.artifacts[0]!) as {
      source: string;
      bins: Array<{ feature: string; reference: number[]; current: number[] }>;
      trafficWindow: unknown;
      siteMix: { categories: string[]; current: number[] };
    };
    assert.deepEqual(record.siteMix.categories, expected.categories);
    assert.deepEqual(record.siteMix.current, expected.current);
    assert.equal(record.source, 'gateway-telemetry');
    assert.deepEqual(record.trafficWindow, { model: MODEL, from: FROM, to: TO });
    const bx0 = record.bins.find((b) => b.feature === 'x0')!;
    assert.deepEqual(bx0.reference, binCounts(refX0, edges));
    assert.equal(
      bx0.current.reduce((a, b) => a + b, 0),
      n,
    );
  });
});
