/**
 * SHADOW measured from the real gateway's telemetry, on the real stack (Temporal dev server, SeaweedFS, in-process
 * worker with the telemetry live source, the gateway as its own process polling the S3 route store): the release
 * puts a shadow route on the gateway, the gateway mirrors the driven production traffic to the candidate, the
 * worker pairs the mirrored predictions with the production ones from the uploaded segments, and the shadow route
 * is removed again. The test recomputes pairs, agreement and κ itself from the events in S3.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gatewayTelemetryLiveSource, type LiveSource } from '../../src/activities';
import type { ReleaseStatus, ShadowMeasurement } from '../../src/domain';
import { approveReleaseUpdate, releaseStatusQuery } from '../../src/domain/messages';
import { S3RouteStore } from '../../src/gateway/route-store';
import { driveGateway } from '../../src/sim/gateway-driver';
import { categoricalDrift } from '../../src/stats/drift';
import { TelemetryLiveSource, TelemetryReader, windowsBetween, type PredictionEvent } from '../../src/telemetry';
import {
  gatewayEnv,
  processExited,
  startGatewayProcess,
  type GatewayChild,
  writeDemoModelsFile,
} from '../support/gateway-process';
import {
  demoRequest,
  fastPolicy,
  reviewerApproval,
  startHarness,
  startRelease,
  waitFor,
  type Harness,
} from '../support/harness';

const TOKEN = 'gateway-control-token-0123';
const KEY = 'gateway-case-id-key-0123';
const MODEL = 'sepsis-alert';

let h: Harness;
let gateway: GatewayChild | null = null;
// The worker's telemetry source, built once the harness has its S3 client (the deps are handed over before).
let source: LiveSource | null = null;
const live: LiveSource = {
  kind: 'gateway-telemetry',
  shadow: (input) => source!.shadow(input),
  window: (input) => source!.window(input),
  drift: (input) => source!.drift(input),
};

before(async () => {
  h = await startHarness({ deps: { live } });
  source = gatewayTelemetryLiveSource({
    evidence: h.evidence,
    telemetry: new TelemetryLiveSource(new TelemetryReader(h.s3, h.config.s3.bucket, h.evidence), h.evidence),
  });
  const dir = fs.mkdtempSync(path.join(h.stack.stateDir, 'gw-shadow-'));
  // Version 0: the release's first table in the route store (version 1) is newer and gets adopted.
  const modelsFile = writeDemoModelsFile(dir, 0);
  gateway = await startGatewayProcess({
    ...gatewayEnv(h.stack, { modelsFile, controlToken: TOKEN, caseIdKey: KEY, dir }),
    VIGIL_GATEWAY_ROUTE_POLL_MS: '200',
  });
});

after(async () => {
  if (gateway && gateway.proc.exitCode === null && gateway.proc.signalCode === null) {
    gateway.proc.kill('SIGTERM');
    await processExited(gateway.proc);
  }
  await h?.stop();
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON bodies, asserted field by field
async function control(p: string): Promise<Record<string, any>> {
  const res = await fetch(`${gateway!.url}${p}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(res.status, 200);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON bodies, asserted field by field
  return (await res.json()) as Record<string, any>;
}

/** Every prediction event of the model in S3, each once (read with the query side, not the worker's code). */
async function predictionsInS3(from: string, to: string): Promise<PredictionEvent[]> {
  const reader = new TelemetryReader(h.s3, h.config.s3.bucket, h.evidence);
  const out = new Map<string, PredictionEvent>();
  for (const w of windowsBetween(from, to)) {
    for (const e of await reader.events(w)) if (e.kind === 'prediction' && e.model === MODEL) out.set(e.eventId, e);
  }
  return [...out.values()];
}

