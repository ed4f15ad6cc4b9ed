import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { createLogger } from '../../src/logging/logger';
import { csvReplay, featureColumns, readTrafficCsv } from '../../src/stack/csv-traffic';
import { startDemoTraffic } from '../../src/stack/demo-traffic';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-csv-traffic-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** 7 rows whose columns are in another order than the model's features (b, a), with a distractor column. */
function writeCsv(): { file: string; rows: Array<{ id: string; a: number; b: number; label: 0 | 1; site: string }> } {
  const rows = Array.from({ length: 7 }, (_, i) => ({
    id: `c${i}`,
    a: i + 0.25,
    b: 1 - 10 * i,
    label: (i % 3 === 0 ? 1 : 0) as 0 | 1,
    site: `s${i % 2}`,
  }));
  const file = path.join(dir, 'traffic.csv');
  fs.writeFileSync(
    file,
    ['b,case_id,unused,y,a,hospital', ...rows.map((r) => `${r.b},${r.id},99,${r.label},${r.a},${r.site}`)].join('\n'),
  );
  return { file, rows };
}

/** A gateway stand-in: model metadata with features [a, b], every inference and outcome post recorded. */
function fakeGateway() {
  const inferences: Array<{ caseId: string; site: string; inputs: Array<{ name: string; data: number[] }> }> = [];
  const outcomes: Array<{ case_id: string; label: number; model: string }> = [];
  const fetchImpl = (async (url: string, init?: { body?: string }) => {
    if (url.endsWith('/v2/models/breast-cancer'))
      return new Response(JSON.stringify({ name: 'breast-cancer', inputs: [{ name: 'a' }, { name: 'b' }] }));
    const body = JSON.parse(init!.body!) as {
      parameters?: { case_id: string; site: string };
      inputs?: Array<{ name: string; data: number[] }>;
      events?: Array<{ case_id: string; label: number; model: string }>;
    };
    if (url.endsWith('/v2/telemetry/outcomes')) {
      outcomes.push(...body.events!);
      return new Response('{}', { status: 202 });
    }
    assert.ok(url.endsWith('/v2/models/breast-cancer/infer'), url);
    inferences.push({ caseId: body.parameters!.case_id, site: body.parameters!.site, inputs: body.inputs! });
    return new Response(
      JSON.stringify({
        model_version: '1.0.0',
        parameters: { route: 'production' },
        outputs: [{ name: 'score', data: [0.5] }],
      }),
    );
  }) as unknown as typeof fetch;
  return { inferences, outcomes, fetchImpl };
}

describe('stack traffic from a CSV (--traffic)', () => {
  it('sends every row once per pass, its features in the served order, its case id, and posts each outcome once', async () => {
    const { file, rows } = writeCsv();
    const csv = readTrafficCsv(file, { caseId: 'case_id', label: 'y', site: 'hospital' });
    const gw = fakeGateway();
    const realFetch = globalThis.fetch;
    globalThis.fetch = gw.fetchImpl; // startDemoTraffic sends through the global fetch
    const traffic = startDemoTraffic({
      gatewayUrl: 'http://gateway.invalid/',
      model: 'breast-cancer',
      rate: 40,
      chunkSeconds: 0.1, // 4 cases a chunk: the 7 rows span chunks, and a second pass starts in one
      outcomeDelayMs: 50,
      ingestToken: 't',
      live: async () => true,
      log: createLogger('csv-traffic-test', 'silent'),
      input: csvReplay(csv, {
        gatewayUrl: 'http://gateway.invalid/',
        model: 'breast-cancer',
        run: 'r1',
        fetchImpl: gw.fetchImpl,
      }),
    });
    try {
      const deadline = Date.now() + 10_000;
      const firstPassDone = () =>
        rows.every((r) => gw.outcomes.some((o) => o.case_id === `${r.id}@r1.0`)) &&
        gw.inferences.some((x) => x.caseId === 'c0@r1.1');
      while (!firstPassDone() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    } finally {
      traffic.stop();
      globalThis.fetch = realFetch;
    }
    for (const r of rows) {
      const sent = gw.inferences.filter((x) => x.caseId === `${r.id}@r1.0`);
      assert.equal(sent.length, 1, `${r.id} sent once in pass 0`);
      assert.deepEqual(
        sent[0]!.inputs.map((t) => [t.name, t.data]),
        [
          ['a', [r.a]],
          ['b', [r.b]],
        ],
      );
      assert.equal(sent[0]!.site, r.site);
      const posted = gw.outcomes.filter((o) => o.case_id === `${r.id}@r1.0`);
      assert.equal(posted.length, 1, `${r.id}'s outcome posted once`);
      assert.equal(posted[0]!.label, r.label);
      assert.equal(posted[0]!.model, 'breast-cancer');
    }
    // The replay goes on in row order with fresh ids: the 8th case is row 0 again, as pass 1, with row 0's features.
    // (Chunks overlap, so under load a later chunk's first send can come before it: compare by id, not send order.)
    const again = gw.inferences.find((x) => x.caseId === 'c0@r1.1');
    assert.ok(again, 'row 0 sent again as pass 1');
    assert.deepEqual(
      again.inputs.map((t) => [t.name, t.data]),
      [
        ['a', [rows[0]!.a]],
        ['b', [rows[0]!.b]],
      ],
    );
    for (const x of gw.inferences.filter((i) => i.caseId.endsWith('@r1.1'))) {
      const row = rows.find((r) => `${r.id}@r1.1` === x.caseId);
      assert.ok(row, `${x.caseId} names a row of the CSV`);
      assert.deepEqual(x.inputs[0]!.data, [row.a], `${x.caseId} carries its own row's features`);
    }
    // No case id is ever sent twice, and no outcome is posted for a case that was not answered.
    const ids = gw.inferences.map((x) => x.caseId);
    assert.equal(new Set(ids).size, ids.length);
    const outcomeIds = gw.outcomes.map((o) => o.case_id);
    assert.equal(new Set(outcomeIds).size, outcomeIds.length);
    assert.ok(outcomeIds.every((id) => ids.includes(id)));
  });

  it('names the feature columns the CSV lacks, and a label that is not 0/1', () => {
    const { file } = writeCsv();
    const csv = readTrafficCsv(file, { caseId: 'case_id', label: 'y' });
    assert.throws(
      () => featureColumns(csv, ['a', 'mean radius', 'b', 'mean texture']),
      /lacks the model's feature column\(s\) "mean radius", "mean texture"/,
    );
    assert.throws(
      () => readTrafficCsv(file, { caseId: 'case_id', label: 'unused' }),
      /must hold 0 or 1; row 1 has "99"/,
    );
    assert.throws(() => readTrafficCsv(file, { caseId: 'id', label: 'y' }), /no column "id" \(--case-id-column\)/);
  });
});
