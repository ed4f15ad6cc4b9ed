/**
 * The stack's traffic driver (src/stack/demo-traffic.ts) asks whether a release is running beside the traffic, not in
 * its way: a slow answer (an API under load) does not pause a live release's traffic, a "no" stops it within a chunk,
 * and a failing question keeps a "yes" only for the grace period.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { createLogger } from '../../src/logging/logger';
import { startDemoTraffic, type DemoTraffic, type DemoTrafficOptions } from '../../src/stack/demo-traffic';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('stack traffic driver: liveness asked beside the traffic', () => {
  let inferences: number[];
  let realFetch: typeof fetch;
  let traffic: DemoTraffic | undefined;
  const hung: Array<() => void> = [];

  beforeEach(() => {
    inferences = [];
    realFetch = globalThis.fetch;
    // A gateway stand-in: every inference answered at once (startDemoTraffic sends through the global fetch).
    globalThis.fetch = (async (url: string) => {
      if (String(url).includes('/infer')) {
        inferences.push(Date.now());
        return new Response(
          JSON.stringify({
            model_version: '1',
            parameters: { route: 'production' },
            outputs: [{ name: 's', data: [0.5] }],
          }),
        );
      }
      return new Response('{}', { status: 202 });
    }) as unknown as typeof fetch;
  });
  afterEach(() => {
    traffic?.stop();
    traffic = undefined;
    globalThis.fetch = realFetch;
    hung.splice(0).forEach((release) => release());
  });

  const start = (live: DemoTrafficOptions['live'], extra: Partial<DemoTrafficOptions> = {}) =>
    (traffic = startDemoTraffic({
      gatewayUrl: 'http://gateway.invalid',
      model: 'demo',
      rate: 50,
      chunkSeconds: 0.2, // 10 cases a chunk
      outcomeDelayMs: 10,
      ingestToken: 't',
      live,
      log: createLogger('demo-traffic-test', 'silent'),
      ...extra,
    }));

  it('keeps sending while a "yes" is being asked again, however slow the answer', async () => {
    let calls = 0;
    // First answer at once; every later one hangs (released after the test): the API stopped answering in time.
    start(() => (calls++ === 0 ? Promise.resolve(true) : new Promise<boolean>((r) => hung.push(() => r(true)))));
    await sleep(2000);
    // Waiting for each answer would have sent the first chunk (10 cases) and then nothing; ~10 chunks are due.
    assert.ok(inferences.length >= 30, `${inferences.length} inferences in 2 s at 50/s with the API hung`);
    assert.equal(calls, 2, 'one question in flight at a time');
  });

  it('sends nothing while no release runs, and stops within a chunk once the answer turns to "no"', async () => {
    let running = false;
    start(async () => running);
    await sleep(600);
    assert.equal(inferences.length, 0, 'no traffic before a release runs');
    running = true;
    await sleep(1500);
    assert.ok(inferences.length > 0, 'traffic once a release runs');
    running = false;
    await sleep(1500); // the answer arrives within a chunk; that chunk's cases go out over its 0.2 s
    const settled = inferences.length;
    await sleep(1000);
    assert.equal(inferences.length, settled, 'no new chunks after the release ended');
  });

  it('trusts a "yes" only for the grace period while the question fails', async () => {
    let calls = 0;
    start(() => (calls++ === 0 ? Promise.resolve(true) : Promise.reject(new Error('API timeout'))), {
      liveGraceMs: 700,
    });
    await sleep(500);
    assert.ok(inferences.length > 0, 'traffic within the grace period');
    await sleep(2000);
    const settled = inferences.length;
    await sleep(1000);
    assert.equal(inferences.length, settled, 'traffic idles once the last answer is older than the grace period');
  });
});
