import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  Gateway,
  GatewayControlError,
  GatewayRouteControl,
  RemoteOipBackend,
  RouteTables,
  ShadowMirror,
  inProcessBackend,
  startOipModelServer,
  type Backend,
  type ModelBackends,
  type OipModelServer,
} from '../../src/gateway';
import { loadScorer, type Scorer } from '../../src/models';
import { hashCaseId, WriteAheadLog } from '../../src/telemetry';

const TOKEN = 'control-token-0123456789';
const KEY = 'case-id-key-0123456789';
/** The slow shadow's delay: far above any production latency, so waiting on it would show. */
const SLOW_MS = 1000;
const FEATURES = ['x0', 'x1', 'x2', 'x3', 'x4', 'x5', 'x6', 'x7'];

async function scorer(version: string): Promise<Scorer> {
  const file = path.join(__dirname, '../../demo/models', `sepsis-alert-${version}.json`);
  return loadScorer(fs.readFileSync(file), file);
}

function inferBody(caseId: string, extra: Record<string, unknown> = {}) {
  return {
    id: `req-${caseId}`,
    parameters: { case_id: caseId, ...extra },
    inputs: FEATURES.map((f, k) => ({ name: f, shape: [1], datatype: 'FP32', data: [k / 10] })),
  };
}

interface Harness {
  gateway: Gateway;
  url: string;
  wal: WriteAheadLog;
  dir: string;
  close(): Promise<void>;
}

async function startGateway(
  versions: Backend[],
  table: unknown,
  shadow = new ShadowMirror(256, 2000),
): Promise<Harness> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-gw-'));
  const model: ModelBackends = {
    name: 'sepsis-alert',
    features: FEATURES,
    versions: new Map(versions.map((b) => [b.version, b])),
  };
  const tables = new RouteTables((m) => (m === model.name ? new Set(model.versions.keys()) : undefined));
  assert.equal(tables.adopt(model.name, table), true);
  const wal = await WriteAheadLog.open({ dir });
  const gateway = new Gateway({ models: [model], tables, caseIdKey: KEY, controlToken: TOKEN, wal, shadow });
  const port = await gateway.listen(0);
  return {
    gateway,
    url: `http://127.0.0.1:${port}`,
    wal,
    dir,
    close: async () => {
      await gateway.close();
      await wal.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function until(done: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON bodies, asserted field by field
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, any> };
}

async function put(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON bodies, asserted field by field
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

/**
 * Latency percentiles of sequential inference calls, interleaved across gateways (one call to each in
 * turn) so that load from elsewhere on the machine hits all of them alike.
 */
async function interleavedLatency(
  urls: string[],
  n: number,
): Promise<Array<{ p50: number; p99: number; max: number }>> {
  const times = urls.map(() => [] as number[]);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < urls.length; k++) {
      const t0 = performance.now();
      const r = await post(`${urls[k]}/v2/models/sepsis-alert/infer`, inferBody(`lat-${i}`));
      assert.equal(r.status, 200);
      times[k]!.push(performance.now() - t0);
    }
  }
  return times.map((t) => {
    t.sort((a, b) => a - b);
    return { p50: t[Math.floor(n / 2)]!, p99: t[Math.floor(n * 0.99)]!, max: t[n - 1]! };
  });
}

