import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ShadowMirror, type Backend } from '../../src/gateway';
import type { ScoringInput } from '../../src/models';

const FEATURES = ['a', 'b'];

/** A backend whose score of a row is its first feature; records every call's row count. */
function echoBackend(
  opts: { kind?: Backend['kind']; delayMs?: number; fail?: boolean } = {},
): Backend & { calls: number[]; signals: Array<AbortSignal | undefined> } {
  const calls: number[] = [];
  const signals: Array<AbortSignal | undefined> = [];
  return {
    version: 'cand',
    kind: opts.kind ?? 'in-process',
    calls,
    signals,
    async score(input: ScoringInput, signal?: AbortSignal): Promise<Float64Array> {
      calls.push(input.rows);
      signals.push(signal);
      if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
      if (opts.fail) throw new Error('shadow down');
      const out = new Float64Array(input.rows);
      for (let r = 0; r < input.rows; r++) out[r] = input.features[r * FEATURES.length]!;
      return out;
    },
    close: async () => {},
  };
}

function input(rows: number, first: number): ScoringInput {
  const features = new Float32Array(rows * FEATURES.length);
  for (let r = 0; r < rows; r++) features[r * FEATURES.length] = first + r;
  return { featureNames: FEATURES, features, rows, caseIds: new Array<string>(rows).fill(`case-${first}`) };
}

async function settled(m: ShadowMirror): Promise<void> {
  while (m.stats().inFlight > 0) await new Promise((r) => setTimeout(r, 2));
}

describe('shadow mirror', () => {
  it('scores every mirrored case in shared backend calls and hands each its own rows, context and version', async () => {
    const m = new ShadowMirror(256, 2000, 8, 2);
    const b = echoBackend();
    const seen: Array<{ ctx: string; score: number; rows: number; version: string }> = [];
    const onScored = (
      scores: Float64Array,
      offset: number,
      _ms: number,
      ctx: { id: string; rows: number },
      version: string,
    ): void => {
      for (let r = 0; r < ctx.rows; r++)
        seen.push({ ctx: ctx.id, score: scores[offset + r]!, rows: ctx.rows, version });
    };
    // 20 cases (one of them 3 rows): batches of at most 8 cases.
    for (let i = 0; i < 20; i++) {
      const rows = i === 5 ? 3 : 1;
      assert.equal(m.submit(b, input(rows, i * 10), onScored, { id: `c${i}`, rows }), true);
    }
    await settled(m);
    const s = m.stats();
    assert.equal(s.started, 20);
    assert.equal(s.completed, 20);
    assert.equal(s.failed, 0);
    assert.equal(s.dropped, 0);
    assert.ok(s.batches >= 3 && s.batches < 20, `${s.batches} batches`);
    assert.equal(
      b.calls.reduce((a, x) => a + x, 0),
      22,
    );
    assert.equal(seen.length, 22);
    for (const x of seen) assert.equal(x.version, 'cand');
    assert.deepEqual(
      seen.filter((x) => x.ctx === 'c5').map((x) => x.score),
      [50, 51, 52],
    );
    for (let i = 0; i < 20; i++)
      if (i !== 5)
        assert.deepEqual(
          seen.filter((x) => x.ctx === `c${i}`).map((x) => x.score),
          [i * 10],
        );
    // In-process backends get no abort signal (they could not use it).
    assert.ok(b.signals.every((x) => x === undefined));
  });

  it('beyond maxInFlight a mirror is dropped and counted, never queued', async () => {
    const m = new ShadowMirror(4, 2000, 64, 0);
    const b = echoBackend({ delayMs: 30 });
    let scored = 0;
    const results = Array.from({ length: 10 }, (_, i) => m.submit(b, input(1, i), () => scored++, null));
    assert.deepEqual(results, [true, true, true, true, false, false, false, false, false, false]);
    assert.equal(m.stats().dropped, 6);
    await settled(m);
    assert.equal(scored, 4);
    assert.equal(m.stats().completed, 4);
  });

  it('a failing backend fails its batch (counted, nothing recorded); a slow one hits the deadline, is aborted, and its late scores are not recorded', async () => {
    const failing = new ShadowMirror(16, 2000, 64, 0);
    let recorded = 0;
    for (let i = 0; i < 3; i++) failing.submit(echoBackend({ fail: true }), input(1, i), () => recorded++, null);
    await settled(failing);
    assert.equal(failing.stats().failed, 3);
    assert.equal(recorded, 0);

    const slow = new ShadowMirror(16, 20, 64, 0);
    const b = echoBackend({ kind: 'remote', delayMs: 80 });
    for (let i = 0; i < 3; i++) slow.submit(b, input(1, i), () => recorded++, null);
    await settled(slow);
    assert.equal(slow.stats().failed, 3);
    assert.ok(
      b.signals.length > 0 && b.signals.every((x) => x?.aborted === true),
      'remote calls were aborted at the deadline',
    );
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(recorded, 0, 'scores arriving after the deadline are not recorded');
    assert.equal(slow.stats().completed, 0);
  });

  it('tells each failed case once, with the reason, and never a case already recorded', async () => {
    const failures: Array<{ ctx: string; reason: string; version: string }> = [];
    const onFailed = (reason: string, ms: number, ctx: string, version: string): void => {
      assert.ok(ms >= 0);
      failures.push({ ctx, reason, version });
    };
    const failing = new ShadowMirror(16, 2000, 64, 0);
    for (let i = 0; i < 3; i++)
      failing.submit(echoBackend({ fail: true }), input(1, i), () => assert.fail('not scored'), `f${i}`, onFailed);
    await settled(failing);
    assert.deepEqual(
      failures,
      ['f0', 'f1', 'f2'].map((ctx) => ({ ctx, reason: 'shadow down', version: 'cand' })),
    );

    failures.length = 0;
    const slow = new ShadowMirror(16, 20, 64, 0);
    for (let i = 0; i < 2; i++)
      slow.submit(
        echoBackend({ kind: 'remote', delayMs: 80 }),
        input(1, i),
        () => assert.fail('late'),
        `s${i}`,
        onFailed,
      );
    await settled(slow);
    assert.deepEqual(
      failures.map((f) => [f.ctx, f.reason]),
      [
        ['s0', 'no answer within 20 ms'],
        ['s1', 'no answer within 20 ms'],
      ],
    );

    // Two layouts in one batch: the first group is recorded, then the second's handler throws — only the
    // cases not yet recorded are reported failed.
    failures.length = 0;
    const mixed = new ShadowMirror(16, 2000, 64, 5);
    const b = echoBackend();
    const other: ScoringInput = { ...input(1, 9), featureNames: ['b', 'a'] };
    const recorded: string[] = [];
    const onScored = (_s: Float64Array, _o: number, _ms: number, ctx: string): void => {
      if (ctx === 'bad') throw new Error('recording failed');
      recorded.push(ctx);
    };
    mixed.submit(b, input(1, 1), onScored, 'first', onFailed);
    mixed.submit(b, other, onScored, 'bad', onFailed);
    await settled(mixed);
    assert.deepEqual(recorded, ['first']);
    assert.deepEqual(
      failures.map((f) => [f.ctx, f.reason]),
      [['bad', 'recording failed']],
    );
  });
});
