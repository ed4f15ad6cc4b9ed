/** judgeShadow with the clinical fields (κ, PSI, adjudication) and the adjudication tally; old inputs unchanged. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ArmStats, ReleasePolicy, ShadowMeasurement } from '../../src/domain';
import { ReleasePolicySchema } from '../../src/domain';
import { judgeShadow, tallyAdjudications } from '../../src/judging';
import { validRequest } from '../support/fixtures';

const arm: ArmStats = {
  n: 1000,
  positives: 100,
  truePositives: 80,
  negatives: 900,
  trueNegatives: 800,
  alerts: 180,
  sensitivity: 0.8,
  specificity: 0.889,
  alertRate: 0.18,
};
const base: ShadowMeasurement = {
  cases: 1000,
  agreements: 950,
  agreement: 0.95,
  meanAbsScoreDifference: 0.02,
  candidate: arm,
  production: arm,
};
const policy = (extra: Partial<ReleasePolicy['shadow']> = {}): ReleasePolicy['shadow'] => ({
  durationSeconds: 60,
  cases: 1000,
  minAgreement: 0.8,
  ...extra,
});
const adjudication = { sampleSize: 20, minAdjudicated: 10, maxCandidateWrongShare: 0.4, timeoutSeconds: 3600 };
const tally = (candidateRight: number, productionRight: number, unclear: number, sampled = 20) => ({
  sampled,
  adjudicatedCases: candidateRight + productionRight + unclear,
  adjudications: candidateRight + productionRight + unclear,
  candidateRight,
  productionRight,
  unclear,
  deadline: '2026-12-01T00:00:00.000Z',
});

describe('judgeShadow', () => {
  it('judges measurements and policies without the clinical fields exactly as before', () => {
    assert.deepEqual(judgeShadow(base, policy()), {
      verdict: 'pass',
      reasons: ['agreement with production 0.9500 on 1000 mirrored cases'],
    });
    assert.deepEqual(judgeShadow({ ...base, agreement: 0.7 }, policy()), {
      verdict: 'fail',
      reasons: ['agreement with production 0.7000 is below the minimum 0.8'],
    });
    assert.deepEqual(judgeShadow({ ...base, cases: 10 }, policy()), {
      verdict: 'inconclusive',
      reasons: ['only 10 of 1000 required shadow cases observed'],
    });
    // New measurement fields alone change nothing when the policy does not ask for them.
    assert.deepEqual(
      judgeShadow(
        {
          ...base,
          kappa: 0.01,
          drift: {
            reference: { dataset: 'e', sha256: 'x', rows: 1 },
            features: [{ feature: 'x0', psi: 9, ks: 1, ksPValue: 0, n: 1 }],
            site: null,
          },
        },
        policy(),
      ).verdict,
      'pass',
    );
  });

  it('names scoring failures when they leave too few cases', () => {
    const d = judgeShadow({ ...base, cases: 900, errors: { candidate: 100, production: 0, cases: 100 } }, policy());
    assert.equal(d.verdict, 'inconclusive');
    assert.match(d.reasons[1]!, /100 cases could not be scored \(candidate 100, production 0\)/);
  });

  it('minKappa: below fails, at or above passes with κ in the reason, undefined or unmeasured is inconclusive', () => {
    assert.deepEqual(judgeShadow({ ...base, kappa: 0.55 }, policy({ minKappa: 0.6 })), {
      verdict: 'fail',
      reasons: ["Cohen's κ 0.5500 is below the minimum 0.6"],
    });
    assert.match(judgeShadow({ ...base, kappa: 0.6 }, policy({ minKappa: 0.6 })).reasons[0]!, /; κ 0\.6000$/);
    assert.equal(judgeShadow({ ...base, kappa: null }, policy({ minKappa: 0.6 })).verdict, 'inconclusive');
    assert.equal(judgeShadow(base, policy({ minKappa: 0.6 })).verdict, 'inconclusive');
  });

  it('maxPsi: any feature above the bound fails, naming each', () => {
    const drift = (psis: number[]) => ({
      reference: { dataset: 'eval', sha256: 'a'.repeat(64), rows: 100 },
      features: psis.map((psi, i) => ({ feature: `x${i}`, psi, ks: 0.1, ksPValue: 0.5, n: 1000 })),
      site: null,
    });
    assert.deepEqual(judgeShadow({ ...base, drift: drift([0.01, 0.3, 0.2, 0.26]) }, policy({ maxPsi: 0.25 })), {
      verdict: 'fail',
      reasons: ['input drift: PSI above 0.25 for x1 (0.3000), x3 (0.2600)'],
    });
    assert.equal(judgeShadow({ ...base, drift: drift([0.01, 0.25]) }, policy({ maxPsi: 0.25 })).verdict, 'pass');
    assert.equal(judgeShadow(base, policy({ maxPsi: 0.25 })).verdict, 'inconclusive');
  });

  it('adjudication: the production-right share excludes unclear cases from the denominator', () => {
    // 4 production right of 4 + 6 decided = 0.4: at the bound passes; 2 unclear do not dilute the share.
    const ok = judgeShadow({ ...base, adjudication: tally(6, 4, 2) }, policy({ adjudication }));
    assert.equal(ok.verdict, 'pass');
    assert.match(
      ok.reasons[0]!,
      /production judged right on 4 of 10 adjudicated disagreements \(share 0\.4000; 2 unclear excluded from the denominator\)/,
    );
    // 5 of 10 decided (2 unclear): 0.5 > 0.4 fails; counting unclear as candidate-right would have passed (5/12).
    const bad = judgeShadow({ ...base, adjudication: tally(5, 5, 2) }, policy({ adjudication }));
    assert.equal(bad.verdict, 'fail');
    assert.match(
      bad.reasons[0]!,
      /share 0\.5000; 2 unclear excluded from the denominator\), more than the allowed 0\.4/,
    );
  });

  it('adjudication: too few adjudicated fails as a timeout; all unclear is inconclusive; no disagreements passes; none recorded is inconclusive', () => {
    const timedOut = judgeShadow({ ...base, adjudication: tally(3, 0, 1) }, policy({ adjudication }));
    assert.deepEqual(timedOut, {
      verdict: 'fail',
      reasons: [
        'clinical adjudication timed out: 4 of 10 required disagreement cases adjudicated by 2026-12-01T00:00:00.000Z',
      ],
    });
    // With fewer disagreements than minAdjudicated, all of them are required.
    assert.equal(judgeShadow({ ...base, adjudication: tally(3, 0, 0, 3) }, policy({ adjudication })).verdict, 'pass');
    assert.equal(
      judgeShadow({ ...base, adjudication: tally(0, 0, 10) }, policy({ adjudication })).verdict,
      'inconclusive',
    );
    assert.match(
      judgeShadow({ ...base, adjudication: tally(0, 0, 0, 0) }, policy({ adjudication })).reasons[0]!,
      /no disagreements to adjudicate/,
    );
    assert.equal(judgeShadow(base, policy({ adjudication })).verdict, 'inconclusive');
    // A measured failure stays a failure (the adjudication never started).
    const measured = judgeShadow({ ...base, agreement: 0.5 }, policy({ adjudication }));
    assert.equal(measured.verdict, 'fail');
    assert.equal(measured.reasons.length, 2);
  });
});

describe('tallyAdjudications', () => {
  it('one verdict per case by majority; unclear abstains; a tie is unclear', () => {
    const t = tallyAdjudications(
      [
        { sampleId: 'd-001', verdict: 'candidate' },
        { sampleId: 'd-001', verdict: 'unclear' },
        { sampleId: 'd-002', verdict: 'production' },
        { sampleId: 'd-002', verdict: 'production' },
        { sampleId: 'd-002', verdict: 'candidate' },
        { sampleId: 'd-003', verdict: 'candidate' },
        { sampleId: 'd-003', verdict: 'production' },
        { sampleId: 'd-004', verdict: 'unclear' },
      ],
      10,
      'D',
    );
    assert.deepEqual(t, {
      sampled: 10,
      adjudicatedCases: 4,
      adjudications: 8,
      candidateRight: 1,
      productionRight: 1,
      unclear: 2,
      deadline: 'D',
    });
  });
});

describe('policy', () => {
  it('minAdjudicated cannot exceed sampleSize; the adjudication object is strict', () => {
    const p = (shadow: Record<string, unknown>) =>
      ReleasePolicySchema.safeParse({
        ...JSON.parse(JSON.stringify(validRequest().policy)),
        shadow: { durationSeconds: 60, cases: 100, minAgreement: 0.8, ...shadow },
      }).success;
    assert.equal(p({ adjudication: { ...adjudication } }), true);
    assert.equal(p({ adjudication: { ...adjudication, minAdjudicated: 21 } }), false);
    assert.equal(p({ adjudication: { ...adjudication, extra: 1 } }), false);
    assert.equal(p({ minKappa: 1.5 }), false);
  });
});
