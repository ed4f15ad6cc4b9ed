import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { driveGateway, outcomeDelayFor } from '../../src/sim/gateway-driver';

describe('gateway driver: outcomes interleaved with requests at their own delays', () => {
  it('posts each outcome 0.5–1.5 × the delay after its answer, before the last request when the run is longer', async () => {
    const answeredAt = new Map<string, number>();
    const postedAt = new Map<string, number>();
    let lastInferenceMs = 0;
    const fetchImpl = (async (url: string, init: { body: string }) => {
      const body = JSON.parse(init.body) as { parameters?: { case_id: string }; events?: Array<{ case_id: string }> };
      if (url.endsWith('/v2/telemetry/outcomes')) {
        for (const e of body.events!) postedAt.set(e.case_id, Date.now());
        return new Response(JSON.stringify({ accepted: body.events!.length }), { status: 202 });
      }
      lastInferenceMs = Date.now();
      answeredAt.set(body.parameters!.case_id, Date.now());
      return new Response(
        JSON.stringify({
          model_version: '1.4.0',
          parameters: { route: 'production' },
          outputs: [{ name: 'score', data: [0.2] }],
        }),
        { status: 200 },
      );
    }) as unknown as typeof fetch;

    const delay = 400;
    const s = await driveGateway({
      url: 'http://gateway.invalid',
      model: 'sepsis-alert',
      rate: 40,
      cases: 80, // 2 s of requests, 5× the median delay
      ingestToken: 't',
      outcomeDelayMs: delay,
      seed: 'interleave',
      fetchImpl,
    });
    assert.equal(s.ok, 80);
    assert.equal(s.outcomesPosted, 80);
    assert.equal(postedAt.size, 80);
    let beforeLastRequest = 0;
    for (const [id, at] of postedAt) {
      const lag = at - answeredAt.get(id)!;
      const own = outcomeDelayFor(id, delay);
      // Gathered every 250 ms: posted no earlier than its delay, and at most a tick later (plus up to 750 ms of
      // timer lateness on a loaded 2-core machine; posting everything at the end would be ~2 s late).
      assert.ok(lag >= own - 5, `${id}: posted ${lag} ms after its answer, its delay is ${own} ms`);
      assert.ok(lag <= own + 250 + 750, `${id}: posted ${lag} ms after its answer, its delay is ${own} ms`);
      if (at < lastInferenceMs) beforeLastRequest++;
    }
    // Interleaved: most outcomes arrive while requests are still being sent (not all after the last one).
    assert.ok(beforeLastRequest >= 40, `${beforeLastRequest} of 80 outcomes were posted before the last request`);
  });

  it('spreads delays uniformly over 0.5–1.5 × the median, fixed per case id', () => {
    const ds = Array.from({ length: 2000 }, (_, i) => outcomeDelayFor(`case-${i}`, 1000));
    assert.ok(ds.every((d) => d >= 500 && d < 1500));
    const mean = ds.reduce((a, d) => a + d, 0) / ds.length;
    assert.ok(Math.abs(mean - 1000) < 25, `mean ${mean}`); // uniform: sd 289/√2000 ≈ 6.5
    const lowQuarter = ds.filter((d) => d < 750).length / ds.length;
    assert.ok(Math.abs(lowQuarter - 0.25) < 0.04, `share below 750: ${lowQuarter}`);
    assert.equal(outcomeDelayFor('case-7', 1000), outcomeDelayFor('case-7', 1000));
  });
});
