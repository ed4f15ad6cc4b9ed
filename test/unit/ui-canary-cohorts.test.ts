/**
 * The release page's per-cohort canary table: read from the latest canary look's verdict record by its digest, one
 * row per cohort with the judge's own figures; an altered record is shown as unreadable, never its content. And the
 * dossier's canary plan, which states the per-cohort guardrails before anyone signs.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_COHORT_GUARDRAILS, type ArmStats, type LiveMeasurement, type StageRecord } from '../../src/domain';
import { judgeGuardrailsSequential } from '../../src/judging';
import { canaryPlan } from '../../src/dossier/review-sections';
import { canaryCohorts, canaryCohortsSection } from '../../src/ui/canary-cohorts';
import { memoryEvidence } from '../support/memory-evidence';

function arm(n: number, positives: number, truePositives: number, alerts: number): ArmStats {
  const negatives = n - positives;
  const trueNegatives = negatives - (alerts - truePositives);
  return {
    n,
    positives,
    truePositives,
    negatives,
    trueNegatives,
    alerts,
    sensitivity: truePositives / positives,
    specificity: trueNegatives / negatives,
    alertRate: alerts / n,
  };
}

const measurement: LiveMeasurement = {
  source: 'simulated',
  window: 'canary step 1 (10%)',
  treatment: arm(400, 100, 60, 120),
  comparator: arm(3600, 900, 720, 1080),
  cohorts: {
    'site=site-a': { treatment: arm(200, 50, 40, 70), comparator: arm(1800, 450, 360, 540) },
    'site=site-b': { treatment: arm(200, 50, 0, 20), comparator: arm(1800, 450, 360, 540) },
  },
};
const g = {
  alpha: 0.05,
  harmMargin: 0,
  planned: { treatmentPositives: 340, comparatorPositives: 1120, sensitivity: 0.8 },
  minPositives: 50,
  maxAlertRateRatio: 10,
};
const log = { warn: () => {} } as never;

function look(artifacts: StageRecord['artifacts']): StageRecord {
  return {
    stage: 'CANARY',
    step: 0,
    startedAt: '2026-03-01T10:00:00Z',
    endedAt: '2026-03-01T10:00:05Z',
    decision: { verdict: 'fail', reasons: ['x'] },
    artifacts,
    chainEntry: null,
  };
}

describe('release page: canary per cohort', () => {
  it("shows each cohort's verdict and counts from the latest look's verdict record", async () => {
    const evidence = memoryEvidence();
    const verdict = judgeGuardrailsSequential([measurement], g, { cohorts: DEFAULT_COHORT_GUARDRAILS });
    const ref = await evidence.putJson({ kind: 'vigil.guardrail-verdict/v1', stage: 'CANARY', look: 1, verdict });
    const c = await canaryCohorts({ evidence, log }, { history: [look([ref])] });
    assert.ok(c && !('error' in c));
    assert.equal(c.where, 'step 1, look 1');
    const page = String(await canaryCohortsSection(c));
    const row = (cohort: string) => new RegExp(`<tr data-cohort="${cohort}">(.*?)</tr>`).exec(page)?.[1] ?? '';
    assert.match(row('site=site-b'), /<td>(harm|floor)<\/td><td>0\.0 % \(0\/50\)<\/td><td>80\.0 % \(360\/450\)<\/td>/);
    assert.match(row('site=site-a'), /<td>pass<\/td><td>80\.0 % \(40\/50\)<\/td>/);
    assert.match(page, /α = 0\.00013 each, floor bounds at 0\.0000078 \(whole canary 0\.0488; total α 0\.05\)/);
  });

  it('shows nothing before a cohort-judged look, and an error for an altered record', async () => {
    const evidence = memoryEvidence();
    assert.equal(await canaryCohorts({ evidence, log }, { history: [] }), null);
    const old = await evidence.putJson({ kind: 'vigil.guardrail-verdict/v1', look: 1, verdict: { evidence: {} } });
    assert.equal(await canaryCohorts({ evidence, log }, { history: [look([old])] }), null);
    const altered = { ...old, sha256: '0'.repeat(64) };
    const c = await canaryCohorts({ evidence, log }, { history: [look([altered])] });
    assert.ok(c && 'error' in c);
    assert.match(String(await canaryCohortsSection(c)), /could not be read or failed its digest check/);
  });
});

describe('dossier: the canary plan per cohort', () => {
  const dossier = (sequential: unknown) =>
    canaryPlan({
      input: {
        request: { policy: { canary: { steps: [], guardrails: demoGuardrails, onFailure: 'rollback', sequential } } },
      },
    } as never);
  const demoGuardrails = { maxSensitivityDrop: 0.1, maxAlertRateRatio: 1.6, minPositives: 20 };

  it('states the guarded cohorts, the floor and the α split (97.5/2/0.5 % of 0.05 by default)', () => {
    const page = dossier({ ...g, maxExtensions: 2 });
    assert.match(page, /every level of <code>site<\/code> \(up to 8 levels each\)/);
    assert.match(page, /α = 0\.00013 each, compared once both arms have 15 labelled positives/);
    assert.match(page, /below 0\.5 × the control's lower bound/);
    assert.match(page, /whole canary 0\.049, cohort comparisons 0\.0010, floor 0\.00025/);
  });

  it('says when no cohort is guarded, and nothing without sequential guardrails', () => {
    assert.match(dossier({ ...g, maxExtensions: 2, cohorts: { attributes: [] } }), /Per-cohort guardrails: none/);
    assert.doesNotMatch(dossier(undefined), /cohort-plan/);
  });
});