describe('inference gateway (in-process backends, loopback HTTP)', () => {
  let v1: Backend;
  let v2: Backend;
  let gw: Harness;
  const auth = { authorization: `Bearer ${TOKEN}` };

  before(async () => {
    v1 = inProcessBackend('1.4.0', await scorer('1.4.0'));
    v2 = inProcessBackend('2.0.0', await scorer('2.0.0'));
    gw = await startGateway([v1, v2], {
      version: 1,
      production: '1.4.0',
      canary: { model: '2.0.0', percent: 30, cohort: [{ attribute: 'site', in: ['site-a'] }] },
      threshold: 0.5,
    });
  });
  after(() => gw?.close());

  it('answers OIP v2 inference and names the version that produced the response', async () => {
    const r = await post(`${gw.url}/v2/models/sepsis-alert/infer`, inferBody('case-1', { site: 'site-b' }));
    assert.equal(r.status, 200);
    assert.equal(r.body.model_name, 'sepsis-alert');
    assert.equal(r.body.model_version, '1.4.0');
    assert.equal(r.headers.get('x-vigil-model-version'), '1.4.0');
    assert.equal(r.body.id, 'req-case-1');
    assert.deepEqual(r.body.parameters, { route: 'production', route_version: 1 });
    const [score, decision] = r.body.outputs;
    assert.equal(score.name, 'score');
    assert.ok(score.data[0] > 0 && score.data[0] < 1);
    assert.deepEqual(decision, { name: 'decision', shape: [1], datatype: 'BOOL', data: [score.data[0] >= 0.5] });
  });

  it('accepts one [N, F] tensor with feature names in any order', async () => {
    const names = [...FEATURES].reverse();
    const body = {
      parameters: { case_id: 'case-2d' },
      inputs: [
        {
          name: 'input',
          shape: [2, 8],
          datatype: 'FP32',
          parameters: { feature_names: names },
          data: [...names.map((_, k) => (7 - k) / 10), ...names.map(() => 0)],
        },
      ],
    };
    const r = await post(`${gw.url}/v2/models/sepsis-alert/infer`, body);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const single = await post(`${gw.url}/v2/models/sepsis-alert/infer`, inferBody('case-2d'));
    assert.equal(r.body.outputs[0].data.length, 2);
    assert.ok(Math.abs(r.body.outputs[0].data[0] - single.body.outputs[0].data[0]) < 1e-6, 'same features, same score');
  });

  it('routes the site-a cohort to the canary by stable case hash, and only that cohort', async () => {
    const seen = new Map<string, string>();
    for (let i = 0; i < 200; i++) {
      const a = await post(`${gw.url}/v2/models/sepsis-alert/infer`, inferBody(`p-${i}`, { site: 'site-a' }));
      const b = await post(`${gw.url}/v2/models/sepsis-alert/infer`, inferBody(`p-${i}`, { site: 'site-a' }));
      assert.equal(a.body.model_version, b.body.model_version);
      seen.set(`p-${i}`, a.body.model_version);
      const other = await post(`${gw.url}/v2/models/sepsis-alert/infer`, inferBody(`p-${i}`, { site: 'site-c' }));
      assert.equal(other.body.model_version, '1.4.0');
    }
    const canary = [...seen.values()].filter((v) => v === '2.0.0').length;
    assert.ok(canary > 30 && canary < 90, `${canary}/200 on the canary at 30%`);
  });

  it('refuses invalid OIP requests with 400 and the reason', async () => {
    const url = `${gw.url}/v2/models/sepsis-alert/infer`;
    const noCase = await post(url, { inputs: inferBody('x').inputs });
    assert.equal(noCase.status, 400);
    assert.ok(
      noCase.body.issues.some((i: { path: string }) => i.path === 'parameters'),
      JSON.stringify(noCase.body),
    );
    const badShape = await post(url, {
      parameters: { case_id: 'x' },
      inputs: [{ name: 'input', shape: [1, 8], datatype: 'FP32', data: [1, 2, 3] }],
    });
    assert.equal(badShape.status, 400);
    assert.match(badShape.body.error, /shape \[1, 8\] needs 8 values, got 3/);
    const missing = await post(url, { parameters: { case_id: 'x' }, inputs: inferBody('x').inputs.slice(1) });
    assert.equal(missing.status, 400);
    assert.match(missing.body.error, /missing features: x0/);
    const bytes = await post(url, {
      parameters: { case_id: 'x' },
      inputs: [{ name: 'input', shape: [1, 8], datatype: 'BYTES', data: [1, 2, 3, 4, 5, 6, 7, 8] }],
    });
    assert.match(bytes.body.error, /not numeric/);
    const notJson = await post(url, '{nope');
    assert.deepEqual([notJson.status, notJson.body.error], [400, 'body is not valid JSON']);
    assert.equal((await post(`${gw.url}/v2/models/unknown/infer`, inferBody('x'))).status, 404);
  });

  it('control API: bearer token required, versions only move forward, If-Match is compare-and-set, unknown versions refused', async () => {
    const url = `${gw.url}/control/routes/sepsis-alert`;
    assert.equal((await put(url, { version: 2, production: '1.4.0', canary: null })).status, 401);
    assert.equal(
      (
        await put(
          url,
          { version: 2, production: '1.4.0', canary: null },
          { authorization: 'Bearer wrong-token-0123456789' },
        )
      ).status,
      401,
    );
    const current = (await (await fetch(url, { headers: auth })).json()) as { version: number };
    assert.equal(current.version, 1);

    const next = {
      version: 2,
      production: '1.4.0',
      canary: null,
      shadow: { model: '2.0.0', percent: 100 },
      threshold: 0.5,
    };
    const ok = await put(url, next, { ...auth, 'if-match': '"1"' });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.changed, true);
    const again = await put(url, next, auth); // a retried activity
    assert.deepEqual([again.status, again.body.changed], [200, false]);
    const stale = await put(url, { ...next, version: 2, threshold: 0.4 }, auth);
    assert.equal(stale.status, 409);
    assert.equal(stale.body.current.version, 2);
    const wrongExpect = await put(url, { ...next, version: 3 }, { ...auth, 'if-match': '"1"' });
    assert.equal(wrongExpect.status, 409);
    const unknown = await put(url, { ...next, version: 3, production: '9.9.9' }, auth);
    assert.equal(unknown.status, 422);
    assert.match(unknown.body.error, /not loaded: 9.9.9/);
    const invalid = await put(url, { version: 3, production: '1.4.0', canary: { model: '2.0.0', percent: 150 } }, auth);
    assert.equal(invalid.status, 422);

    // The swap took effect: requests now get mirrored to 2.0.0 while 1.4.0 answers.
    const r = await post(`${gw.url}/v2/models/sepsis-alert/infer`, inferBody('after-swap', { site: 'site-a' }));
    assert.deepEqual([r.body.model_version, r.body.parameters.route_version], ['1.4.0', 2]);
    await new Promise((res) => setTimeout(res, 50));
    assert.ok(gw.gateway.shadow.stats().completed >= 1);
  });

  it('records predictions (hashed case id only) and answers which version processed a case', async () => {
    const mirrored = gw.gateway.stats().shadow.completed;
    await post(`${gw.url}/v2/models/sepsis-alert/infer`, inferBody('lookup-me'));
    await until(() => gw.gateway.stats().shadow.completed > mirrored); // the mirror's event is recorded once it is scored
    await gw.gateway.flushTelemetry();
    const hash = hashCaseId('lookup-me', KEY);
    const res = await fetch(`${gw.url}/v2/telemetry/cases?case_id=lookup-me`, { headers: auth });
    const body = (await res.json()) as {
      caseIdHash: string;
      predictions: Array<{ modelVersion: string; route: string }>;
    };
    assert.equal(body.caseIdHash, hash);
    assert.deepEqual(body.predictions.map((p) => `${p.route}:${p.modelVersion}`).sort(), [
      'production:1.4.0',
      'shadow:2.0.0',
    ]);
    assert.equal((await fetch(`${gw.url}/v2/telemetry/cases/${hash}`)).status, 401);
    const wal = fs
      .readdirSync(gw.dir)
      .map((f) => fs.readFileSync(path.join(gw.dir, f), 'utf8'))
      .join('');
    assert.ok(wal.includes(hash));
    assert.ok(!wal.includes('lookup-me'), 'raw case ids never reach the WAL');
  });

  it('ingests outcomes and feedback: 202 only after the durable write, 400 with issues', async () => {
    const url = `${gw.url}/v2/telemetry/outcomes`;
    const outcome = {
      model: 'sepsis-alert',
      case_id: 'lookup-me',
      label: 1,
      source: 'clinician_review',
      observed_at: '2026-01-01T10:00:00Z',
    };
    assert.equal((await post(url, outcome)).status, 401);
    const ok = await post(url, { events: [outcome, { ...outcome, source: 'complaint', label: 0 }] }, auth);
    assert.equal(ok.status, 202);
    assert.equal(ok.body.accepted, 2);
    const durable = [...gw.wal.scanLocal()].filter((e) => ok.body.eventIds.includes(e.eventId));
    assert.equal(durable.length, 2, 'acknowledged events are already in the WAL file');
    const bad = await post(url, { ...outcome, source: 'rumour' }, auth);
    assert.equal(bad.status, 400);
    assert.ok(Array.isArray(bad.body.issues) && bad.body.issues.length > 0);
    const fb = await post(
      `${gw.url}/v2/telemetry/feedback`,
      { model: 'sepsis-alert', case_id: 'lookup-me', type: 'alert_dismissed', observed_at: '2026-01-01T10:05:00Z' },
      auth,
    );
    assert.equal(fb.status, 202);
  });
});

