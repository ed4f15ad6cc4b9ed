/**
 * Strict policies (issue #19): a key the schema does not know is refused with its path, a bound that could never
 * fail is refused with the reason, and nothing the author wrote is dropped from the effective policy.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- policies are edited here as the untyped documents authors write */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { AcceptancePolicySchema, ReleasePolicySchema } from '../../src/domain';
import { canonicalBytes, policyDigest, sha256Hex } from '../../src/evidence';

const written = (): Record<string, any> =>
  parseYaml(fs.readFileSync('demo/policies/demo.yaml', 'utf8')) as Record<string, any>;

/** The schema's messages for a policy, as "path: message". */
function refusals(doc: unknown): string[] {
  const r = ReleasePolicySchema.safeParse(doc);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

function edited(edit: (p: Record<string, any>) => void): Record<string, any> {
  const p = written();
  edit(p);
  return p;
}

describe('release policy: unknown keys', () => {
  it('accepts the demo policies as written', () => {
    assert.deepEqual(refusals(written()), []);
    const tight = parseYaml(fs.readFileSync('demo/policies/demo-tight-guardrail.yaml', 'utf8'));
    assert.deepEqual(refusals(tight), []);
  });

  for (const [where, edit, expected] of [
    ['at the top', (p: any) => (p.approvals = { requiredRoles: ['qa'] }), 'approvals'],
    [
      'in the canary guardrails',
      (p: any) => (p.canary.guardrails.maxSensitivityDorp = 0.5),
      'canary.guardrails.maxSensitivityDorp',
    ],
    ['in a canary step', (p: any) => (p.canary.steps[1].percnt = 50), 'canary.steps.1.percnt'],
    [
      'in an acceptance criterion',
      (p: any) => (p.offline.acceptance.criteria[0].margn = 0.02),
      'offline.acceptance.criteria.0.margn',
    ],
    [
      'in the sequential guardrails',
      (p: any) => (p.canary.sequential.planned.extra = 1),
      'canary.sequential.planned.extra',
    ],
  ] as const) {
    it(`refuses an unknown key ${where}, naming its path`, () => {
      const issues = refusals(edited(edit));
      assert.equal(issues.length, 1, issues.join('\n'));
      assert.match(issues[0]!, new RegExp(`unknown key ${expected.replace(/\./g, '\\.')}: not part of the schema`));
    });
  }
});

describe('release policy: bounds that could never fail', () => {
  for (const [name, edit, path, words] of [
    [
      'a canary sensitivity drop of 1',
      (p: any) => (p.canary.guardrails.maxSensitivityDrop = 1),
      'canary.guardrails.maxSensitivityDrop',
      /cannot drop by 1 or more/,
    ],
    [
      'a monitoring sensitivity drop of 1.5',
      (p: any) => (p.monitoring.guardrails.maxSensitivityDrop = 1.5),
      'monitoring.guardrails.maxSensitivityDrop',
      /cannot drop by 1 or more/,
    ],
    ['shadow agreement of at least 0', (p: any) => (p.shadow.minAgreement = 0), 'shadow.minAgreement', /never below 0/],
    ['shadow κ of at least −1', (p: any) => (p.shadow.minKappa = -1), 'shadow.minKappa', /never below −1/],
    [
      'an error rate limit of 1',
      (p: any) => (p.canary.sequential.maxErrorRate = 1),
      'canary.sequential.maxErrorRate',
      /never above 1/,
    ],
    [
      'an override rate limit of 1',
      (p: any) => (p.canary.sequential.maxOverrideRate = 1),
      'canary.sequential.maxOverrideRate',
      /never above 1/,
    ],
    [
      'a drift sensitivity drop of 1',
      (p: any) => (p.monitoring.drift = { onDrift: 'notify', maxSensitivityDrop: 1 }),
      'monitoring.drift.maxSensitivityDrop',
      /cannot drop by 1 or more/,
    ],
    [
      'a wrong-share limit of 1 for adjudication',
      (p: any) =>
        (p.shadow.adjudication = { sampleSize: 10, minAdjudicated: 5, maxCandidateWrongShare: 1, timeoutSeconds: 60 }),
      'shadow.adjudication.maxCandidateWrongShare',
      /never above 1/,
    ],
  ] as const) {
    it(`refuses ${name}`, () => {
      const issues = refusals(edited(edit));
      assert.equal(issues.length, 1, issues.join('\n'));
      assert.ok(issues[0]!.startsWith(`${path}: `), issues[0]);
      assert.match(issues[0]!, words);
    });
  }

  it('accepts the limits just inside', () => {
    const p = edited((q) => {
      q.canary.guardrails.maxSensitivityDrop = 0.99;
      q.shadow.minAgreement = 0.01;
      q.shadow.minKappa = -0.99;
      q.canary.sequential.maxErrorRate = 0.99;
    });
    assert.deepEqual(refusals(p), []);
  });
});

describe('acceptance policy: bounds that could never fail', () => {
  const criterion = (c: Record<string, unknown>) => ({ version: 1, criteria: [c] });
  const issues = (c: Record<string, unknown>): string[] => {
    const r = AcceptancePolicySchema.safeParse(criterion(c));
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  for (const [name, c, path, words] of [
    [
      'maxDrop 1.5 on sensitivity',
      { kind: 'max-drop', metric: 'sensitivity', maxDrop: 1.5 },
      'criteria.0.maxDrop',
      /cannot worsen by 1 or more/,
    ],
    [
      'maxDrop 1 on brier',
      { kind: 'max-drop', metric: 'brier', maxDrop: 1 },
      'criteria.0.maxDrop',
      /cannot worsen by 1 or more/,
    ],
    [
      'minN 0',
      { kind: 'max-drop', metric: 'auc', maxDrop: 0.02, minN: 0 },
      'criteria.0.minN',
      /minN 0 could never find too little data/,
    ],
    [
      'sensitivity >= 0',
      { kind: 'metric-threshold', metric: 'sensitivity', op: '>=', value: 0 },
      'criteria.0.value',
      /sensitivity >= 0 could never fail/,
    ],
    [
      'ece <= 1',
      { kind: 'metric-threshold', metric: 'ece', op: '<=', value: 1 },
      'criteria.0.value',
      /ece <= 1 could never fail/,
    ],
    [
      'a non-inferiority margin of 1',
      { kind: 'non-inferiority', margin: 1, alpha: 0.025 },
      'criteria.0.margin',
      /margin of 1 or more/,
    ],
    [
      'an unknown key',
      { kind: 'max-drop', metric: 'auc', maxDrop: 0.02, slice: 'overall' },
      'criteria.0',
      /unknown key criteria\.0\.slice/,
    ],
  ] as const) {
    it(`refuses ${name}`, () => {
      const found = issues(c);
      assert.equal(found.length, 1, found.join('\n'));
      assert.ok(found[0]!.startsWith(`${path}: `), found[0]);
      assert.match(found[0]!, words);
    });
  }

  it('accepts bounds that can fail, and thresholds on unbounded calibration metrics', () => {
    assert.deepEqual(issues({ kind: 'max-drop', metric: 'sensitivity', maxDrop: 0.99, minN: 1 }), []);
    assert.deepEqual(issues({ kind: 'metric-threshold', metric: 'sensitivity', op: '>=', value: 0.01 }), []);
    assert.deepEqual(issues({ kind: 'metric-threshold', metric: 'calibrationSlope', op: '>=', value: 0 }), []);
    assert.deepEqual(issues({ kind: 'metric-threshold', metric: 'calibrationIntercept', op: '<=', value: 1 }), []);
  });
});

// The pinned digest is of the document as written (test/unit/policy-as-written.test.ts); this is the effective policy.
describe('effective policy', () => {
  it('keeps every value the author wrote, with the defaults it leaves out made explicit and nothing dropped', () => {
    const doc = written();
    const parsed = ReleasePolicySchema.parse(doc);
    // Every value the author wrote is in the effective policy, unchanged.
    const check = (w: unknown, p: unknown, path: string): void => {
      if (w !== null && typeof w === 'object') {
        assert.ok(p !== null && typeof p === 'object', path);
        for (const [k, v] of Object.entries(w)) check(v, (p as Record<string, unknown>)[k], `${path}.${k}`);
      } else assert.deepEqual(p, w, path);
    };
    check(doc, parsed, 'policy');
    // The effective policy parses to itself: written out with its defaults, it has the same digest.
    const canonical = JSON.parse(Buffer.from(canonicalBytes(parsed)).toString('utf8'));
    assert.equal(policyDigest(ReleasePolicySchema.parse(canonical)), sha256Hex(canonicalBytes(canonical)));
    assert.equal(policyDigest(parsed), sha256Hex(canonicalBytes(canonical)));
  });
});
