/**
 * Pure judging functions: measurements + pinned policy -> decision.
 * The workflow calls these (so decisions are replayable) and auditors call them again to recompute.
 */
import type {
  Decision,
  Guardrails,
  LiveMeasurement,
  OfflineMeasurement,
  ReleasePolicy,
  ShadowMeasurement,
  SnapshotMeasurement,
} from '../domain';

const fmt = (x: number | null): string => (x === null ? 'undefined' : x.toFixed(4));

function decide(failures: string[], inconclusive: string[], passNote: string): Decision {
  if (failures.length > 0) return { verdict: 'fail', reasons: [...failures, ...inconclusive] };
  if (inconclusive.length > 0) return { verdict: 'inconclusive', reasons: inconclusive };
  return { verdict: 'pass', reasons: [passNote] };
}

export function judgeSnapshot(m: SnapshotMeasurement): Decision {
  const pre = m.preRegistration;
  const failures = [
    ...(m.missingFields.length ? [`provenance incomplete: missing ${m.missingFields.join(', ')}`] : []),
    ...m.digestMismatches.map((a) => `digest mismatch: ${a}`),
    // Criteria written after training could have been tuned to the result: they are not pre-registered.
    ...(pre?.trainingStartedAt && Date.parse(pre.registeredAt) > Date.parse(pre.trainingStartedAt)
      ? [`acceptance criteria registered at ${pre.registeredAt}, after the candidate's training started at ${pre.trainingStartedAt}: not pre-registered`]
      : []),
  ];
  const change = m.changeClass ? `; change ${m.changeClass === 'withinPlan' ? 'within the change control plan' : 'substantial'} (${(m.changed ?? []).join(', ') || 'nothing'} changed)` : '';
  return decide(failures, [], `provenance complete; policy pinned at sha256:${m.policySha256}${change}`);
}

/**
 * The offline gate: every pre-registered criterion must pass. Insufficient data counts against the
 * candidate (the criterion's own onInsufficient already folded into its status).
 */
export function judgeOffline(m: OfflineMeasurement): Decision {
  // A leak fails whatever the metrics say: numbers measured on leaked data are not evidence.
  const leaks = (m.leakage?.findings ?? []).map((f) => `leakage (${f.check}): ${f.reason}`);
  if (m.leakage?.verdict === 'fail' && leaks.length === 0) leaks.push('leakage: verdict fail');
  if (m.criteria.length === 0) return decide(leaks, ['no acceptance criteria were evaluated'], '');
  const failures = [...leaks, ...m.criteria.filter((c) => c.status !== 'pass').map((c) => `${c.id}: ${c.reason}`)];
  const notRun = m.leakage?.notRun.length ? `; leakage checks not run: ${m.leakage.notRun.map((n) => n.reason).join('; ')}` : '';
  return decide(
    failures,
    [],
    `all ${m.criteria.length} pre-registered criteria met; candidate AUC ${fmt(m.candidate.auc)} (incumbent ${fmt(m.incumbent.auc)}) on ${m.n} locked rows` +
      (m.leakage ? `; no leakage (${m.leakage.checks.join(', ')})${notRun}` : ''),
  );
}

export function judgeShadow(m: ShadowMeasurement, policy: ReleasePolicy['shadow']): Decision {
  if (m.agreement === null || m.cases < policy.cases) {
    return { verdict: 'inconclusive', reasons: [`only ${m.cases} of ${policy.cases} required shadow cases observed`] };
  }
  if (m.agreement < policy.minAgreement) {
    return {
      verdict: 'fail',
      reasons: [`agreement with production ${fmt(m.agreement)} is below the minimum ${policy.minAgreement}`],
    };
  }
  return { verdict: 'pass', reasons: [`agreement with production ${fmt(m.agreement)} on ${m.cases} mirrored cases`] };
}

/**
 * Guardrails for canary intervals and monitoring windows. Too few labelled positives is
 * inconclusive: a guardrail is never passed on missing evidence.
 */
export function judgeGuardrails(m: LiveMeasurement, g: Guardrails): Decision {
  const failures: string[] = [];
  const inconclusive: string[] = [];
  const t = m.treatment;
  const c = m.comparator;
  if (t.positives < g.minPositives || c.positives < g.minPositives) {
    inconclusive.push(
      `not enough labelled positives in ${m.window} (treatment ${t.positives}, comparator ${c.positives}; need ${g.minPositives})`,
    );
  } else if (t.sensitivity !== null && c.sensitivity !== null) {
    const drop = c.sensitivity - t.sensitivity;
    if (drop > g.maxSensitivityDrop) {
      failures.push(
        `sensitivity dropped by ${fmt(drop)} (${fmt(t.sensitivity)} vs ${fmt(c.sensitivity)}), more than the allowed ${g.maxSensitivityDrop}`,
      );
    }
  }
  if (t.alertRate !== null && c.alertRate !== null && c.alertRate > 0) {
    const ratio = t.alertRate / c.alertRate;
    if (ratio > g.maxAlertRateRatio) {
      failures.push(`alert rate ratio ${fmt(ratio)} exceeds the allowed ${g.maxAlertRateRatio}`);
    }
  }
  return decide(
    failures,
    inconclusive,
    `guardrails held in ${m.window}: sensitivity ${fmt(t.sensitivity)} vs ${fmt(c.sensitivity)}, alert rate ${fmt(t.alertRate)} vs ${fmt(c.alertRate)}`,
  );
}
export { judgeGuardrailsSequential, type CanaryIntervalMeasurement, type SequentialGuardrailsDecision, type SequentialGuardrailsInput } from './guardrails';