describe('shadow faults never reach production', () => {
  let prod: Backend;
  let candidateScorer: Scorer;
  let slowServer: OipModelServer;

  before(async () => {
    prod = inProcessBackend('1.4.0', await scorer('1.4.0'));
    candidateScorer = await scorer('2.0.0');
    slowServer = await startOipModelServer({
      model: 'sepsis-alert',
      version: '2.0.0',
      scorer: candidateScorer,
      delayMs: SLOW_MS,
    });
  });
  after(() => slowServer?.close());

  const shadowTable = { version: 1, production: '1.4.0', canary: null, shadow: { model: '2.0.0', percent: 100 } };

  it('shadow backend down or slow: every production answer arrives before the shadow answers, latency unchanged', async () => {
    const baseline = await startGateway([prod], { version: 1, production: '1.4.0', canary: null });
    const down = await startGateway(
      [
        prod,
        new RemoteOipBackend({ url: 'http://127.0.0.1:9', model: 'sepsis-alert', version: '2.0.0', timeoutMs: 500 }),
      ],
      shadowTable,
    );
    const slow = await startGateway(
      [prod, new RemoteOipBackend({ url: slowServer.url, model: 'sepsis-alert', version: '2.0.0', timeoutMs: 5000 })],
      shadowTable,
      new ShadowMirror(1024, 5000),
    );
    try {
      await interleavedLatency([baseline.url, down.url, slow.url], 50); // warm-up
      const [base, withDown, withSlow] = await interleavedLatency([baseline.url, down.url, slow.url], 300);
      // Had production waited for the shadow, every call would have taken at least SLOW_MS.
      assert.ok(withSlow!.max < SLOW_MS, `slowest production call ${withSlow!.max.toFixed(1)} ms`);
      const slowStats = slow.gateway.shadow.stats();
      assert.ok(slowStats.started >= 300);
      assert.equal(slow.gateway.stats().gateway.errors, 0);
      assert.ok(down.gateway.shadow.stats().failed > 0, 'the down shadow failed, and only the shadow');
      const report = `p50/p99 ms: no shadow ${base!.p50.toFixed(2)}/${base!.p99.toFixed(2)}, shadow down ${withDown!.p50.toFixed(2)}/${withDown!.p99.toFixed(2)}, shadow slow ${withSlow!.p50.toFixed(2)}/${withSlow!.p99.toFixed(2)}`;
      console.log(report);
      // Medians are robust on a busy machine; tail figures under load come from bench:gateway.
      assert.ok(withDown!.p50 - base!.p50 < 1 && withSlow!.p50 - base!.p50 < 1, report);
    } finally {
      await Promise.all([baseline.close(), down.close(), slow.close()]);
    }
  });

  it('under backpressure mirrors are dropped and counted, never queued', async () => {
    const gw = await startGateway(
      [prod, new RemoteOipBackend({ url: slowServer.url, model: 'sepsis-alert', version: '2.0.0', timeoutMs: 2000 })],
      shadowTable,
      new ShadowMirror(4, 2000),
    );
    try {
      await Promise.all(
        Array.from({ length: 60 }, (_, i) =>
          post(`${gw.url}/v2/models/sepsis-alert/infer`, inferBody(`bp-${i}`)).then((r) => assert.equal(r.status, 200)),
        ),
      );
      const s = gw.gateway.shadow.stats();
      assert.equal(s.inFlight, 4, 'the slow shadow holds every slot');
      assert.equal(s.completed, 0, 'all 60 production answers came back before any mirror did');
      assert.equal(s.started + s.dropped, 60);
      assert.ok(s.dropped >= 50, `dropped ${s.dropped}`);
      await new Promise((r) => setTimeout(r, SLOW_MS + 200));
      assert.equal(gw.gateway.shadow.stats().inFlight, 0);
    } finally {
      await gw.close();
    }
  });
});

