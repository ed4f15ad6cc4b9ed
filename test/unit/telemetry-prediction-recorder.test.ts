import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import {
  CaseIdHasher,
  hashCaseId,
  parseSegment,
  segmentBytes,
  WriteAheadLog,
  type PredictionBatchLine,
  type PredictionEvent,
  type TelemetryEvent,
} from '../../src/telemetry';
import { PredictionEncoder, PredictionRecorder, type PredictionRecord } from '../../src/telemetry/prediction-recorder';

const KEY = 'case-id-key-0123456789';
/** Expanded from a batch line: the batch's UUID and the event's position in it. */
const BATCH_EVENT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\.\d+$/;

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
  site: fc.option(fc.string({ maxLength: 12 }), { nil: null }),
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
    latencyMs: Math.round(r.latencyMs * 1000) / 1000,
    quality: [...r.quality],
    ...(r.site !== null ? { site: r.site } : {}),
  };
}

function withoutId(e: PredictionEvent): Omit<PredictionEvent, 'eventId'> {
  const { eventId, ...rest } = e;
  assert.match(eventId, BATCH_EVENT_ID);
  return rest;
}

function rec(i: number, caseId = `case-${i}`): PredictionRecord {
  return {
    atMs: 1_780_000_000_000 + i,
    model: 'sepsis-alert',
    modelVersion: '1.4.0',
    route: i % 3 === 0 ? 'shadow' : 'production',
    routeVersion: 7,
    caseId,
    score: i / 1000,
    decision: i % 2 === 0,
    latencyMs: 0.25 + i / 1e6,
    quality: i % 5 === 0 ? ['missing_feature:x3'] : [],
    site: i % 4 === 0 ? null : `site-${i % 3}`,
  };
}

