import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { hashCaseId, WriteAheadLog, type PredictionEvent } from '../../src/telemetry';
import { PredictionEncoder, packPredictions, type PredictionRecord } from '../../src/telemetry/prediction-batch';
import { PredictionRecorder } from '../../src/telemetry/prediction-recorder';

const KEY = 'case-id-key-0123456789';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const recordArb: fc.Arbitrary<PredictionRecord> = fc.record({
  atMs: fc.integer({ min: 0, max: 4102444800000 }),
  model: fc.constantFrom('sepsis-alert', 'cxr-triage', 'modèle "ü"'),
  modelVersion: fc.constantFrom('1.4.0', '2.0.0', '2.0.0-rc.1'),
  route: fc.constantFrom('production' as const, 'canary' as const, 'shadow' as const),
  routeVersion: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  caseId: fc.string({ minLength: 1, maxLength: 40 }),
  score: fc.double({ min: 0, max: 1, noNaN: true }),
  decision: fc.constantFrom(null, true, false),
  latencyMs: fc.double({ min: 0, max: 5000, noNaN: true }),
  quality: fc.array(fc.constantFrom('missing_feature:x3', 'out_of_range:x1', 'non_finite:x"0'), { maxLength: 3 }),
});

/** What the WAL must hold for a record: the event as JSON.stringify writes it, case id hashed. */
function expectedEvent(r: PredictionRecord): Omit<PredictionEvent, 'eventId'> {
  return {
    kind: 'prediction',
    at: new Date(r.atMs).toISOString(),
    model: r.model,
    modelVersion: r.modelVersion,
    route: r.route,
    routeVersion: r.routeVersion,
    caseIdHash: hashCaseId(r.caseId, KEY),
    score: r.score,
    decision: r.decision,
    latencyMs: r.latencyMs,
    quality: [...r.quality],
  };
}

function withoutId(e: PredictionEvent): Omit<PredictionEvent, 'eventId'> {
  const { eventId, ...rest } = e;
  assert.match(eventId, UUID);
  return rest;
}

function rec(i: number, caseId = `case-${i}`): PredictionRecord {
  return { atMs: 1_780_000_000_000 + i, model: 'sepsis-alert', modelVersion: '1.4.0', route: i % 3 === 0 ? 'shadow' : 'production', routeVersion: 7, caseId, score: i / 1000, decision: i % 2 === 0, latencyMs: 0.25 + i / 1e6, quality: i % 5 === 0 ? ['missing_feature:x3'] : [] };
}

describe('prediction batches', () => {
  it('a packed batch encodes to the same events as its records', () => {
    const ids = (text: string) => text.replace(/"eventId":"[0-9a-f-]{36}"/g, '"eventId":"…"');
    fc.assert(
      fc.property(fc.array(recordArb, { maxLength: 40 }), (records) => {
        const text = new PredictionEncoder(KEY).encodeBatch(packPredictions(records));
        assert.equal(ids(text), ids(new PredictionEncoder(KEY).encode(records)));
        assert.equal(text.split('\n').length - 1, records.length);
      }),
    );
  });

  it('encodes each record as one line: the event JSON.stringify would write, with the case id hashed', () => {
    fc.assert(
      fc.property(fc.array(recordArb, { minLength: 1, maxLength: 30 }), fc.integer({ min: 1, max: 8 }), (records, cacheSize) => {
        // A tiny hash cache is emptied again and again: every hash must still be right.
        const text = new PredictionEncoder(KEY, cacheSize).encode(records);
        assert.ok(text.endsWith('\n'));
        const lines = text.slice(0, -1).split('\n');
        assert.equal(lines.length, records.length);
        lines.forEach((line, i) => {
          const event = JSON.parse(line) as PredictionEvent;
          assert.deepEqual(withoutId(event), expectedEvent(records[i]!));
          assert.equal(line, JSON.stringify(event), 'field order and number text as JSON.stringify');
        });
      }),
    );
  });

  it('never writes a raw case id', () => {
    const text = new PredictionEncoder(KEY).encode([rec(1, 'MRN-0042-raw'), rec(2, 'MRN-0042-raw')]);
    assert.ok(!text.includes('MRN-0042-raw'));
    assert.equal(text.split(hashCaseId('MRN-0042-raw', KEY)).length - 1, 2);
  });

  it('refuses a batch with a route it does not know', () => {
    const packed = packPredictions([rec(1)]);
    packed.strings[packed.refs[2]!] = 'side-door';
    assert.throws(() => new PredictionEncoder(KEY).encodeBatch(packed), /unknown route "side-door"/);
  });
});