describe('failed requests are telemetry too (the error-rate guardrail)', () => {
  it('a failing production backend: 502 to the client and a failure event; a failing mirror: a shadow failure event, no prediction', async () => {
    const good = inProcessBackend('1.4.0', await scorer('1.4.0'));
    let failProduction = false;
    const flaky: Backend = {
      version: '1.4.0',
      kind: 'in-process',
      score: (input) => (failProduction ? Promise.reject(new Error('onnx session lost')) : good.score(input)),
      close: async () => {},
    };
    const deadShadow: Backend = {
      version: '2.0.0',
      kind: 'in-process',
      score: () => Promise.reject(new Error('candidate crashed')),
      close: async () => {},
    };
    const gw = await startGateway([flaky, deadShadow], {
      version: 4,
      production: '1.4.0',
      canary: null,
      shadow: { model: '2.0.0', percent: 100 },
      threshold: 0.5,
    });
    try {
      const ok = await post(`${gw.url}/v2/models/sepsis-alert/infer`, inferBody('case-ok'));
      assert.equal(ok.status, 200);
      failProduction = true;
      const bad = await post(`${gw.url}/v2/models/sepsis-alert/infer`, inferBody('case-bad'));
      assert.equal(bad.status, 502);
      assert.match(bad.body.error, /onnx session lost/);
      await until(() => gw.gateway.shadow.stats().failed >= 1);
      await gw.gateway.flushTelemetry();
      const events = [...gw.wal.scanLocal()];
      const failures = events.filter((e) => e.kind === 'failure');
      const brief = (e: (typeof failures)[number]) =>
        `${e.route}:${e.modelVersion}:${e.status}:${e.caseIdHash === hashCaseId('case-ok', KEY) ? 'ok' : e.caseIdHash === hashCaseId('case-bad', KEY) ? 'bad' : '?'}`;
      // The mirror of case-ok failed; case-bad never reached its mirror (production failed first).
      assert.deepEqual(failures.map(brief).sort(), ['production:1.4.0:502:bad', 'shadow:2.0.0:null:ok']);
      assert.ok(failures.every((f) => f.routeVersion === 4 && f.latencyMs >= 0 && f.reason.length > 0));
      assert.match(failures.find((f) => f.route === 'shadow')!.reason, /candidate crashed/);
      const predictions = events.filter((e) => e.kind === 'prediction');
      assert.deepEqual(
        predictions.map((p) => `${p.route}:${p.modelVersion}`),
        ['production:1.4.0'],
        'no prediction for the failed request or the failed mirror',
      );
      assert.equal(gw.gateway.stats().gateway.failures, 2);
      assert.equal(gw.gateway.stats().gateway.errors, 0, 'a backend failure is not a gateway bug');
      const raw = fs
        .readdirSync(gw.dir)
        .map((f) => fs.readFileSync(path.join(gw.dir, f), 'utf8'))
        .join('');
      assert.ok(!raw.includes('case-bad') && !raw.includes('case-ok'), 'raw case ids never reach the WAL');
    } finally {
      await gw.close();
    }
  });
});

