import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import {
  aggregate,
  caseIdKeyObject,
  hashCaseId,
  OutcomeBatchSchema,
  parseSegment,
  pointerKey,
  SegmentUploader,
  WriteAheadLog,
  type PredictionEvent,
  type SegmentPointer,
  type TelemetryEvent,
} from '../../src/telemetry';
import { MemorySink, prediction, tempDirs } from '../support/telemetry-fakes';

const tmp = tempDirs('vigil-wal-');

describe('telemetry write-ahead log', () => {
  it('resolves an append only once its events are in the file, batching concurrent appends', async () => {
    const dir = tmp();
    const wal = await WriteAheadLog.open({ dir, flushIntervalMs: 5, flushEvents: 512 });
    const events = Array.from({ length: 2000 }, () => prediction());
    await Promise.all(
      events.map(async (e) => {
        await wal.append([e]);
        const text = fs.readFileSync(path.join(dir, fs.readdirSync(dir)[0]!), 'utf8');
        assert.ok(text.includes(e.eventId), 'acknowledged but not in the file');
      }),
    );
    assert.equal(wal.acknowledged, 2000);
    await wal.close();
  });

  it('relaxed batches wait for their window or byte limit, not for flushEvents; a strict append still cuts the batch', async () => {
    const dir = tmp();
    const fileText = (): string => fs.readFileSync(path.join(dir, fs.readdirSync(dir)[0]!), 'utf8');
    const wal = await WriteAheadLog.open({
      dir,
      flushEvents: 10,
      relaxedFlushIntervalMs: 60_000,
      relaxedFlushBytes: 64 * 1024,
    });
    // 100 relaxed events, ten times flushEvents: nothing is written before the window ends or 64 KiB are pending.
    const relaxed = Array.from({ length: 100 }, () => prediction());
    const written = Promise.all(relaxed.map((e) => wal.append([e], { relaxed: true })));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(fileText(), '', 'a relaxed batch was cut at flushEvents');
    // Past the byte limit the batch is written at once (the 60 s window has not ended).
    const bulk = Array.from({ length: 400 }, () => prediction());
    await Promise.all([written, wal.append(bulk, { relaxed: true })]);
    assert.equal(parseSegment(fileText()).events.length, 500);
    // A client waiting for its acknowledgement gets the strict window, and takes pending relaxed events with it.
    const later = prediction();
    const laterWritten = wal.append([later], { relaxed: true });
    await wal.append([prediction()]);
    await laterWritten;
    assert.ok(fileText().includes(later.eventId));
    await wal.close();
  });

  it('on reopen, earlier files are sealed for upload and a torn last line is skipped', async () => {
    const dir = tmp();
    const wal = await WriteAheadLog.open({ dir });
    const acked = [prediction(), prediction()];
    await wal.append(acked);
    // Simulate a crash mid-write: a partial line that was never acknowledged.
    fs.appendFileSync(path.join(dir, fs.readdirSync(dir)[0]!), '{"kind":"prediction","eventId":"torn');
    const reopened = await WriteAheadLog.open({ dir });
    assert.equal(reopened.sealedSegments().length, 1);
    const { events, skipped } = parseSegment(fs.readFileSync(reopened.sealedSegments()[0]!, 'utf8'));
    assert.deepEqual(
      events.map((e) => e.eventId),
      acked.map((e) => e.eventId),
    );
    assert.equal(skipped, 1);
    assert.deepEqual(
      [...reopened.scanLocal()].map((e) => e.eventId),
      acked.map((e) => e.eventId),
    );
    await reopened.close();
  });

  it('rotates segments by size and appends keep working across rotations', async () => {
    const wal = await WriteAheadLog.open({ dir: tmp(), segmentMaxBytes: 4096 });
    for (let i = 0; i < 20; i++) await wal.append(Array.from({ length: 10 }, () => prediction()));
    assert.ok(wal.sealedSegments().length >= 5);
    assert.equal([...wal.scanLocal()].length, 200);
    await wal.close();
  });
});

