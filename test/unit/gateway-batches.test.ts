import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Gateway, RouteTables, ShadowMirror, inProcessBackend, type ModelBackends } from '../../src/gateway';
import { loadScorer } from '../../src/models';
import { hashCaseId, WriteAheadLog, type PredictionEvent } from '../../src/telemetry';
import { pairShadowPredictions } from '../../src/telemetry/shadow-pairs';

const TOKEN = 'control-token-0123456789';
const KEY = 'case-id-key-0123456789';
const MODEL = 'sepsis-alert';
const FEATURES = ['x0', 'x1', 'x2', 'x3', 'x4', 'x5', 'x6', 'x7'];
const MODELS = path.join(__dirname, '../../demo/models');

interface LogisticFile {
  weights: number[];
  bias: number;
}
/** The model's score computed here from its published weights (independent of the scorer). */
function logistic(version: string): (row: number[]) => number {
  const m = JSON.parse(fs.readFileSync(path.join(MODELS, `${MODEL}-${version}.json`), 'utf8')) as LogisticFile;
  return (row) => 1 / (1 + Math.exp(-(m.bias + row.reduce((s, v, k) => s + v * m.weights[k]!, 0))));
}

/** Row r's features: distinct per row and batch, some out of range (flagged per row). */
function rowOf(batch: number, r: number): number[] {
  return FEATURES.map((_, k) => (r % 97 === 5 && k === 2 ? 12 : Math.sin(batch * 1000 + r * 8 + k)));
}

/** A 2-D [N, 8] request whose rows are named by a BYTES `case_id` tensor. */
function batchBody(batch: number, n: number, ids: string[] | null) {
  const rows = Array.from({ length: n }, (_, r) => rowOf(batch, r));
  return {
    parameters: { case_id: `request-${batch}`, site: 'site-b' },
    inputs: [
      { name: 'features', shape: [n, FEATURES.length], datatype: 'FP32', data: rows.flat() },
      ...(ids ? [{ name: 'case_id', shape: [n], datatype: 'BYTES', data: ids }] : []),
    ],
  };
}

describe('gateway batches: every row is a prediction and a shadow pair', () => {
  let gateway: Gateway;
  let wal: WriteAheadLog;
  let dir: string;
  let url: string;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-gw-batch-'));
    const backends = await Promise.all(
      ['1.4.0', '2.0.0'].map(async (v) => {
        const file = path.join(MODELS, `${MODEL}-${v}.json`);
        return inProcessBackend(v, await loadScorer(fs.readFileSync(file), file));
      }),
    );
    const model: ModelBackends = {
      name: MODEL,
      features: FEATURES,
      versions: new Map(backends.map((b) => [b.version, b])),
    };
    const tables = new RouteTables(() => new Set(['1.4.0', '2.0.0']));
    tables.adopt(MODEL, {
      version: 3,
      production: '1.4.0',
      canary: null,
      shadow: { model: '2.0.0', percent: 100 },
      threshold: 0.5,
    });
    wal = await WriteAheadLog.open({ dir });
    gateway = new Gateway({
      models: [model],
      tables,
      caseIdKey: KEY,
      controlToken: TOKEN,
      wal,
      shadow: new ShadowMirror(),
    });
    url = `http://127.0.0.1:${await gateway.listen(0)}`;
  });
  after(async () => {
    await gateway.close();
    await wal.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function infer(body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(`${url}/v2/models/${MODEL}/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  it('finds each row of 1-, 32- and 1,000-row batches in telemetry and in the shadow pairs, with its own score', async () => {
    const from = new Date(Date.now() - 1000).toISOString();
    const sizes = [1, 32, 1000];
    const expected = new Map<string, { batch: number; row: number }>();
    for (const [b, n] of sizes.entries()) {
      const ids = Array.from({ length: n }, (_, r) => `patient-${b}-${r}`);
      const res = await infer(batchBody(b, n, ids));
      assert.equal(res.status, 200);
      ids.forEach((id, r) => expected.set(hashCaseId(id, KEY), { batch: b, row: r }));
    }
    // Shadow mirrors are recorded when their micro-batch is scored: wait until all 1,033 are.
    const deadline = Date.now() + 5000;
    while (gateway.shadow.stats().completed < sizes.length) {
      assert.ok(Date.now() < deadline, 'mirrors not scored in time');
      await new Promise((r) => setTimeout(r, 5));
    }
    await gateway.flushTelemetry();
    const events = [...wal.scanLocal()];
    const predictions = events.filter((e): e is PredictionEvent => e.kind === 'prediction');
    const total = sizes.reduce((a, n) => a + n, 0);
    assert.equal(predictions.filter((p) => p.route === 'production').length, total);
    assert.equal(predictions.filter((p) => p.route === 'shadow').length, total);

    const prod = logistic('1.4.0');
    const cand = logistic('2.0.0');
    for (const p of predictions) {
      const row = expected.get(p.caseIdHash);
      assert.ok(row, `prediction for an unknown case ${p.caseIdHash}`);
      const x = rowOf(row.batch, row.row).map((v) => Math.fround(v));
      const want = p.route === 'production' ? prod(x) : cand(x);
      assert.ok(Math.abs(p.score - want) < 1e-5, `row ${row.row} of batch ${row.batch}: ${p.score} vs ${want}`);
      assert.equal(p.decision, want >= 0.5);
      // Quality is the row's own: only rows with an out-of-range value are flagged.
      assert.deepEqual(p.quality, row.row % 97 === 5 ? ['out_of_range'] : []);
      assert.equal(p.site, 'site-b');
    }

    const pairing = pairShadowPredictions(events, {
      model: MODEL,
      from,
      to: new Date(Date.now() + 1000).toISOString(),
      productionVersion: '1.4.0',
      shadowVersion: '2.0.0',
    });
    assert.equal(pairing.pairs.length, total);
    assert.equal(pairing.unpaired, 0);
    assert.deepEqual(new Set(pairing.pairs.map((x) => x.caseIdHash)), new Set(expected.keys()));
  });

  it('names the rows of a batch without a case_id tensor <case_id>#<row>', async () => {
    const res = await infer(batchBody(7, 3, null));
    assert.equal(res.status, 200);
    await gateway.flushTelemetry();
    const hashes = new Set(
      [...wal.scanLocal()].flatMap((e) => (e.kind === 'prediction' && e.route === 'production' ? [e.caseIdHash] : [])),
    );
    for (let r = 0; r < 3; r++) assert.ok(hashes.has(hashCaseId(`request-7#${r}`, KEY)), `row ${r}`);
  });

  it('refuses a case_id tensor that does not name every row, or is not BYTES', async () => {
    const short = await infer(batchBody(8, 4, ['a', 'b', 'c']));
    assert.equal(short.status, 400);
    assert.match(String(short.body.error), /case_id.*4 rows but 3 case ids/);
    const numeric = batchBody(8, 2, null);
    numeric.inputs.push({ name: 'case_id', shape: [2], datatype: 'FP32', data: [1, 2] });
    const bad = await infer(numeric);
    assert.equal(bad.status, 400);
    assert.match(String(bad.body.error), /BYTES/);
    const strings = batchBody(8, 1, null);
    (strings.inputs[0]!.data as unknown[])[0] = 'x';
    const refused = await infer(strings);
    assert.equal(refused.status, 400);
  });
});
