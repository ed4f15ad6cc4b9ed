import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inCanaryArm } from '../../src/activities/live';
import { assign, caseBucket, fromRouteState, GatewayRouteTableSchema, type GatewayRouteTable } from '../../src/gateway';

const table = (over: Partial<GatewayRouteTable> = {}): GatewayRouteTable =>
  GatewayRouteTableSchema.parse({ version: 1, production: '1.4.0', canary: { model: '2.0.0', percent: 10 }, ...over });

describe('gateway routing', () => {
  it('assigns the same case id to the same arm every time, as the simulated canary does', () => {
    const t = table();
    for (let i = 0; i < 2000; i++) {
      const id = `case-${i}`;
      const a = assign(t, id, {});
      assert.deepEqual(assign(t, id, {}), a);
      assert.equal(a.route === 'canary', inCanaryArm(id, 10), id);
      assert.equal(a.modelVersion, a.route === 'canary' ? '2.0.0' : '1.4.0');
    }
  });

  it('sends the stated percentage to the canary (100,000 ids, within ±0.5 points)', () => {
    for (const percent of [1, 10, 50]) {
      const t = table({ canary: { model: '2.0.0', percent } });
      let canary = 0;
      for (let i = 0; i < 100_000; i++) if (assign(t, `patient-${i}`, {}).route === 'canary') canary++;
      assert.ok(Math.abs(canary / 1000 - percent) < 0.5, `${percent}% asked, ${canary / 1000}% routed`);
    }
  });

  it('keeps a canary case on the canary as the percentage grows', () => {
    for (let i = 0; i < 5000; i++) {
      const id = `c${i}`;
      if (assign(table({ canary: { model: '2.0.0', percent: 5 } }), id, {}).route === 'canary') {
        assert.equal(assign(table({ canary: { model: '2.0.0', percent: 25 } }), id, {}).route, 'canary');
      }
    }
  });

  it('applies cohort rules before the percentage (all rules must match; a missing attribute does not match "in")', () => {
    const t = table({
      canary: {
        model: '2.0.0',
        percent: 100,
        cohort: [
          { attribute: 'site', in: ['site-a', 'site-b'] },
          { attribute: 'urgency', notIn: ['stat'] },
        ],
      },
    });
    assert.equal(assign(t, 'x', { site: 'site-a' }).route, 'canary');
    assert.equal(assign(t, 'x', { site: 'site-b', urgency: 'routine' }).route, 'canary');
    assert.equal(assign(t, 'x', { site: 'site-c' }).route, 'production');
    assert.equal(assign(t, 'x', { site: 'site-a', urgency: 'stat' }).route, 'production');
    assert.equal(assign(t, 'x', {}).route, 'production');
    assert.throws(() => GatewayRouteTableSchema.parse({ version: 1, production: 'a', canary: { model: 'b', percent: 1, cohort: [{ attribute: 'site' }] } }));
  });

  it('mirrors to the shadow version, never to the version that already answered', () => {
    const t = table({ canary: null, shadow: { model: '2.0.0', percent: 100 } });
    assert.deepEqual(assign(t, 'a', {}), { route: 'production', modelVersion: '1.4.0', shadow: '2.0.0' });
    const both = table({ canary: { model: '2.0.0', percent: 100 }, shadow: { model: '2.0.0', percent: 100 } });
    assert.equal(assign(both, 'a', {}).shadow, null);
    const share = table({ canary: null, shadow: { model: '2.0.0', percent: 20 } });
    let mirrored = 0;
    for (let i = 0; i < 20_000; i++) if (assign(share, `s${i}`, {}).shadow) mirrored++;
    assert.ok(Math.abs(mirrored / 200 - 20) < 1.5, `${mirrored / 200}%`);
  });

  it('reads the workflow RouteState as a table and puts buckets in [0, 100)', () => {
    assert.deepEqual(fromRouteState({ version: 3, production: '1.4.0', canary: null }), { version: 3, production: '1.4.0', canary: null });
    for (let i = 0; i < 1000; i++) {
      const b = caseBucket(String(i));
      assert.ok(b >= 0 && b < 100);
    }
  });
});
