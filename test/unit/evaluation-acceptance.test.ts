import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  acceptancePolicyJsonSchema,
  evaluateAcceptance,
  parseAcceptancePolicy,
  PolicyError,
  validateAcceptancePolicy,
  type AcceptancePolicyInput,
  type EvaluationInput,
} from '../../src/evaluation';
import { StatsInputError, wilsonInterval } from '../../src/stats';

/** Deterministic rows: 3 sites, 2 sexes; site-c is small; the candidate is slightly better than the incumbent. */
function dataset(n = 3000) {
  let seed = 99;
  const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296;
  const labels: number[] = [];
  const candidate: number[] = [];
  const incumbent: number[] = [];
  const site: string[] = [];
  const sex: string[] = [];
  for (let i = 0; i < n; i++) {
    const y = rand() < 0.3 ? 1 : 0;
    const noise = rand();
    labels.push(y);
    candidate.push(Math.min(1, Math.max(0, 0.25 + 0.35 * y + 0.4 * (noise - 0.5))));
    incumbent.push(Math.min(1, Math.max(0, 0.27 + 0.3 * y + 0.4 * (rand() - 0.5))));
    site.push(i % 50 === 0 ? 'site-c' : i % 2 === 0 ? 'site-a' : 'site-b');
    sex.push(rand() < 0.5 ? 'F' : 'M');
  }
  return { labels, candidate, incumbent, site, sex };
}

function input(policy: AcceptancePolicyInput, data = dataset()): EvaluationInput {
  return {
    labels: data.labels,
    candidateScores: data.candidate,
    incumbentScores: data.incumbent,
    attributes: { site: data.site, sex: data.sex },
    thresholdRule: { kind: 'fixed', threshold: 0.5 },
    policy: validateAcceptancePolicy(policy),
  };
}