describe('SHADOW from the gateway’s telemetry on the real stack', () => {
  it('sets the shadow route, the gateway mirrors production to the candidate, the shadow record is computed from its segments, the route is removed', async () => {
    const policy = await fastPolicy('demo.yaml', (p) => {
      p.shadow.durationSeconds = 45; // the drive, the segment seal (10 s) and the upload fit in the window
      p.shadow.cases = 100;
      p.shadow.minAgreement = 0.5;
      p.shadow.minKappa = 0.2;
      delete p.shadow.maxPsi; // the driver's inputs are not the evaluation split's population: drift is asserted measured, not bounded
    });
    const request = await demoRequest(h, policy);
    const threshold = policy.operatingThreshold;
    const handle = await startRelease(h, request);

    // The workflow's shadow route reaches the gateway through the S3 route store.
    const during = await waitFor(
      'the shadow route in the status',
      async () => {
        const s: ReleaseStatus = await handle.query(releaseStatusQuery);
        assert.equal(s.outcome, null, `ended early: ${s.reason}`);
        return s.stage === 'SHADOW' && s.routes?.shadow ? s : null;
      },
      120_000,
    );
    assert.deepEqual(during.routes, {
      version: 1,
      production: '1.4.0',
      canary: null,
      shadow: { model: '2.0.0', percent: 100 },
    });
    const adopted = await waitFor('the gateway to adopt the shadow route', async () => {
      const t = await control(`/control/routes/${MODEL}`);
      return t.shadow ? t : null;
    });
    assert.deepEqual(
      [adopted.production, adopted.canary, adopted.shadow],
      ['1.4.0', null, { model: '2.0.0', percent: 100 }],
    );
    assert.equal(adopted.revision, `${handle.workflowId}#1`);
    await new Promise((r) => setTimeout(r, 2000)); // well inside [at − duration, at)

    const drive = await driveGateway({
      url: gateway!.url,
      model: MODEL,
      rate: 100,
      cases: 300,
      ingestToken: TOKEN,
      seed: 'shadow-telemetry-test',
    });
    assert.equal(drive.failed, 0, drive.firstError ?? '');
    assert.deepEqual(
      drive.byRoute,
      { production: 300 },
      'production answers every request; the shadow is never returned',
    );
    assert.deepEqual(drive.byVersion, { '1.4.0': 300 });

    const waiting = await waitFor(
      'AWAITING_APPROVAL',
      async () => {
        const s: ReleaseStatus = await handle.query(releaseStatusQuery);
        assert.equal(s.outcome, null, `ended early: ${s.reason}`);
        return s.stage === 'AWAITING_APPROVAL' && s.dossier ? s : null;
      },
      120_000,
    );
    const stage = waiting.history.find((r) => r.stage === 'SHADOW')!;
    const docs = await Promise.all(
      stage.artifacts.map(
        async (a) =>
          JSON.parse((await h.evidence.getBytes(a.key, a.sha256)).toString('utf8')) as Record<string, unknown>,
      ),
    );
    assert.deepEqual(
      docs.map((d) => d.kind),
      ['vigil.shadow/v1', 'vigil.routes/v1', 'vigil.routes/v1'],
    );
    const record = docs[0] as {
      source: string;
      trafficWindow: { model: string; from: string; to: string };
      threshold: number;
      measurement: ShadowMeasurement;
      segments: Array<{ window: string; segment: { key: string; sha256: string } }>;
    };
    assert.equal(record.source, 'gateway-telemetry');
    assert.equal(record.measurement.source, 'gateway-telemetry');
    assert.ok(record.segments.length > 0);
    assert.equal(record.threshold, threshold);
    const { from, to } = record.trafficWindow;
    assert.equal(Date.parse(to) - Date.parse(from), 45_000);
    assert.ok(
      Date.parse(from) <= Date.parse(drive.startedAt) && Date.parse(drive.inferenceEndedAt) < Date.parse(to),
      `window [${from}, ${to}) covers the drive`,
    );

    // Independently: the predictions in S3, paired by (case hash, at, route version) with a plain lookup.
    const events = (await predictionsInS3(from, to)).filter(
      (e) => Date.parse(e.at) >= Date.parse(from) && Date.parse(e.at) < Date.parse(to),
    );
    const production = events.filter((e) => e.route === 'production' && e.modelVersion === '1.4.0');
    const mirrors = new Map(
      events
        .filter((e) => e.route === 'shadow' && e.modelVersion === '2.0.0')
        .map((e) => [`${e.caseIdHash}|${e.at}|${e.routeVersion}`, e]),
    );
    const pairs = production.flatMap((p) => {
      const s = mirrors.get(`${p.caseIdHash}|${p.at}|${p.routeVersion}`);
      return s ? [{ c: s.score, p: p.score }] : [];
    });
    assert.equal(production.length, 300, 'every driven request is a production prediction of the window');
    const stats = (await control('/control/stats')).shadow as {
      started: number;
      completed: number;
      failed: number;
      dropped: number;
    };
    assert.equal(pairs.length, stats.completed, 'one pair per completed mirror');
    assert.ok(
      pairs.length >= 270,
      `the gateway mirrored most requests (${pairs.length} of 300; dropped ${stats.dropped}, failed ${stats.failed})`,
    );

    const m = record.measurement;
    assert.equal(m.cases, pairs.length);
    assert.deepEqual(m.mirror, {
      production: 300,
      paired: pairs.length,
      unpaired: 300 - pairs.length,
      coverage: pairs.length / 300,
      orphanShadow: 0,
      invalidScores: 0,
      failed: 0,
    });
    const n = pairs.length;
    const both = pairs.filter((x) => x.c >= threshold && x.p >= threshold).length;
    const neither = pairs.filter((x) => x.c < threshold && x.p < threshold).length;
    const pc = pairs.filter((x) => x.c >= threshold).length / n;
    const pp = pairs.filter((x) => x.p >= threshold).length / n;
    const po = (both + neither) / n;
    const pe = pc * pp + (1 - pc) * (1 - pp);
    assert.equal(m.agreements, both + neither);
    assert.ok(Math.abs(m.agreement! - po) < 1e-12, `agreement ${m.agreement} vs ${po}`);
    assert.ok(Math.abs(m.kappa! - (po - pe) / (1 - pe)) < 1e-12, `κ ${m.kappa} vs ${(po - pe) / (1 - pe)}`);
    assert.ok(both > 0 && neither > 0 && both + neither < n, 'both calls and disagreements occur');
    // The production side is what the driver was answered.
    assert.deepEqual(
      production.map((p) => p.score).sort((a, b) => a - b),
      drive.sent.map((c) => c.score!).sort((a, b) => a - b),
    );
    // Input drift from the gateway's input sketches (no feature value written): every model feature, every driven request.
    const features = ['x0', 'x1', 'x2', 'x3', 'x4', 'x5', 'x6', 'x7'];
    assert.deepEqual(
      m.drift!.features.map((f) => f.feature),
      features,
      JSON.stringify(m.drift),
    );
    assert.ok(
      m.drift!.features.every((f) => f.n === 300 && Number.isFinite(f.psi) && f.ks >= 0 && f.ks <= 1),
      JSON.stringify(m.drift!.features),
    );
    assert.equal(m.drift!.notCompared, undefined);
    assert.deepEqual(m.missing, Object.fromEntries(features.map((f) => [f, 0])));
    assert.equal(m.notMeasured?.drift, undefined);
    // Site: each production prediction names its request's site, and the sketch buckets count rows per site, so the
    // site mix is compared with the evaluation split's (as the case-level computation gives it on the driven sites)
    // and disagreements are sampled per site.
    const sentSites = drive.sent.map((c) => c.site);
    assert.deepEqual(production.map((p) => p.site).sort(), [...sentSites].sort());
    const evalCsv = fs
      .readFileSync(path.join(__dirname, '..', '..', 'demo', 'data', 'evaluation.csv'), 'utf8')
      .trim()
      .split('\n');
    const siteCol = evalCsv[0]!.split(',').indexOf('site');
    const mix = categoricalDrift(
      evalCsv.slice(1).map((r) => r.split(',')[siteCol]!),
      sentSites,
    );
    assert.ok(m.drift!.site, JSON.stringify(m.drift));
    assert.ok(
      Math.abs(m.drift!.site.chiSquare - mix.chiSquare.statistic) < 1e-9 && m.drift!.site.df === mix.chiSquare.df,
      `${JSON.stringify(m.drift!.site)} vs ${JSON.stringify(mix.chiSquare)}`,
    );
    assert.ok(
      m.disagreements!.strata.every((x) => sentSites.includes(x.site)),
      JSON.stringify(m.disagreements!.strata),
    );

    // The decision and the route changes: the mirror is off again, production never moved.
    assert.equal(stage.decision!.verdict, 'pass', stage.decision!.reasons.join('; '));
    assert.match(
      stage.decision!.reasons[0]!,
      new RegExp(
        `^agreement with production ${po.toFixed(4)} on ${n} mirrored cases; mirror coverage ${(n / 300).toFixed(4)} \\(${n} of 300 production predictions\\); κ `,
      ),
    );
    const [set, removed] = docs.slice(1) as Array<{ routes: unknown; reason: string }>;
    assert.deepEqual(set!.routes, {
      version: 1,
      production: '1.4.0',
      canary: null,
      shadow: { model: '2.0.0', percent: 100 },
    });
    assert.deepEqual(removed!.routes, { version: 2, production: '1.4.0', canary: null, shadow: null });
    assert.deepEqual(waiting.routes, { version: 2, production: '1.4.0', canary: null, shadow: null });
    const stored = await new S3RouteStore(h.s3, h.config.s3.bucket).current(MODEL);
    assert.deepEqual(
      [stored?.production, stored?.canary, stored?.shadow, stored?.revision],
      ['1.4.0', null, null, `${handle.workflowId}#2`],
    );
    await waitFor(
      'the gateway to drop the shadow route',
      async () => (await control(`/control/routes/${MODEL}`)).shadow == null,
    );
    const started = stats.started;
    const after = await driveGateway({
      url: gateway!.url,
      model: MODEL,
      rate: 100,
      cases: 20,
      ingestToken: TOKEN,
      seed: 'shadow-telemetry-after',
    });
    assert.equal(after.failed, 0);
    assert.equal(
      ((await control('/control/stats')).shadow as { started: number }).started,
      started,
      'nothing is mirrored once the shadow is removed',
    );

    // A rejection ends the release with the mirror already gone.
    await handle.executeUpdate(approveReleaseUpdate, {
      args: [
        {
          ...reviewerApproval('clinical', waiting.dossier!.sha256),
          decision: 'reject',
          meaning: 'rejected as clinical reviewer',
          reason: 'not this quarter',
        },
      ],
    });
    const result = await handle.result();
    assert.equal(result.outcome, 'REJECTED');
    assert.equal((await handle.query(releaseStatusQuery)).routes?.shadow, null);
  });
});
