/**
 * The simulated world's faults and delayed outcomes (src/sim/scenario.ts), labels that have not arrived
 * (armStats with -1), and `vigil simulate` end to end on the bundled demo models.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { run } from '../../src/cli/program';
import { ConfigError, loadConfig } from '../../src/config';
import { TrafficScenarioSchema } from '../../src/domain';
import { FEATURES, generateCohort } from '../../src/sim/cohort';
import { applyScenario, observedLabels, outcomeArrived } from '../../src/sim/scenario';
import { SimulatedTraffic } from '../../src/sim/traffic';
import { armStats } from '../../src/stats';
import { assign, GatewayRouteTableSchema } from '../../src/gateway';

const fault = TrafficScenarioSchema.parse({
  name: 'b',
  regression: { site: 'site-b', feature: 'x2', scale: 0.5, offset: 1, fromInterval: 2 },
});

describe('traffic scenarios', () => {
  const cases = generateCohort('scenario-test', 2000);

  it("corrupts only the candidate's view of one feature at one site, from the given interval on", () => {
    assert.ok(
      applyScenario(cases, FEATURES, fault, 1).every((c) => c.candidateFeatures === undefined),
      'interval 1 is before the fault',
    );
    assert.ok(
      applyScenario(cases, FEATURES, fault, null).every((c) => c.candidateFeatures === undefined),
      'shadow is before the fault',
    );
    const faulty = applyScenario(cases, FEATURES, fault, 2);
    let touched = 0;
    faulty.forEach((c, k) => {
      const orig = cases[k]!;
      assert.deepEqual(c.features, orig.features, 'production features are never changed');
      if (orig.site !== 'site-b') return assert.equal(c.candidateFeatures, undefined);
      touched++;
      c.features.forEach((v, j) => assert.equal(c.candidateFeatures![j], j === 2 ? v * 0.5 + 1 : v));
    });
    assert.ok(touched > 300, `site-b cases: ${touched}`);
  });

  it('with inShadow the shadow period already sees the fault', () => {
    const s = TrafficScenarioSchema.parse({ regression: { site: 'site-a', feature: 'x0', inShadow: true } });
    assert.ok(applyScenario(cases, FEATURES, s, null).some((c) => c.candidateFeatures !== undefined));
  });

  it('leaves about labelledShare of outcomes arrived, the same cases every time, and -1 for the rest', () => {
    const s = TrafficScenarioSchema.parse({ labelledShare: 0.3 });
    const a = applyScenario(cases, FEATURES, s, 0);
    const b = applyScenario(cases, FEATURES, s, 5);
    const arrived = a.filter((c) => c.labelled !== false).length / a.length;
    assert.ok(Math.abs(arrived - 0.3) < 0.04, `arrived share ${arrived}`);
    assert.deepEqual(
      a.map((c) => c.labelled),
      b.map((c) => c.labelled),
      'arrival is a property of the case',
    );
    assert.equal(outcomeArrived('any', 1), true);
    const labels = observedLabels(a);
    a.forEach((c, k) => assert.equal(labels[k], c.labelled === false ? -1 : c.label));
  });

  it('refuses a feature the traffic does not have', () => {
    const s = TrafficScenarioSchema.parse({ regression: { site: 'site-a', feature: 'lactate' } });
    assert.throws(() => applyScenario(cases, FEATURES, s, 0), /feature "lactate" is not one of the traffic's columns/);
  });

  it('SimulatedTraffic applies its scenario per interval and is reproducible', async () => {
    const t = new SimulatedTraffic(fault);
    const early = await t.cases('w', 500, 0);
    const late = await t.cases('w', 500, 3);
    assert.ok(early.cases.every((c) => !c.candidateFeatures));
    assert.ok(late.cases.some((c) => c.candidateFeatures));
    assert.deepEqual((await t.cases('w', 500, 3)).cases, late.cases);
  });
});

describe('armStats with outcomes outstanding', () => {
  it('counts unlabelled cases for alerts and n only (checked against a hand count)', () => {
    const scores = [0.9, 0.8, 0.2, 0.7, 0.1, 0.6];
    const labels = [1, -1, 1, 0, 0, -1];
    const s = armStats(scores, labels, 0.5);
    assert.deepEqual(
      {
        n: s.n,
        positives: s.positives,
        tp: s.truePositives,
        negatives: s.negatives,
        tn: s.trueNegatives,
        alerts: s.alerts,
      },
      { n: 6, positives: 2, tp: 1, negatives: 2, tn: 1, alerts: 4 },
    );
    assert.equal(s.sensitivity, 0.5);
    assert.equal(s.specificity, 0.5);
    assert.equal(s.alertRate, 4 / 6);
  });
});

describe('vigil simulate', () => {
  const cli = async (...argv: string[]) => {
    let out = '';
    let err = '';
    const code = await run(argv, {
      env: {},
      stdout: (t) => (out += t),
      stderr: (t) => (err += t),
      readStdin: async () => '',
    });
    return { code, out, err };
  };

  it('promotes the demo candidate in a healthy world (exit 0)', async () => {
    const { code, out } = await cli('simulate');
    assert.equal(code, 0, out);
    assert.match(out, /promoted after \d+ looks/);
  });

  it('rolls back on a pipeline fault at one site (exit 3), showing the site, with --json lines and NDJSON events', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-sim-'));
    try {
      const events = path.join(dir, 'events.ndjson');
      const { code, out } = await cli(
        'simulate',
        '--site',
        'site-b',
        '--feature',
        'x0',
        '--offset',
        '-3',
        '--json',
        '--events',
        events,
      );
      assert.equal(code, 3, out);
      const lines = out
        .trim()
        .split('\n')
        .map(
          (l) =>
            JSON.parse(l) as {
              event: string;
              verdict?: string;
              bySite?: Record<string, { canary: number; control: number }>;
              outcome?: string;
            },
        );
      const looks = lines.filter((l) => l.event === 'look');
      assert.equal(looks.at(-1)!.verdict, 'fail');
      assert.ok(looks.at(-1)!.bySite!['site-b']!.canary < looks.at(-1)!.bySite!['site-b']!.control - 0.3);
      assert.equal(lines.at(-1)!.outcome, 'rolled-back');
      const evs = fs
        .readFileSync(events, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { kind: string; at: string; observedAt?: string; caseId: string });
      const predictions = new Map(evs.filter((e) => e.kind === 'prediction').map((e) => [e.caseId, e]));
      const outcomes = evs.filter((e) => e.kind === 'outcome');
      assert.equal(outcomes.length, predictions.size);
      assert.ok(
        outcomes.every((o) => Date.parse(o.observedAt!) > Date.parse(predictions.get(o.caseId)!.at)),
        'outcomes arrive after their predictions',
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('draws the canary as the gateway does for the model named (not a fixed "simulated" salt)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-sim-'));
    try {
      const arms = async (model: string) => {
        const events = path.join(dir, `${model}.ndjson`);
        const { out } = await cli('simulate', '--model', model, '--json', '--events', events);
        const looks = out
          .trim()
          .split('\n')
          .map(
            (l) => JSON.parse(l) as { event: string; percent: number; canary: { n: number }; control: { n: number } },
          )
          .filter((l) => l.event === 'look');
        const predictions = fs
          .readFileSync(events, 'utf8')
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as { kind: string; caseId: string; route: string })
          .filter((e) => e.kind === 'prediction');
        // Events come interval by interval, each look's cases in turn: pair each prediction with its look's percent.
        let k = 0;
        const out2: { caseId: string; route: string; percent: number }[] = [];
        for (const l of looks)
          for (let i = 0; i < l.canary.n + l.control.n; i++) out2.push({ ...predictions[k++]!, percent: l.percent });
        assert.equal(k, predictions.length);
        return out2;
      };
      const table = (percent: number) =>
        GatewayRouteTableSchema.parse({ version: 1, production: '1.4.0', canary: { model: '2.0.0', percent } });
      const named = await arms('sepsis-alert');
      assert.ok(named.length > 1000);
      for (const e of named)
        assert.equal(e.route, assign(table(e.percent), e.caseId, {}, 'sepsis-alert').route, e.caseId);
      // Another model name draws another canary set from the same cases (the old fixed salt gave every model one set).
      const other = await arms('other-model');
      const moved = other.filter((e, i) => e.route !== named[i]!.route).length;
      assert.ok(moved > named.length / 20, `${moved} of ${named.length} cases changed arm`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses bad input with exit 2 and a reason', async () => {
    assert.equal((await cli('simulate', '--scale', 'abc')).code, 2);
    const bad = await cli('simulate', '--site', 'site-b', '--labelled-share', '0');
    assert.equal(bad.code, 2);
    assert.match(bad.err, /labelledShare/);
    const missing = await cli('simulate', '--candidate', '/nonexistent/model.json');
    assert.equal(missing.code, 2);
    assert.match(missing.err, /cannot read \/nonexistent\/model\.json: ENOENT/);
  });
});

describe('VIGIL_TRAFFIC_SCENARIO', () => {
  it("loads the worker's scenario from YAML, and refuses a bad one naming the variable and the field", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-scn-'));
    try {
      const good = path.join(dir, 'good.yaml');
      fs.writeFileSync(
        good,
        'name: lab outage\nregression: { site: site-c, feature: x3, fromInterval: 1 }\nlabelledShare: 0.5\n',
      );
      const c = loadConfig({ VIGIL_TRAFFIC_SCENARIO: good });
      assert.deepEqual(c.trafficScenario, {
        name: 'lab outage',
        regression: { site: 'site-c', feature: 'x3', scale: 0, offset: 0, fromInterval: 1, inShadow: false },
        labelledShare: 0.5,
      });
      assert.equal(loadConfig({}).trafficScenario, null);
      const bad = path.join(dir, 'bad.yaml');
      fs.writeFileSync(bad, 'labelledShare: 2\n');
      assert.throws(
        () => loadConfig({ VIGIL_TRAFFIC_SCENARIO: bad }),
        (e: unknown) => e instanceof ConfigError && /VIGIL_TRAFFIC_SCENARIO .*labelledShare/.test(e.message),
      );
      assert.throws(() => loadConfig({ VIGIL_TRAFFIC_SCENARIO: path.join(dir, 'missing.yaml') }), /cannot read/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
