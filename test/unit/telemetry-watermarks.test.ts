import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import {
  awaitCompleteness,
  judgeCompleteness,
  parseSegment,
  SegmentUploader,
  TelemetryLiveSource,
  WriteAheadLog,
  type PredictionEvent,
  type TelemetryWatermark,
  type WatermarkStore,
} from '../../src/telemetry';
import { MemorySink, prediction, tempDirs } from '../support/telemetry-fakes';

const tmp = tempDirs('vigil-watermark-');
/** A prediction stamped `at`. */
const stamped = (at: string): PredictionEvent => prediction({ at });

/** Records every watermark put, and checks at each put that what it claims is really uploaded. */
class CheckingStore implements WatermarkStore {
  readonly puts: TelemetryWatermark[] = [];
  constructor(private readonly check: (w: TelemetryWatermark) => void = () => {}) {}
  async put(w: TelemetryWatermark): Promise<void> {
    this.check(w);
    this.puts.push(w);
  }
  async list(): Promise<TelemetryWatermark[]> {
    const last = new Map(this.puts.map((w) => [w.gateway, w]));
    return [...last.values()];
  }
}

const mark = (gateway: string, through: string, at: string): TelemetryWatermark => ({
  kind: 'vigil.telemetry-watermark/v1',
  gateway,
  through,
  at,
});

describe('telemetry completeness (judging watermarks)', () => {
  const from = '2026-03-01T10:00:00.000Z';
  const to = '2026-03-01T10:05:00.000Z';

  it('complete only when every gateway alive in the interval is past its end; gone-before and cleanly stopped gateways do not hold it', () => {
    assert.deepEqual(judgeCompleteness([], from, to), { complete: null, gateways: [] });
    // Last heartbeat more than GONE_AFTER_MS (10 min) before the interval: gone for good.
    const gone = mark('old', '2026-03-01T09:00:00.000Z', '2026-03-01T09:49:59.999Z');
    assert.deepEqual(judgeCompleteness([gone], from, to), { complete: null, gateways: [] });
    const a = mark('a', to, '2026-03-01T10:05:03.000Z');
    const b = mark('b', '2026-03-01T10:04:59.999Z', '2026-03-01T10:05:03.000Z');
    assert.deepEqual(judgeCompleteness([gone, a], from, to), {
      complete: true,
      gateways: [{ gateway: 'a', through: to }],
    });
    // One lagging gateway makes the interval incomplete, and both are reported.
    assert.deepEqual(judgeCompleteness([b, a, gone], from, to), {
      complete: false,
      gateways: [
        { gateway: 'a', through: to },
        { gateway: 'b', through: '2026-03-01T10:04:59.999Z' },
      ],
    });
    // A gateway that died inside the interval (last watermark after `from`, before `to`) holds it incomplete.
    const died = mark('c', '2026-03-01T10:01:00.000Z', '2026-03-01T10:01:03.000Z');
    assert.equal(judgeCompleteness([a, died], from, to).complete, false);
    // …and so does one that stopped beating shortly before it (its WAL may hold events nobody uploaded).
    const crashed = mark('d', '2026-03-01T09:55:00.000Z', '2026-03-01T09:55:03.000Z');
    assert.equal(judgeCompleteness([a, crashed], from, to).complete, false);
    // A clean shutdown uploaded everything: complete for any later interval.
    const stopped: TelemetryWatermark = { ...crashed, stopped: true };
    assert.deepEqual(judgeCompleteness([a, stopped], from, to), {
      complete: true,
      gateways: [
        { gateway: 'a', through: to },
        { gateway: 'd', through: '2026-03-01T09:55:00.000Z', stopped: true },
      ],
    });
  });

  it('awaitCompleteness polls until the watermark passes, and gives up after maxWaitMs reporting incomplete', async () => {
    let clock = 0;
    const marks: TelemetryWatermark[] = [mark('a', '2026-03-01T10:04:00.000Z', '2026-03-01T10:04:03.000Z')];
    const store: WatermarkStore = { put: async () => {}, list: async () => [...marks] };
    const sleep = async (ms: number): Promise<void> => {
      clock += ms;
      if (clock >= 3000) marks[0] = mark('a', '2026-03-01T10:05:01.000Z', '2026-03-01T10:05:04.000Z');
    };
    const done = await awaitCompleteness(store, from, to, { maxWaitMs: 60_000, pollMs: 500, sleep, now: () => clock });
    assert.deepEqual(done, {
      complete: true,
      gateways: [{ gateway: 'a', through: '2026-03-01T10:05:01.000Z' }],
      waitedMs: 3000,
    });

    clock = 0;
    marks[0] = mark('a', '2026-03-01T10:04:00.000Z', '2026-03-01T10:04:03.000Z');
    const stuck: WatermarkStore = { put: async () => {}, list: async () => [...marks] };
    const late = await awaitCompleteness(stuck, from, to, {
      maxWaitMs: 2000,
      pollMs: 500,
      sleep: async (ms) => void (clock += ms),
      now: () => clock,
    });
    assert.equal(late.complete, false);
    assert.equal(late.waitedMs, 2000);
    // No gateway publishes watermarks: nothing to wait for, reported as unknown.
    const none = await awaitCompleteness({ put: async () => {}, list: async () => [] }, from, to, {
      maxWaitMs: 60_000,
      sleep: () => assert.fail('must not wait'),
      now: () => clock,
    });
    assert.deepEqual(none, { complete: null, gateways: [], waitedMs: 0 });
  });
});