describe('segment upload', () => {
  it('uploads each sealed segment content-addressed with one pointer per window, then removes it; retries after a failure', async () => {
    const dir = tmp();
    const wal = await WriteAheadLog.open({ dir });
    const sink = new MemorySink();
    const uploader = new SegmentUploader(wal, sink);
    const a = prediction({ at: '2026-03-01T10:59:59.000Z' });
    const b = prediction({ at: '2026-03-01T11:00:00.000Z', route: 'shadow', modelVersion: '2.0.0' });
    await wal.append([a, b]);
    await wal.rotate();
    sink.failNext = 1;
    await uploader.kick();
    assert.equal(uploader.failures, 1);
    assert.equal(wal.sealedSegments().length, 1, 'kept locally until uploaded');
    await uploader.kick();
    assert.equal(wal.sealedSegments().length, 0);
    const segKey = [...sink.objects.keys()].find((k) => k.startsWith('sha256/'))!;
    const sha = segKey.slice(7);
    const p10 = JSON.parse(sink.objects.get(pointerKey('2026-03-01T10', sha))!.toString()) as SegmentPointer;
    const p11 = JSON.parse(sink.objects.get(pointerKey('2026-03-01T11', sha))!.toString()) as SegmentPointer;
    assert.deepEqual([p10.counts.prediction, p11.counts.prediction], [1, 1]);
    assert.deepEqual(p10.caseIdHashes, [a.caseIdHash]);
    assert.equal(p10.segment.sha256, sha);
    assert.deepEqual(parseSegment(sink.objects.get(segKey)!.toString()).events, [a, b]);
    await wal.close();
  });

  it('re-uploading the same segment after a crash before removal is idempotent', async () => {
    const dir = tmp();
    const sink = new MemorySink();
    const wal = await WriteAheadLog.open({ dir });
    await wal.append([prediction(), prediction()]);
    await wal.rotate();
    const file = wal.sealedSegments()[0]!;
    const copy = fs.readFileSync(file);
    await new SegmentUploader(wal, sink).kick();
    fs.writeFileSync(file, copy); // as if the process died before removing it
    const reopened = await WriteAheadLog.open({ dir });
    const before = sink.objects.size;
    await new SegmentUploader(reopened, sink).kick();
    assert.equal(sink.objects.size, before);
    await wal.close();
    await reopened.close();
  });
});

describe('outcome ingest and window aggregation', () => {
  it('validates outcomes: one case reference, a known source, an ISO time', () => {
    const ok = {
      model: 'm',
      case_id: 'c1',
      label: 1,
      source: 'downstream_outcome',
      observed_at: '2026-03-01T10:00:00Z',
    };
    assert.equal(OutcomeBatchSchema.safeParse(ok).success, true);
    assert.equal(OutcomeBatchSchema.safeParse({ events: [ok, ok] }).success, true);
    assert.equal(OutcomeBatchSchema.safeParse({ ...ok, case_id_hash: 'a'.repeat(64) }).success, false);
    assert.equal(OutcomeBatchSchema.safeParse({ ...ok, source: 'hearsay' }).success, false);
    assert.equal(OutcomeBatchSchema.safeParse({ ...ok, label: 2 }).success, false);
  });

  it('joins outcomes to predictions with the most heavily weighted source, per version and route', () => {
    const p1 = prediction({ decision: true });
    const p2 = prediction({ decision: false });
    const p3 = prediction({ decision: true, route: 'shadow', modelVersion: '2.0.0', caseIdHash: p2.caseIdHash });
    const outcome = (
      caseIdHash: string,
      label: 0 | 1,
      source: 'clinician_review' | 'downstream_outcome' | 'complaint',
    ): TelemetryEvent => ({
      kind: 'outcome',
      eventId: `o-${caseIdHash.slice(0, 8)}-${source}`,
      at: p1.at,
      model: 'sepsis-alert',
      caseIdHash,
      label,
      source,
      observedAt: p1.at,
    });
    const events: TelemetryEvent[] = [
      p1,
      p2,
      p3,
      p1, // a duplicate event id counts once
      outcome(p1.caseIdHash, 0, 'complaint'),
      outcome(p1.caseIdHash, 1, 'clinician_review'), // outweighs the complaint
      outcome(p2.caseIdHash, 1, 'downstream_outcome'),
    ];
    const arms = aggregate(events, { clinician_review: 1, downstream_outcome: 0.5, complaint: 0.25 });
    const prod = arms.find((a) => a.route === 'production')!;
    const shadow = arms.find((a) => a.route === 'shadow')!;
    assert.equal(prod.predictions, 2);
    assert.deepEqual(prod.weighted, { tp: 1, fp: 0, fn: 0.5, tn: 0 });
    assert.deepEqual(shadow.weighted, { tp: 0.5, fp: 0, fn: 0, tn: 0 });
    assert.equal(prod.alerts, 1);
  });
});