describe('PredictionRecorder', () => {
  const dirs: string[] = [];
  after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
  async function wal(): Promise<WriteAheadLog> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-recorder-'));
    dirs.push(dir);
    return WriteAheadLog.open({ dir });
  }
  const predictions = (w: WriteAheadLog) => [...w.scanLocal()].filter((e): e is PredictionEvent => e.kind === 'prediction');

  async function recordAll(recorder: PredictionRecorder, records: PredictionRecord[], perTurn: number): Promise<void> {
    for (let i = 0; i < records.length; i += perTurn) {
      for (const r of records.slice(i, i + perTurn)) recorder.record(r);
      await new Promise((r) => setImmediate(r));
    }
  }

  for (const mode of ['encoder thread', 'request thread'] as const) {
    it(`writes every recorded prediction to the WAL, in order (${mode})`, async () => {
      const w = await wal();
      const recorder = new PredictionRecorder({ wal: w, caseIdKey: KEY, thread: mode === 'encoder thread' });
      const records = Array.from({ length: 1000 }, (_, i) => rec(i, `case-${i % 50}`));
      await recordAll(recorder, records, 37);
      await recorder.drain();
      await w.flush();
      assert.deepEqual(predictions(w).map(withoutId), records.map(expectedEvent));
      assert.deepEqual(recorder.stats(), { recorded: 1000, written: 1000, encodedInline: mode === 'encoder thread' ? 0 : 1000, failed: 0, pending: 0, encoderRestarts: 0 });
      await recorder.close();
      await w.close();
    });
  }

  it('encodes on the request thread while the encoder has more than maxPendingEvents', async () => {
    const w = await wal();
    const recorder = new PredictionRecorder({ wal: w, caseIdKey: KEY, maxPendingEvents: 10, maxBatch: 8 });
    // The 8th record posts a batch of 8 to the thread; the next 8 would pass the bound while those are out, so they are encoded here.
    for (let i = 0; i < 8; i++) recorder.record(rec(i));
    assert.equal(recorder.stats().pending, 8);
    for (let i = 8; i < 16; i++) recorder.record(rec(i));
    assert.equal(recorder.stats().encodedInline, 8);
    await recorder.drain();
    await w.flush();
    const s = recorder.stats();
    assert.equal(s.written, 16);
    assert.equal(s.encodedInline, 8);
    assert.deepEqual(predictions(w).map(withoutId).sort((a, b) => a.at.localeCompare(b.at)), Array.from({ length: 16 }, (_, i) => expectedEvent(rec(i))));
    await recorder.close();
    await w.close();
  });

  it('counts what a dead encoder thread held, starts a new one and goes on', async () => {
    const w = await wal();
    const recorder = new PredictionRecorder({ wal: w, caseIdKey: KEY });
    for (let i = 0; i < 20; i++) recorder.record(rec(i));
    await recorder.drain();
    for (let i = 20; i < 40; i++) recorder.record(rec(i));
    (recorder as unknown as { flush(): void }).flush();
    // The thread may or may not have answered before it dies: every record is then either written or counted lost.
    await (recorder as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    await recorder.drain();
    await w.flush();
    const afterCrash = recorder.stats();
    assert.equal(afterCrash.encoderRestarts, 1);
    assert.ok(afterCrash.written >= 20);
    assert.equal(afterCrash.written + afterCrash.failed, 40);
    for (let i = 40; i < 50; i++) recorder.record(rec(i));
    await recorder.drain();
    await w.flush();
    const s = recorder.stats();
    assert.equal(s.written, afterCrash.written + 10);
    assert.equal(s.encodedInline, 0, 'the new thread encoded them');
    assert.deepEqual(predictions(w).map(withoutId).slice(-10), Array.from({ length: 10 }, (_, i) => expectedEvent(rec(40 + i))));
    await recorder.close();
    await w.close();
  });

  it('close hands everything recorded to the WAL first', async () => {
    const w = await wal();
    const recorder = new PredictionRecorder({ wal: w, caseIdKey: KEY });
    for (let i = 0; i < 100; i++) recorder.record(rec(i));
    await recorder.close();
    await w.close();
    const reopened = await WriteAheadLog.open({ dir: w.dir });
    assert.equal(predictions(reopened).length, 100);
    await reopened.close();
  });
});