describe('CaseIdHasher (HMAC-SHA256 by its definition)', () => {
  it('gives the published RFC 4231 value (test case 2)', () => {
    assert.equal(
      new CaseIdHasher('Jefe').hash('what do ya want for nothing?'),
      '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    );
  });

  it("equals node's createHmac for any id (non-ASCII, longer than its buffer) and any key (longer than a block)", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 120 }),
        fc.string({ unit: 'binary', minLength: 1, maxLength: 100 }),
        (id, key) => {
          const hasher = new CaseIdHasher(key);
          assert.equal(hasher.hash(id), hashCaseId(id, key));
          // Its buffer holds the previous id: a shorter one after a longer one must not see its tail.
          assert.equal(hasher.hash(id.slice(0, 3)), hashCaseId(id.slice(0, 3), key));
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('prediction batches', () => {
  it('encodes a batch as one line that reads back as the events, case ids hashed, in order, with distinct stable ids', () => {
    fc.assert(
      fc.property(fc.array(recordArb, { minLength: 1, maxLength: 30 }), (records) => {
        const text = new PredictionEncoder(KEY).encode(records);
        assert.ok(text.endsWith('\n'));
        assert.equal(text.indexOf('\n'), text.length - 1, 'one line');
        const { events, skipped } = parseSegment(text);
        assert.equal(skipped, 0);
        assert.deepEqual(
          events.map((e) => withoutId(e as PredictionEvent)),
          records.map(expectedEvent),
        );
        const ids = events.map((e) => e.eventId);
        assert.equal(new Set(ids).size, records.length);
        assert.deepEqual(
          parseSegment(text).events.map((e) => e.eventId),
          ids,
          'the same ids on every read',
        );
        // The expanded events serialise as events always did (the form segments in S3 hold).
        for (const e of events) assert.deepEqual(JSON.parse(JSON.stringify(e)), e);
      }),
    );
  });

  it('a batch line is columns of equal length, one per field', () => {
    const records = [rec(1), rec(2), rec(4)];
    const line = JSON.parse(new PredictionEncoder(KEY).encode(records)) as PredictionBatchLine;
    assert.equal(line.kind, 'predictions');
    const { kind: _k, eventId: _b, ...columns } = line;
    assert.deepEqual(Object.keys(columns), [
      'at',
      'model',
      'modelVersion',
      'route',
      'routeVersion',
      'caseIdHash',
      'score',
      'decision',
      'latencyMs',
      'quality',
      'site',
    ]);
    for (const col of Object.values(columns)) assert.equal((col as unknown[]).length, 3);
    assert.deepEqual(line.site, ['site-1', 'site-2', null]);
    assert.deepEqual(line.score, [0.001, 0.002, 0.004]);
  });

  it('a batch line looks like an event to a reader from before batch lines, and comes back whole from the segment it uploads', () => {
    const records = [rec(1), rec(2), rec(4)];
    const text = new PredictionEncoder(KEY).encode(records);
    // What parseSegment accepted before batch lines: any JSON object with string eventId and kind.
    const asOldReaderSawIt = JSON.parse(text) as TelemetryEvent;
    assert.equal(typeof asOldReaderSawIt.eventId, 'string');
    assert.equal(typeof asOldReaderSawIt.kind, 'string');
    // Such a gateway uploads it as it is; this version's readers expand it from S3.
    const fromS3 = parseSegment(Buffer.from(segmentBytes([asOldReaderSawIt])).toString('utf8'));
    assert.equal(fromS3.skipped, 0);
    assert.deepEqual(fromS3.events, parseSegment(text).events);
  });

  it("never writes a raw case id; a mirror reuses its production record's hash", () => {
    const prod = rec(1, 'MRN-0042-raw');
    const mirror: PredictionRecord = { ...rec(2, 'MRN-0042-raw'), route: 'shadow', mirrorOf: prod };
    const text = new PredictionEncoder(KEY).encode([prod, mirror]);
    assert.ok(!text.includes('MRN-0042-raw'));
    assert.equal(text.split(hashCaseId('MRN-0042-raw', KEY)).length - 1, 2);
    assert.equal(prod.caseIdHash, hashCaseId('MRN-0042-raw', KEY));
    // Encoded in a later batch than its production record, the mirror still gets the same hash.
    const later: PredictionRecord = { ...rec(3, 'ignored: the hash comes from mirrorOf'), mirrorOf: prod };
    assert.equal(
      (parseSegment(new PredictionEncoder(KEY).encode([later])).events[0] as PredictionEvent).caseIdHash,
      prod.caseIdHash,
    );
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
  const predictions = (w: WriteAheadLog) =>
    [...w.scanLocal()].filter((e): e is PredictionEvent => e.kind === 'prediction');

  async function recordAll(recorder: PredictionRecorder, records: PredictionRecord[], perTurn: number): Promise<void> {
    for (let i = 0; i < records.length; i += perTurn) {
      for (const r of records.slice(i, i + perTurn)) recorder.record(r);
      await new Promise((r) => setImmediate(r));
    }
  }

  it('writes every recorded prediction to the WAL, in order, one append per batch window', async () => {
    const w = await wal();
    const recorder = new PredictionRecorder({ wal: w, caseIdKey: KEY, batchWindowMs: 5 });
    const records = Array.from({ length: 1000 }, (_, i) => rec(i, `case-${i % 50}`));
    await recordAll(recorder, records, 37);
    await new Promise((r) => setTimeout(r, 20));
    await w.flush();
    assert.deepEqual(predictions(w).map(withoutId), records.map(expectedEvent));
    assert.deepEqual(recorder.stats(), { recorded: 1000, written: 1000, failed: 0 });
    await w.close();
  });

  it('holds records until the window ends or maxBatch are waiting; flush hands them over at once', async () => {
    const w = await wal();
    const recorder = new PredictionRecorder({ wal: w, caseIdKey: KEY, batchWindowMs: 60_000, maxBatch: 8 });
    for (let i = 0; i < 7; i++) recorder.record(rec(i));
    await w.flush();
    assert.equal(predictions(w).length, 0, 'still in the window');
    recorder.record(rec(7));
    await w.flush();
    assert.equal(predictions(w).length, 8, 'the 8th record filled the batch');
    recorder.record(rec(8));
    recorder.flush();
    await w.flush();
    assert.equal(predictions(w).length, 9);
    assert.deepEqual(recorder.stats(), { recorded: 9, written: 9, failed: 0 });
    await w.close();
  });

  it('counts a batch the WAL refused as lost, and goes on', async () => {
    const w = await wal();
    const recorder = new PredictionRecorder({ wal: w, caseIdKey: KEY, batchWindowMs: 1 });
    await w.close();
    recorder.record(rec(1));
    recorder.flush();
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(recorder.stats(), { recorded: 1, written: 0, failed: 1 });
  });
});