describe('upload watermark (gateway side)', () => {
  it('moves only once the events stamped before it are in uploaded segments, never past a failed upload', async () => {
    const wal = await WriteAheadLog.open({ dir: tmp(), segmentMaxAgeMs: 60_000 });
    const sink = new MemorySink();
    const appended: PredictionEvent[] = [];
    const store = new CheckingStore((w) => {
      // Whatever the watermark claims must already be in S3: every event stamped before it.
      const uploaded = sink.uploadedEventIds();
      for (const e of appended)
        if (e.at < w.through)
          assert.ok(
            uploaded.has(e.eventId),
            `watermark ${w.through} published before ${e.eventId} (${e.at}) was uploaded`,
          );
    });
    // The recorder hook: predictions it still holds are handed to the WAL at the start of each tick.
    let held: PredictionEvent[] = [];
    const flush = (): void => {
      if (held.length) void wal.append(held, { relaxed: true });
      held = [];
    };
    // Events here are appended as they are stamped: no lag to allow for.
    const uploader = new SegmentUploader(wal, sink, undefined, 1000, { store, gateway: 'gw-1', lagMs: 0, flush });

    const latest = (): number => Date.parse(store.puts.at(-1)!.through);
    // Empty WAL: everything stamped before the cut is uploaded (there is nothing).
    const t0 = Date.now();
    await uploader.tick();
    assert.equal(store.puts.length, 1);
    const first = latest();
    assert.ok(first >= t0 && first <= Date.now());
    // The lag (a shadow prediction is appended up to its mirror's deadline after its stamp) is taken off the cut.
    const lagged = new CheckingStore();
    await new SegmentUploader(await WriteAheadLog.open({ dir: tmp() }), sink, undefined, 1000, {
      store: lagged,
      gateway: 'gw-2',
      lagMs: 3000,
    }).tick();
    assert.ok(Date.parse(lagged.puts[0]!.through) <= Date.now() - 3000);

    // Events in the active segment, not old enough to seal: the watermark stays (re-published as a heartbeat).
    const a = stamped(new Date().toISOString());
    await wal.append([a]);
    appended.push(a);
    await new Promise((r) => setTimeout(r, 5));
    await uploader.tick();
    assert.equal(store.puts.length, 2);
    assert.equal(latest(), first, 'an unsealed segment holds the watermark back');

    // A held (not yet appended) prediction is flushed by the tick, sealed and uploaded before the watermark moves.
    const b = stamped(new Date().toISOString());
    held.push(b);
    appended.push(b);
    await wal.rotate(); // seals a
    sink.failNext = 1; // its upload fails: no watermark past it
    await uploader.tick(); // hands b to the WAL (the active segment)
    assert.equal(store.puts.length, 3, 'the heartbeat goes on while uploads fail');
    assert.equal(latest(), first, 'nothing is published past a failed upload');
    assert.equal(uploader.failures, 1);
    assert.equal(
      parseSegment(fs.readFileSync(path.join(wal.dir, fs.readdirSync(wal.dir).sort().at(-1)!), 'utf8')).events[0]
        ?.eventId,
      b.eventId,
    );
    await wal.rotate(); // seals b: the active segment is empty, so the cut could move…
    sink.failNext = 1; // …but the backlog is still not in S3
    await uploader.tick();
    assert.equal(store.puts.length, 4);
    assert.equal(latest(), first, 'the cut moved, the backlog did not: the watermark waits');
    await uploader.tick();
    assert.equal(store.puts.length, 5);
    assert.ok(latest() > first);
    assert.ok(sink.uploadedEventIds().has(b.eventId));

    // Shutdown: WAL closed (sealed), backlog uploaded, watermark at now.
    const c = stamped(new Date().toISOString());
    await wal.append([c]);
    appended.push(c);
    await wal.close();
    const before = Date.now();
    await uploader.finish();
    const last = store.puts.at(-1)!;
    assert.ok(Date.parse(last.through) >= before && last.gateway === 'gw-1' && last.stopped === true);
    assert.ok(sink.uploadedEventIds().has(c.eventId));
  });

  it('keeps moving under traffic sealed as fast as it is uploaded (the backlog is never empty at a tick)', async () => {
    const wal = await WriteAheadLog.open({ dir: tmp(), segmentMaxAgeMs: 60_000 });
    const appended: PredictionEvent[] = [];
    // Every upload lets a new segment arrive behind it, as steady traffic does when uploads are slow.
    let steady = true;
    class SteadySink extends MemorySink {
      override async putBytes(bytes: Uint8Array, mediaType: string) {
        const ref = await super.putBytes(bytes, mediaType);
        if (steady) {
          const e = stamped(new Date().toISOString());
          appended.push(e);
          await wal.append([e]);
          await wal.rotate();
        }
        return ref;
      }
    }
    const sink = new SteadySink();
    const store = new CheckingStore((w) => {
      const uploaded = sink.uploadedEventIds();
      for (const e of appended) if (e.at < w.through) assert.ok(uploaded.has(e.eventId), `${e.eventId} not uploaded`);
    });
    const uploader = new SegmentUploader(wal, sink, undefined, 1000, { store, gateway: 'gw-steady', lagMs: 0 });
    const first = stamped(new Date().toISOString());
    appended.push(first);
    await wal.append([first]);
    await wal.rotate();
    await new Promise((r) => setTimeout(r, 5));
    const cut = Date.now();
    // Waiting for an empty backlog would never end here; the tick must return and publish the cut it made.
    const ticked = await Promise.race([
      uploader.tick().then(() => true),
      new Promise<false>((r) => setTimeout(() => r(false), 10_000)),
    ]);
    assert.equal(ticked, true, 'the tick returned although segments keep arriving');
    assert.ok(wal.sealedSegments().length > 0 || sink.uploadedEventIds().size > 1, 'traffic kept sealing segments');
    assert.ok(Date.parse(store.puts.at(-1)!.through) >= cut - 1, 'the watermark reached the cut of this tick');
    steady = false;
    await uploader.stop();
    await wal.close();
    await uploader.finish();
    assert.equal(store.puts.at(-1)!.stopped, true);
    for (const e of appended) assert.ok(sink.uploadedEventIds().has(e.eventId));
  });

  it('moves under steady traffic whose flushes seal every segment at its age limit (a tick never finds one old)', async () => {
    const wal = await WriteAheadLog.open({ dir: tmp(), segmentMaxAgeMs: 300 });
    const sink = new MemorySink();
    const appended: PredictionEvent[] = [];
    const store = new CheckingStore((w) => {
      const uploaded = sink.uploadedEventIds();
      for (const e of appended) if (e.at < w.through) assert.ok(uploaded.has(e.eventId), `${e.eventId} not uploaded`);
    });
    const uploader = new SegmentUploader(wal, sink, undefined, 1000, { store, gateway: 'gw-flushing', lagMs: 0 });
    // Appends every ~2 ms for 2 s: the WAL's own flush seals each segment the moment it is 300 ms old, so the
    // active segment a tick sees is always younger than that and never empty.
    const start = Date.now();
    let traffic = true;
    const sending = (async () => {
      while (traffic) {
        const e = stamped(new Date().toISOString());
        appended.push(e);
        await wal.append([e]);
        await new Promise((r) => setTimeout(r, 2));
      }
    })();
    while (Date.now() - start < 2000) {
      await uploader.tick();
      await new Promise((r) => setTimeout(r, 100));
    }
    const lastTickAt = Date.now();
    await uploader.tick();
    traffic = false;
    await sending;
    const through = Date.parse(store.puts.at(-1)!.through);
    assert.ok(
      through >= lastTickAt - 700,
      `the watermark stood at ${through - start} ms into 2 s of traffic (last tick at ${lastTickAt - start} ms)`,
    );
    await uploader.stop();
    await wal.close();
  });

  it('a telemetry source with watermarks waits until the interval is uploaded, then reads it and says it is complete', async () => {
    const wal = await WriteAheadLog.open({ dir: tmp(), segmentMaxAgeMs: 0 });
    const sink = new MemorySink();
    const store = new CheckingStore();
    const uploader = new SegmentUploader(wal, sink, undefined, 1000, { store, gateway: 'gw-1', lagMs: 0 });
    const index = { pointers: async (w: string) => sink.pointers(w) };
    const source = new TelemetryLiveSource(index, sink, undefined, { store, maxWaitMs: 10_000, pollMs: 20 });
    // No gateway publishes yet: nothing to wait for, the read says "unknown".
    const t = new Date(Date.now() - 1000).toISOString();
    const unknown = await source.read({
      model: 'sepsis-alert',
      from: t,
      to: new Date(Date.parse(t) + 1).toISOString(),
    });
    assert.equal(unknown.completeness?.complete, null);

    await uploader.tick(); // the gateway is alive: watermark at this instant
    await new Promise((r) => setTimeout(r, 5));
    const e = stamped(new Date().toISOString());
    await wal.append([e]);
    const to = new Date(Date.parse(e.at) + 1).toISOString();
    // The watermark is before `to`: the read waits, and sees the event only once the next tick uploaded it.
    const reading = source.read({ model: 'sepsis-alert', from: e.at, to });
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(sink.uploadedEventIds().has(e.eventId), false);
    await uploader.tick(); // seals (age limit 0), uploads, moves the watermark past `to`
    const read = await reading;
    assert.equal(read.completeness?.complete, true);
    assert.ok(
      read.completeness!.waitedMs >= 90,
      `waited ${read.completeness!.waitedMs} ms (the tick came 100 ms after the read began)`,
    );
    assert.deepEqual(
      read.events.map((x) => x.eventId),
      [e.eventId],
    );
    await wal.close();
  });
});
