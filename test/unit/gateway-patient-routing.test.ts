/**
 * Issue #22's routing cases through the gateway's HTTP front (in-process backends, loopback): the canary is chosen
 * per patient from `parameters.patient_id`, ids are normalised before hashing, placeholders are refused with a 400
 * and its reason, and a `notIn` cohort rule fails closed for a request without the attribute. The same cases on
 * `assign` alone, at 20,000 patients, are in canary-assignment.test.ts.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Gateway, inProcessBackend, RouteTables, ShadowMirror, type ModelBackends } from '../../src/gateway';
import { loadScorer } from '../../src/models';
import { WriteAheadLog } from '../../src/telemetry';

const FEATURES = ['x0', 'x1', 'x2', 'x3', 'x4', 'x5', 'x6', 'x7'];
const MODEL = 'sepsis-alert';

async function backend(version: string) {
  const file = path.join(__dirname, '../../demo/models', `sepsis-alert-${version}.json`);
  return inProcessBackend(version, await loadScorer(fs.readFileSync(file), file));
}

const body = (caseId: string, params: Record<string, unknown>) => ({
  parameters: { case_id: caseId, ...params },
  inputs: FEATURES.map((f, k) => ({ name: f, shape: [1], datatype: 'FP32', data: [k / 10] })),
});

describe('gateway routing per patient over HTTP (issue #22)', () => {
  let gateway: Gateway;
  let wal: WriteAheadLog;
  let dir: string;
  let url: string;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-gw-patient-'));
    const versions = [await backend('1.4.0'), await backend('2.0.0')];
    const model: ModelBackends = {
      name: MODEL,
      features: FEATURES,
      versions: new Map(versions.map((b) => [b.version, b])),
    };
    const tables = new RouteTables((m) => (m === MODEL ? new Set(model.versions.keys()) : undefined));
    assert.ok(
      tables.adopt(MODEL, {
        version: 1,
        production: '1.4.0',
        canary: { model: '2.0.0', percent: 50, cohort: [{ attribute: 'site', notIn: ['S2'] }] },
        threshold: 0.5,
      }),
    );
    wal = await WriteAheadLog.open({ dir });
    gateway = new Gateway({
      models: [model],
      tables,
      caseIdKey: 'case-id-key-0123456789',
      controlToken: 'control-token-0123456789',
      wal,
      shadow: new ShadowMirror(256, 2000),
    });
    url = `http://127.0.0.1:${await gateway.listen(0)}/v2/models/${MODEL}/infer`;
  });
  after(async () => {
    await gateway?.close();
    await wal?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const infer = async (caseId: string, params: Record<string, unknown>) => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body(caseId, params)),
    });
    return { status: res.status, body: (await res.json()) as { model_version?: string; error?: string } };
  };

  it('200 patients × 5 cases at 50 %: every patient on one arm, and both arms used', async () => {
    const arms = new Map<string, Set<string>>();
    for (let p = 0; p < 200; p++)
      for (let c = 0; c < 5; c++) {
        const r = await infer(`case-${p}-${c}`, { patient_id: `P${p}`, site: 'S1' });
        assert.equal(r.status, 200, JSON.stringify(r.body));
        arms.set(`P${p}`, (arms.get(`P${p}`) ?? new Set()).add(r.body.model_version!));
      }
    assert.deepEqual(
      [...arms].filter(([, a]) => a.size > 1).map(([p]) => p),
      [],
    );
    const canary = [...arms.values()].filter((a) => a.has('2.0.0')).length;
    // Binomial(200, 0.5): sd ≈ 7, so 60–140 is ±5.7 sd; the old per-case bucket split most patients across arms.
    assert.ok(canary > 60 && canary < 140, `${canary} of 200 patients on the canary at 50 %`);
  });

  it('ids differing in case, surrounding spaces or zero padding are one patient on one arm', async () => {
    for (let p = 1; p <= 40; p++) {
      const id = `T${String(p).padStart(4, '0')}`;
      const versions = new Set<string>();
      for (const [k, variant] of [id, id.toLowerCase(), `  ${id} `, `T${p}`].entries()) {
        const r = await infer(`v-${p}-${k}`, { patient_id: variant, site: 'S1' });
        assert.equal(r.status, 200, JSON.stringify(r.body));
        versions.add(r.body.model_version!);
      }
      assert.equal(versions.size, 1, `${id}: ${[...versions].join(', ')}`);
    }
  });

  it('placeholder patient ids are refused with a 400 naming the reason, not pinned to one arm', async () => {
    for (const id of [' ', '', 'NULL', 'unknown', '000']) {
      const r = await infer('case-placeholder', { patient_id: id, site: 'S1' });
      assert.equal(r.status, 400, `${JSON.stringify(id)}: ${JSON.stringify(r.body)}`);
      assert.match(r.body.error!, /^routing: /, JSON.stringify(id));
    }
  });

  it('"site not S2": requests without a site, or with "s2", never reach the canary', async () => {
    let reached = 0;
    let s1 = 0;
    for (let p = 0; p < 200; p++) {
      for (const params of [{}, { site: 's2' }, { site: 'S2' }]) {
        const r = await infer(`n-${p}`, { patient_id: `N${p}`, ...params });
        assert.equal(r.status, 200, JSON.stringify(r.body));
        if (r.body.model_version === '2.0.0') reached++;
      }
      if ((await infer(`n-${p}`, { patient_id: `N${p}`, site: 'S1' })).body.model_version === '2.0.0') s1++;
    }
    assert.equal(reached, 0);
    assert.ok(s1 > 60 && s1 < 140, `S1 still reaches the canary at 50 %: ${s1} of 200`);
  });
});