describe('evaluateAcceptance', () => {
  it('reports each metric with slice, n, threshold, counts and interval, and a reason naming the slice', () => {
    const report = evaluateAcceptance(
      input({
        version: 1,
        criteria: [
          {
            kind: 'metric-threshold',
            metric: 'sensitivity',
            bound: 'lower',
            op: '>=',
            value: 0.99,
            slices: { attributes: ['site'] },
            minN: 10,
          },
        ],
      }),
    );
    const siteA = report.slices.find((s) => s.slice === 'site=site-a')!;
    const sens = siteA.candidate.sensitivity;
    assert.equal(siteA.candidate.threshold, 0.5);
    assert.ok(sens.x !== undefined && sens.n === siteA.positives);
    assert.deepEqual(sens.interval, wilsonInterval(sens.x, sens.n!, 0.95));
    const c = report.criteria[0]!;
    assert.equal(c.status, 'fail');
    assert.equal(report.accepted, false);
    assert.match(c.reason, /sensitivity lower 95% bound 0\.\d{3} < 0\.99 on site=site-a \(n=\d+\)/);
  });

  it('marks slices below minN as insufficient data: the criterion fails by default, or lists and ignores them', () => {
    const base: AcceptancePolicyInput['criteria'][number] = {
      kind: 'metric-threshold',
      metric: 'auc',
      op: '>=',
      value: 0.5,
      slices: { attributes: ['site'] },
      minN: 100,
    };
    const strict = evaluateAcceptance(input({ version: 1, criteria: [base] })).criteria[0]!;
    assert.equal(strict.status, 'insufficient');
    assert.equal(strict.passed, false);
    assert.match(strict.reason, /insufficient data on site=site-c \(n=60\): fewer than minN=100 rows/);
    const lenient = evaluateAcceptance(input({ version: 1, criteria: [{ ...base, onInsufficient: 'ignore' }] }))
      .criteria[0]!;
    assert.equal(lenient.status, 'pass');
    assert.match(lenient.reason, /ignored by policy: site=site-c/);
  });

  it('reports undefined metrics on a single-class slice and never passes them', () => {
    const data = dataset(400);
    data.labels = data.labels.map((y, i) => (data.site[i] === 'site-c' ? 0 : y));
    const report = evaluateAcceptance(
      input(
        {
          version: 1,
          criteria: [
            {
              kind: 'metric-threshold',
              metric: 'sensitivity',
              op: '>=',
              value: 0.01,
              slices: { attributes: ['site'] },
            },
          ],
        },
        data,
      ),
    );
    const siteC = report.slices.find((s) => s.slice === 'site=site-c')!;
    assert.equal(siteC.candidate.auc.estimate, null);
    assert.match(siteC.candidate.auc.reason!, /no positives/);
    assert.equal(siteC.paired, null);
    const outcome = report.criteria[0]!.slices.find((s) => s.slice === 'site=site-c')!;
    assert.equal(outcome.status, 'insufficient');
    assert.equal(report.accepted, false);
  });

  it('reports an empty intersection as insufficient data (n=0)', () => {
    const data = dataset(300);
    data.sex = data.sex.map((s, i) => (data.site[i] === 'site-c' ? 'F' : s));
    const report = evaluateAcceptance(
      input(
        {
          version: 1,
          criteria: [
            {
              kind: 'metric-threshold',
              metric: 'specificity',
              op: '>=',
              value: 0.01,
              slices: { attributes: ['site', 'sex'] },
              onInsufficient: 'ignore',
            },
          ],
        },
        data,
      ),
    );
    const empty = report.criteria[0]!.slices.find((s) => s.slice === 'site=site-c & sex=M')!;
    assert.equal(empty.n, 0);
    assert.equal(empty.status, 'insufficient');
  });

  it('the candidate against itself is non-inferior on every slice (difference 0, defined result), with Holm', () => {
    const data = dataset();
    const report = evaluateAcceptance(
      input(
        {
          version: 1,
          criteria: [
            {
              kind: 'non-inferiority',
              margin: 0.01,
              alpha: 0.025,
              multiplicity: 'holm',
              slices: { attributes: ['site', 'sex'], includeSubsets: true },
              minN: 10, // site-c has 60 rows: below the default minimum
            },
          ],
        },
        { ...data, incumbent: data.candidate },
      ),
    );
    const c = report.criteria[0]!;
    assert.equal(c.status, 'pass');
    assert.equal(c.slices.length, 3 + 2 + 6);
    for (const s of report.slices) assert.deepEqual([s.paired!.difference, s.paired!.variance, s.paired!.z], [0, 0, 0]);
  });

  it('fails non-inferiority when the candidate is clearly worse, naming the slice', () => {
    const data = dataset();
    const report = evaluateAcceptance(
      input(
        { version: 1, criteria: [{ kind: 'non-inferiority', margin: 0.01, alpha: 0.025 }] },
        { ...data, candidate: data.incumbent, incumbent: data.candidate },
      ),
    );
    assert.equal(report.criteria[0]!.status, 'fail');
    assert.match(
      report.criteria[0]!.reason,
      /AUC difference -0\.\d+ \(one-sided 97\.5% lower bound -0\.\d+ ≤ −0\.01; p=.*\) on overall \(n=3000\)/,
    );
  });

  it("max-drop compares point estimates per slice in the metric's better direction", () => {
    const data = dataset();
    const report = evaluateAcceptance(
      input(
        {
          version: 1,
          criteria: [
            { kind: 'max-drop', metric: 'brier', maxDrop: 0 },
            { kind: 'max-drop', metric: 'auc', maxDrop: 0 },
          ],
        },
        data,
      ),
    );
    const overall = report.slices[0]!;
    const brierWorse = overall.candidate.brier.estimate! > overall.incumbent.brier.estimate!;
    assert.equal(report.criteria[0]!.status, brierWorse ? 'fail' : 'pass');
    assert.equal(
      report.criteria[1]!.status,
      overall.candidate.auc.estimate! >= overall.incumbent.auc.estimate! ? 'pass' : 'fail',
    );
  });

  it('chooses the threshold on the tuning split only, then applies it to the evaluation rows', () => {
    const data = dataset();
    const tuning = dataset(500);
    const base = input(
      { version: 1, criteria: [{ kind: 'metric-threshold', metric: 'ece', op: '<=', value: 0.99 }] },
      data,
    );
    const report = evaluateAcceptance({
      ...base,
      thresholdRule: {
        kind: 'max-specificity-at-sensitivity',
        minSensitivity: 0.9,
        tuning: { labels: tuning.labels, candidateScores: tuning.candidate, incumbentScores: tuning.incumbent },
      },
    });
    assert.ok(report.thresholds.candidate.tuningSensitivity! >= 0.9);
    assert.equal(report.thresholds.candidate.tuningN, 500);
    assert.equal(report.slices[0]!.candidate.threshold, report.thresholds.candidate.threshold);
  });

  it('rejects bad input with a specific error', () => {
    const ok = input({ version: 1, criteria: [{ kind: 'metric-threshold', metric: 'auc', op: '>=', value: 0.5 }] });
    const bad = (patch: Partial<EvaluationInput>, pattern: RegExp) =>
      assert.throws(
        () => evaluateAcceptance({ ...ok, ...patch }),
        (e: unknown) =>
          (e instanceof StatsInputError || e instanceof PolicyError) && pattern.test((e as Error).message),
      );
    const scores = [...(ok.candidateScores as number[])];
    scores[7] = Number.NaN;
    bad({ candidateScores: scores }, /candidateScores: score at row 7 is not a finite number/);
    const labels = [...(ok.labels as number[])];
    labels[3] = 2;
    bad({ labels }, /label at row 3 must be 0 or 1, got 2/);
    bad(
      { incumbentScores: (ok.incumbentScores as number[]).slice(1) },
      /incumbentScores has 2999 rows but labels has 3000/,
    );
    bad(
      {
        policy: validateAcceptancePolicy({
          version: 1,
          criteria: [{ kind: 'max-drop', metric: 'auc', maxDrop: 0.01, slices: { attributes: ['region'] } }],
        }),
      },
      /unknown attribute "region"; declared attributes: site, sex/,
    );
  });
});