describe('prediction event serialisation (gateway hot path)', () => {
  it('parseSegment expands a prediction batch line in place and skips one that is not whole', () => {
    const batch = {
      kind: 'predictions',
      eventId: 'b1',
      at: ['2026-03-01T10:00:00.000Z', '2026-03-01T10:00:00.001Z'],
      model: ['m', 'm'],
      modelVersion: ['1', '2'],
      route: ['production', 'shadow'],
      routeVersion: [3, 3],
      caseIdHash: ['a'.repeat(64), 'a'.repeat(64)],
      score: [0.1, null],
      decision: [false, null],
      latencyMs: [0.5, 1.25],
      quality: [[], ['missing_value']],
    };
    const before = prediction();
    const after = prediction();
    const text = [
      JSON.stringify(before),
      JSON.stringify(batch),
      JSON.stringify({ ...batch, score: [0.1] }),
      JSON.stringify({ ...batch, eventId: undefined }),
      JSON.stringify({ ...batch, quality: 'x' }),
      JSON.stringify(after),
      '',
    ].join('\n');
    const { events, skipped } = parseSegment(text);
    assert.equal(skipped, 3, 'unequal columns, no batch id, a column that is not an array');
    // The optional site column: names a site where it holds one; a site column of the wrong length is not a whole batch.
    const sited = parseSegment(JSON.stringify({ ...batch, site: ['site-a', null] })).events as PredictionEvent[];
    assert.deepEqual(
      sited.map((e) => e.site),
      ['site-a', undefined],
    );
    assert.equal('site' in sited[1]!, false);
    assert.equal(parseSegment(JSON.stringify({ ...batch, site: ['site-a'] })).skipped, 1);
    assert.deepEqual(events, [
      before,
      {
        kind: 'prediction',
        eventId: 'b1.0',
        at: '2026-03-01T10:00:00.000Z',
        model: 'm',
        modelVersion: '1',
        route: 'production',
        routeVersion: 3,
        caseIdHash: 'a'.repeat(64),
        score: 0.1,
        decision: false,
        latencyMs: 0.5,
        quality: [],
      },
      {
        kind: 'prediction',
        eventId: 'b1.1',
        at: '2026-03-01T10:00:00.001Z',
        model: 'm',
        modelVersion: '2',
        route: 'shadow',
        routeVersion: 3,
        caseIdHash: 'a'.repeat(64),
        score: null,
        decision: null,
        latencyMs: 1.25,
        quality: ['missing_value'],
      },
      after,
    ]);
  });

  it('appendSerialized lines (non-ASCII included) read back as the same events', async () => {
    const wal = await WriteAheadLog.open({ dir: tmp() });
    const events = [prediction({ model: 'modèle-✓', quality: ['😀'] }), prediction()];
    await wal.appendSerialized(events.map((e) => JSON.stringify(e)));
    await wal.append([prediction({ modelVersion: 'v-ß' })]);
    const back = [...wal.scanLocal()];
    assert.deepEqual(back.slice(0, 2), events);
    assert.equal((back[2] as PredictionEvent).modelVersion, 'v-ß');
    await wal.close();
  });

  it('appendEncoded takes whole lines as one text (non-ASCII, past the buffer size) and refuses anything else, writing nothing', async () => {
    const wal = await WriteAheadLog.open({ dir: tmp() });
    const events = Array.from({ length: 600 }, (_, i) =>
      prediction({ model: `modèle-✓-${i % 3}`, quality: i % 2 ? ['😀'] : [] }),
    );
    const text = events.map((e) => JSON.stringify(e) + '\n').join('');
    assert.ok(Buffer.byteLength(text) > 64 * 1024, 'larger than the initial batch buffer');
    await wal.appendEncoded(text, events.length);
    await assert.rejects(wal.appendEncoded(JSON.stringify(prediction()), 1), /whole lines ending with a newline/);
    await assert.rejects(wal.appendEncoded('', 0), /whole lines/);
    const tail = prediction();
    await wal.appendEncoded(JSON.stringify(tail) + '\n', 1, { relaxed: true });
    assert.deepEqual([...wal.scanLocal()], [...events, tail]);
    assert.equal(wal.acknowledged, events.length + 1);
    await wal.close();
  });

  it('batches are encoded as they are appended: buffers grow past their first size, are reused, and every line lands once, in order', async () => {
    const wal = await WriteAheadLog.open({ dir: tmp(), flushEvents: 100_000, flushIntervalMs: 1 });
    // One batch far larger than the initial 64 KiB buffer (and non-ASCII, so UTF-8 is longer than the text).
    const big = Array.from({ length: 3000 }, (_, i) =>
      prediction({ model: `modèle-${i % 7}`, quality: i % 2 ? ['missing_value'] : [] }),
    );
    const first = wal.appendSerialized(
      big.map((e) => JSON.stringify(e)),
      { relaxed: true },
    );
    const second = wal.append(big.slice(0, 10));
    await Promise.all([first, second]);
    // Later, smaller batches reuse a written batch's buffer: no stale bytes may leak into them.
    const small: PredictionEvent[] = [];
    for (let k = 0; k < 5; k++) {
      const batch = [prediction({ score: k / 10 }), prediction({ modelVersion: `v${k}` })];
      small.push(...batch);
      await wal.append(batch);
    }
    const back = [...wal.scanLocal()];
    assert.deepEqual(back, [...big, ...big.slice(0, 10), ...small]);
    assert.equal(wal.acknowledged, big.length + 10 + small.length);
    await wal.close();
  });

  it('a KeyObject case-id key gives the same HMAC as the string key', () => {
    const key = 'k'.repeat(24);
    assert.equal(hashCaseId('patient-1/enc-2', caseIdKeyObject(key)), hashCaseId('patient-1/enc-2', key));
  });
});
