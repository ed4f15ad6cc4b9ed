import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { EvaluationThreads } from '../../src/activities/evaluation-threads';
import {
  evaluateAcceptance,
  validateAcceptancePolicy,
  type AcceptancePolicyInput,
  type EvaluationInput,
} from '../../src/evaluation';
import { pairedDelong, StatsInputError } from '../../src/stats';

/** Rows with tied scores (rounded to 0.01), three attributes, one with 300 levels (a group of > 256 cells). */
function dataset(n: number, probabilities = true) {
  let seed = 7;
  const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296;
  const labels = new Uint8Array(n);
  const candidate = new Float64Array(n);
  const incumbent = new Float64Array(n);
  const site: string[] = [];
  const sex: string[] = [];
  const ward: string[] = [];
  for (let i = 0; i < n; i++) {
    const y = rand() < 0.3 ? 1 : 0;
    labels[i] = y;
    const c = Math.round(Math.min(1, Math.max(0, 0.3 + 0.3 * y + 0.5 * (rand() - 0.5))) * 100) / 100;
    const b = Math.round(Math.min(1, Math.max(0, 0.3 + 0.25 * y + 0.5 * (rand() - 0.5))) * 100) / 100;
    candidate[i] = probabilities ? c : 4 * c - 1;
    incumbent[i] = probabilities ? b : 4 * b - 1;
    site.push(['site-a', 'site-b', 'site-c', 'site-d'][Math.floor(rand() * 4)]!);
    sex.push(rand() < 0.5 ? 'F' : 'M');
    ward.push(`w${Math.floor(rand() * 300)}`);
  }
  return { labels, candidate, incumbent, site, sex, ward };
}

const policy: AcceptancePolicyInput = {
  version: 1,
  criteria: [
    {
      kind: 'non-inferiority',
      margin: 0.02,
      alpha: 0.025,
      slices: { attributes: ['site', 'sex'], includeSubsets: true },
      multiplicity: 'holm',
    },
    { kind: 'metric-threshold', metric: 'sensitivity', bound: 'lower', op: '>=', value: 0.3 },
    { kind: 'max-drop', metric: 'brier', maxDrop: 0.01, slices: { attributes: ['ward'] }, minN: 1 },
  ],
};

function input(data: ReturnType<typeof dataset>, p = policy): EvaluationInput {
  return {
    labels: data.labels,
    candidateScores: data.candidate,
    incumbentScores: data.incumbent,
    attributes: { site: data.site, sex: data.sex, ward: data.ward },
    thresholdRule: { kind: 'fixed', threshold: 0.5 },
    policy: validateAcceptancePolicy(p),
  };
}

describe('EvaluationThreads', () => {
  const open: EvaluationThreads[] = [];
  const threads = () => {
    const t = new EvaluationThreads(0); // a worker whatever the size
    open.push(t);
    return t;
  };
  after(() => Promise.all(open.map((t) => t.close())));

  it('gives the same report as evaluateAcceptance, the incumbent measured on a worker thread', async () => {
    const data = dataset(20_000);
    const expected = evaluateAcceptance(input(data));
    const report = await threads().evaluate(input(data));
    assert.deepStrictEqual(report, expected);
    // overall + 4 sites + 2 sexes + 8 site × sex + 300 wards (a group of more than 256 cells)
    assert.equal(report.slices.length, 315);
  });

  it("pairs the worker's placements with the right rows: the paired test equals pairedDelong per slice", async () => {
    const data = dataset(20_000);
    const report = await threads().evaluate(input(data));
    const columns = data as unknown as Record<string, string[]>;
    for (const slice of ['overall', 'site=site-c', 'site=site-b & sex=M', 'ward=w17']) {
      const s = report.slices.find((r) => r.slice === slice);
      assert.ok(s, slice);
      const conditions = slice === 'overall' ? [] : slice.split(' & ').map((c) => c.split('=') as [string, string]);
      const rows = [...data.labels.keys()].filter((i) => conditions.every(([a, l]) => columns[a]![i] === l));
      const direct = pairedDelong(
        rows.map((i) => data.candidate[i]!),
        rows.map((i) => data.incumbent[i]!),
        rows.map((i) => data.labels[i]!),
        report.confidenceLevel,
      )!;
      assert.ok(Math.abs(s.paired!.covariance - direct.covariance) <= 1e-12 * Math.abs(direct.covariance) + 1e-15);
      assert.ok(Math.abs(s.paired!.difference - direct.difference) <= 1e-12);
    }
  });

  it('is the same report for scores that are not probabilities (no recalibration)', async () => {
    const data = dataset(5_000, false);
    assert.deepStrictEqual(await threads().evaluate(input(data)), evaluateAcceptance(input(data)));
  });

  it('evaluates on the calling thread when the worker has died, with the same report', async () => {
    const data = dataset(5_000);
    const t = threads();
    await (t as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    assert.deepStrictEqual(await t.evaluate(input(data)), evaluateAcceptance(input(data)));
  });

  it('rejects bad input on the calling thread with the evaluator’s own error', async () => {
    const data = dataset(1_000);
    const bad = { ...input(data), incumbentScores: data.incumbent.subarray(1) };
    await assert.rejects(threads().evaluate(bad), StatsInputError);
  });
});