describe('acceptance policy', () => {
  it("parses the YAML form of the issue's example criteria", () => {
    const policy = parseAcceptancePolicy(
      `
version: 1
criteria:
  - kind: metric-threshold
    metric: sensitivity
    bound: lower
    op: ">="
    value: 0.90
    slices: { attributes: [site] }
    minN: 100
  - { kind: non-inferiority, margin: 0.01, alpha: 0.025 }
  - { kind: metric-threshold, metric: ece, op: "<=", value: 0.05 }
  - { kind: max-drop, metric: sensitivity, maxDrop: 0.03, slices: { attributes: [site] } }
`,
      { attributes: ['site'] },
    );
    assert.equal(policy.criteria.length, 4);
    assert.equal(policy.confidenceLevel, 0.95);
  });

  it('names an unknown metric and lists the valid ones', () => {
    assert.throws(
      () =>
        parseAcceptancePolicy(
          '{"version":1,"criteria":[{"kind":"metric-threshold","metric":"sensitivty","op":">=","value":0.9}]}',
        ),
      (e: unknown) =>
        e instanceof PolicyError &&
        /criteria\.0\.metric/.test(e.message) &&
        /"sensitivity"/.test(e.message) &&
        /"calibrationSlope"/.test(e.message),
    );
  });

  it('names an unknown attribute at load time and lists the declared ones', () => {
    assert.throws(
      () =>
        parseAcceptancePolicy(
          'version: 1\ncriteria:\n  - {kind: max-drop, metric: auc, maxDrop: 0.01, slices: {attributes: [site, region]}}',
          { attributes: ['site', 'sex'] },
        ),
      /unknown attribute "region"; declared attributes: site, sex/,
    );
  });

  it('refuses a bound on a metric without an interval, and max-drop on a metric without a direction', () => {
    assert.throws(
      () =>
        validateAcceptancePolicy({
          version: 1,
          criteria: [{ kind: 'metric-threshold', metric: 'ece', bound: 'upper', op: '<=', value: 0.05 }],
        }),
      /ece has no interval/,
    );
    assert.throws(
      () =>
        validateAcceptancePolicy({
          version: 1,
          criteria: [{ kind: 'max-drop', metric: 'calibrationSlope', maxDrop: 0.1 }],
        }),
      /no better direction/,
    );
  });

  it('exports a JSON Schema that lists the metrics and criterion kinds', () => {
    const text = JSON.stringify(acceptancePolicyJsonSchema());
    for (const word of ['non-inferiority', 'max-drop', 'metric-threshold', 'averagePrecision', 'holm', '2020-12'])
      assert.ok(text.includes(word), word);
  });
});
