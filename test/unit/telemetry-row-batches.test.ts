import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { hashCaseId, parseSegment, WriteAheadLog, type PredictionEvent } from '../../src/telemetry';
import { HmacSha256 } from '../../src/telemetry/hmac-sha256';
import { HmacSha256x4 } from '../../src/telemetry/hmac-sha256-x4';
import { PredictionEncoder, PredictionRecorder } from '../../src/telemetry/prediction-recorder';
import { encodeRowBatch, expandRows, packRowBatch, unpackRowBatch, type RowBatch } from '../../src/telemetry/row-batch';

const KEY = 'case-id-key-0123456789';
const caseId = (i: number) =>
  i % 17 === 5 ? `patiënt-✓-${i}` : i % 23 === 9 ? `long-${'z'.repeat(60)}-${i}` : `case-${i}`;

function batch(n: number, offset: number): RowBatch {
  const scores = new Float64Array(offset + n);
  for (let i = 0; i < scores.length; i++) scores[i] = (i % 10) / 10 + 0.05;
  return {
    atMs: Date.parse('2026-03-01T10:00:00.123Z'),
    model: 'sepsis-alert',
    modelVersion: '2.0.0',
    route: 'shadow',
    routeVersion: 4,
    latencyMs: 1.2345678,
    site: 'site-c',
    threshold: 0.5,
    // Mostly short ASCII ids (the vector path), some non-ASCII or over 55 bytes (the scalar path).
    caseIds: Array.from({ length: n }, (_, i) => caseId(i)),
    scores,
    offset,
    quality: Array.from({ length: n }, (_, i) => (i === 3 ? ['missing_value'] : [])),
  };
}

/** The events a recorder writes for one row batch, on the encoder thread or in-thread. */
async function written(workerMinRows: number, b: RowBatch): Promise<PredictionEvent[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-rows-'));
  const wal = await WriteAheadLog.open({ dir });
  try {
    const rec = new PredictionRecorder({ wal, caseIdKey: KEY, workerMinRows });
    rec.recordRows(b);
    await rec.close();
    await wal.flush();
    assert.deepEqual(rec.stats(), { recorded: b.caseIds.length, written: b.caseIds.length, failed: 0 });
    return [...wal.scanLocal()].filter((e): e is PredictionEvent => e.kind === 'prediction');
  } finally {
    await wal.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('row batches: every row a prediction, on the encoder thread as in-thread', () => {
  it('writes the same events either way, each row with its own case, score, decision and quality', async () => {
    const b = batch(200, 7);
    const strip = (es: PredictionEvent[]) => es.map(({ eventId: _id, ...rest }) => rest);
    const onThread = await written(1, b);
    const inThread = await written(Infinity, b);
    assert.equal(onThread.length, 200);
    assert.deepEqual(strip(onThread), strip(inThread));
    onThread.forEach((e, i) => {
      const score = ((i + 7) % 10) / 10 + 0.05;
      assert.equal(e.caseIdHash, hashCaseId(caseId(i), KEY));
      assert.equal(e.score, score);
      assert.equal(e.decision, score >= 0.5);
      assert.deepEqual(e.quality, i === 3 ? ['missing_value'] : []);
      assert.equal(e.at, '2026-03-01T10:00:00.123Z');
      assert.equal(e.latencyMs, 1.235);
      assert.equal(e.route, 'shadow');
    });
  });

  it("encodeRowBatch writes a line that reads as exactly the encoder line's events (ids aside), shared columns once", () => {
    const b = batch(5, 2);
    const variants: RowBatch[] = [
      b,
      { ...b, threshold: undefined, quality: null, site: null },
      { ...b, scores: new Float64Array([NaN, 0.5, 1, 0, 1e-9, 0.25, 0.75]), site: 'Zürich "north"', model: 'm\u2028' },
      { ...b, caseIds: ['only'], quality: [['out_of_range', 'missing_value']] },
      { ...batch(1000, 0), quality: null },
    ];
    const events = (text: string) => {
      const parsed = parseSegment(text);
      assert.equal(parsed.skipped, 0);
      return parsed.events.map(({ eventId: _id, ...rest }) => rest);
    };
    // The scalar writer (one id at a time) and the encoder thread's (four at a time, the whole list at once).
    for (const writer of [new HmacSha256(KEY), new HmacSha256x4(KEY)])
      for (const v of variants) {
        const fast = encodeRowBatch(v, writer).toString('utf8');
        const reference = new PredictionEncoder(KEY).encode(expandRows(v));
        assert.deepEqual(events(fast), events(reference));
        assert.equal(events(fast).length, v.caseIds.length);
        if (v.caseIds.length === 1000)
          assert.ok(fast.length < 0.6 * reference.length, `${fast.length} vs ${reference.length} bytes`);
      }
    // Packed for the thread and back, as a dead thread's batches are: the same batch.
    const mixed = batch(300, 3);
    assert.deepEqual(unpackRowBatch(packRowBatch(mixed)), { ...mixed, offset: 0, scores: mixed.scores.slice(3) });
    // A line with a column neither per row nor shared is not a batch (skipped as torn).
    const torn = encodeRowBatch(b, new HmacSha256(KEY)).toString('utf8').replace('"model":"sepsis-alert",', '');
    assert.deepEqual(parseSegment(torn), { events: [], skipped: 1 });
  });
});
