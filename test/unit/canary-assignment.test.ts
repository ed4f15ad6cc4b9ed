import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assign, GatewayRouteTableSchema, OipRequestError, type GatewayRouteTable } from '../../src/gateway';
import { inCanaryArm } from '../../src/sim/canary-arm';
import { AssignmentKeyError, normalisePatientKey, patientBucket } from '../../src/stats/arm-assignment';

const table = (canary: Record<string, unknown>): GatewayRouteTable =>
  GatewayRouteTableSchema.parse({ version: 1, production: '1.0.0', canary: { model: '2.0.0', ...canary } });

describe('canary assignment per patient (issue #22)', () => {
  it('20,000 patients × 5 cases at 10 %: no patient in both arms (was 40.9 %), ~10 % of patients on the canary', () => {
    const t = table({ percent: 10 });
    let split = 0;
    let canaryPatients = 0;
    for (let p = 0; p < 20_000; p++) {
      const routes = new Set<string>();
      for (let k = 0; k < 5; k++) routes.add(assign(t, `case-${p}-${k}`, { patient_id: `P${p}` }, 'sepsis').route);
      if (routes.size > 1) split++;
      if (routes.has('canary')) canaryPatients++;
    }
    assert.equal(split, 0);
    // binomial(20000, 0.1): sd 42 patients; ±5 sd
    assert.ok(Math.abs(canaryPatients - 2000) < 212, `${canaryPatients} canary patients`);
  });

  it('two models draw independent canary sets (overlap ≈ 10 % × 10 %, not 100 %)', () => {
    const t = table({ percent: 10 });
    let a = 0;
    let both = 0;
    const n = 20_000;
    for (let p = 0; p < n; p++) {
      const inA = assign(t, `c${p}`, { patient_id: `P${p}` }, 'model-a').route === 'canary';
      const inB = assign(t, `c${p}`, { patient_id: `P${p}` }, 'model-b').route === 'canary';
      if (inA) a++;
      if (inA && inB) both++;
    }
    // independent: P(both) = 0.01 → 200 of 20,000 (sd 14); the same set would give ~2,000
    assert.ok(Math.abs(both - 200) < 70, `${both} patients canary for both models (of ${a} for model A)`);
  });

  it('salted per release when the table carries a release salt', () => {
    let same = 0;
    for (let p = 0; p < 10_000; p++) {
      const r1 = assign(table({ percent: 10, salt: 'rel-1' }), 'c', { patient_id: `P${p}` }, 'm').route;
      const r2 = assign(table({ percent: 10, salt: 'rel-2' }), 'c', { patient_id: `P${p}` }, 'm').route;
      if (r1 === 'canary' && r2 === 'canary') same++;
    }
    assert.ok(same < 180, `${same} patients canary in both releases (independent: ~100)`);
  });

  it('normalises ids: case, surrounding spaces and zero padding name one patient', () => {
    assert.equal(normalisePatientKey(' T0007 '), 't7');
    assert.equal(normalisePatientKey('t7'), 't7');
    assert.equal(normalisePatientKey('T7'), 't7');
    assert.equal(normalisePatientKey('T0070'), 't70');
    assert.notEqual(normalisePatientKey('T70'), normalisePatientKey('T7'));
    assert.equal(patientBucket('T0007', 'model:m'), patientBucket(' t7', 'model:m'));
  });

  it('refuses placeholder ids (" " pinned all its traffic to one arm) with a 400', () => {
    for (const id of [' ', '', 'NULL', ' n/a ', 'unknown', '-', '0', '000', '???']) {
      assert.throws(() => normalisePatientKey(id), AssignmentKeyError, JSON.stringify(id));
      assert.throws(() => assign(table({ percent: 10 }), 'c1', { patient_id: id }, 'm'), OipRequestError);
    }
    // a blank case id without a patient id is refused too
    assert.throws(() => assign(table({ percent: 10 }), ' ', {}, 'm'), OipRequestError);
    // and a route may require patient ids
    assert.throws(
      () => assign(table({ percent: 10, requirePatientId: true }), 'c1', {}, 'm'),
      /needs parameters.patient_id/,
    );
  });

  it('"site not S2" at 50 %: a missing site (was 10,082 of 20,000) and "s2" (was 10,082) never reach the canary', () => {
    const t = table({ percent: 50, cohort: [{ attribute: 'site', notIn: ['S2'] }] });
    let missing = 0;
    let lower = 0;
    let blank = 0;
    let s1 = 0;
    for (let i = 0; i < 20_000; i++) {
      if (assign(t, `c${i}`, {}, 'm').route === 'canary') missing++;
      if (assign(t, `c${i}`, { site: 's2' }, 'm').route === 'canary') lower++;
      if (assign(t, `c${i}`, { site: '  ' }, 'm').route === 'canary') blank++;
      if (assign(t, `c${i}`, { site: 'S1' }, 'm').route === 'canary') s1++;
    }
    assert.deepEqual({ missing, lower, blank }, { missing: 0, lower: 0, blank: 0 });
    assert.ok(Math.abs(s1 - 10_000) < 400, `S1 still reaches the canary at 50 %: ${s1}`);
  });

  it('a rule that says missing: include lets requests without the attribute through', () => {
    const t = table({ percent: 100, cohort: [{ attribute: 'site', notIn: ['S2'], missing: 'include' }] });
    assert.equal(assign(t, 'c', {}, 'm').route, 'canary');
    assert.equal(assign(t, 'c', { site: 'S2' }, 'm').route, 'production');
  });

  it('the simulated canary assigns as the gateway does for the requests the driver sends (case id, model salt)', () => {
    const t = table({ percent: 25 });
    for (let i = 0; i < 5000; i++) {
      const id = `sim:${i}`;
      assert.equal(assign(t, id, {}, 'sepsis').route === 'canary', inCanaryArm(id, 25, 'sepsis'), id);
    }
  });
});