describe('route table swaps', () => {
  it('serialises concurrent swaps of one model: exactly one of two racing version-2 tables wins', async () => {
    const tables = new RouteTables(() => new Set(['1.4.0', '2.0.0']));
    tables.adopt('m', { version: 1, production: '1.4.0', canary: null });
    const [a, b] = await Promise.all([
      tables.swap('m', { version: 2, production: '2.0.0', canary: null }, 1),
      tables.swap('m', { version: 2, production: '1.4.0', canary: { model: '2.0.0', percent: 5 } }, 1),
    ]);
    assert.deepEqual([a.ok, b.ok], [true, false]);
    assert.equal(!b.ok && b.status, 409);
    assert.equal(tables.get('m')?.production, '2.0.0');
    assert.equal(
      tables.adopt('m', { version: 2, production: '1.4.0', canary: null }),
      false,
      'the store never moves a table backwards or sideways',
    );
  });

  it('GatewayRouteControl (what the setRoutes activity would call): RouteState applies, a retry is a no-op, a stale version is a 409', async () => {
    const v1 = inProcessBackend('1.4.0', await scorer('1.4.0'));
    const v2 = inProcessBackend('2.0.0', await scorer('2.0.0'));
    const gw = await startGateway([v1, v2], { version: 1, production: '1.4.0', canary: null });
    try {
      const control = new GatewayRouteControl(gw.url, TOKEN);
      const routes = { version: 2, production: '1.4.0', canary: { model: '2.0.0', percent: 5 } };
      await control.apply('sepsis-alert', routes);
      await control.apply('sepsis-alert', routes);
      assert.deepEqual(await control.current('sepsis-alert'), routes);
      await assert.rejects(
        control.apply('sepsis-alert', { ...routes, canary: null }),
        (e: unknown) => e instanceof GatewayControlError && e.status === 409 && e.current?.version === 2,
      );
      await assert.rejects(
        new GatewayRouteControl(gw.url, 'not-the-token-0123456789').apply('sepsis-alert', { ...routes, version: 3 }),
        (e: unknown) => e instanceof GatewayControlError && e.status === 401,
      );
    } finally {
      await gw.close();
    }
  });
});
