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
import { holmAdjust } from '../stats/holm';
import { labelSource } from './source-label';

/** Family-wise level at which a shadow window's PSI gates reject (issue #22; docs/statistics.md). */
export const SHADOW_DRIFT_ALPHA = 0.01;

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
    ...(m.production && m.production.serving !== null && m.production.serving !== m.production.declared
      ? [
          `declared incumbent ${m.production.declared}, but production serves ${m.production.serving}: a release must replace the version production serves`,
        ]
      : []),
    // Criteria written after training could have been tuned to the result: they are not pre-registered.
    ...(pre?.trainingStartedAt && Date.parse(pre.registeredAt) > Date.parse(pre.trainingStartedAt)
      ? [
          `acceptance criteria registered at ${pre.registeredAt}, after the candidate's training started at ${pre.trainingStartedAt}: not pre-registered`,
        ]
      : []),
  ];
  const change = m.changeClass
    ? `; change ${m.changeClass === 'withinPlan' ? 'within the change control plan' : 'substantial'} (${(m.changed ?? []).join(', ') || 'nothing'} changed)`
    : '';
  // Absent from measurements recorded before label sources existed, so their pass note is unchanged.
  const labels = m.labelSources?.length
    ? `; labels: ${m.labelSources.map((l) => `${l.dataset} ${l.kind}`).join(', ')}`
    : '';
  return decide(failures, [], `provenance complete; policy pinned at sha256:${m.policySha256}${change}${labels}`);
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
  const notRun = m.leakage?.notRun.length
    ? `; leakage checks not run: ${m.leakage.notRun.map((n) => n.reason).join('; ')}`
    : '';
  return decide(
    failures,
    [],
    `all ${m.criteria.length} pre-registered criteria met; candidate AUC ${fmt(m.candidate.auc)} (incumbent ${fmt(m.incumbent.auc)}) on ${m.n} locked rows` +
      (m.leakage ? `; no leakage (${m.leakage.checks.join(', ')})${notRun}` : ''),
  );
}

/**
 * The shadow gate: agreement at the threshold, and — only when the policy sets them — Cohen's κ, input drift
 * (PSI of every model input against the locked evaluation data) and the clinical adjudication of sampled
 * disagreements. Measurements and policies without those fields are judged exactly as before they existed.
 */
export function judgeShadow(m: ShadowMeasurement, policy: ReleasePolicy['shadow']): Decision {
  return labelSource(judgeShadowWindow(m, policy), m.source);
}

function judgeShadowWindow(m: ShadowMeasurement, policy: ReleasePolicy['shadow']): Decision {
  if (m.agreement === null || m.cases < policy.cases) {
    const failed =
      m.errors && m.errors.cases > 0
        ? [
            `${m.errors.cases} cases could not be scored (candidate ${m.errors.candidate}, production ${m.errors.production})`,
          ]
        : [];
    // Measured from gateway telemetry: say how much of production the gateway mirrored.
    const mirror = m.mirror;
    const unmirrored = !mirror
      ? []
      : mirror.production === 0
        ? ['the gateway recorded no production prediction of the incumbent in the shadow window']
        : mirror.unpaired > 0
          ? [
              `${mirror.unpaired} of ${mirror.production} production predictions had no shadow prediction (mirror coverage ${fmt(mirror.coverage)})`,
            ]
          : [];
    return {
      verdict: 'inconclusive',
      reasons: [`only ${m.cases} of ${policy.cases} required shadow cases observed`, ...failed, ...unmirrored],
    };
  }
  const failures: string[] = [];
  const inconclusive: string[] = [];
  const notes: string[] = [];
  if (m.agreement < policy.minAgreement)
    failures.push(`agreement with production ${fmt(m.agreement)} is below the minimum ${policy.minAgreement}`);
  if (policy.minKappa !== undefined) {
    if (m.kappa === undefined)
      inconclusive.push(`Cohen's κ was not measured (the policy requires at least ${policy.minKappa})`);
    else if (m.kappa === null)
      inconclusive.push(
        `Cohen's κ is undefined: both models made one and the same call on every case (the policy requires at least ${policy.minKappa})`,
      );
    else if (m.kappa < policy.minKappa)
      failures.push(`Cohen's κ ${fmt(m.kappa)} is below the minimum ${policy.minKappa}`);
    else notes.push(`κ ${fmt(m.kappa)}`);
  }
  if (policy.maxPsi !== undefined) {
    const features = m.drift?.features ?? [];
    if (features.length === 0) {
      const notCompared = m.drift?.notCompared ?? [];
      const why = m.notMeasured?.drift
        ? `: ${m.notMeasured.drift}`
        : notCompared.length
          ? `: ${notCompared.join('; ')}`
          : '';
      inconclusive.push(
        `input drift against the validation reference was not measured (the policy allows PSI up to ${policy.maxPsi})${why}`,
      );
    } else {
      // Typed measurements (issue #22) gate the PSI bound by the χ² on its own cells, Holm-adjusted over the
      // window's features at SHADOW_DRIFT_ALPHA: a 0/1 input's PSI of a few tenths at 100 cases is sampling noise.
      // Older measurements carry no featureType and are judged by the PSI bound alone, as recorded.
      const typed = features.some((f) => f.featureType !== undefined);
      const gate = typed ? holmAdjust(features.map((f) => f.psiPValue ?? 1)) : null;
      const over = features.filter((f, i) => f.psi > policy.maxPsi! && (!gate || gate[i]! < SHADOW_DRIFT_ALPHA));
      const noise = gate ? features.filter((f, i) => f.psi > policy.maxPsi! && gate[i]! >= SHADOW_DRIFT_ALPHA) : [];
      if (noise.length)
        notes.push(
          `PSI above ${policy.maxPsi} within sampling noise (χ² on its cells, Holm-adjusted p ≥ ${SHADOW_DRIFT_ALPHA}) for ${noise.map((f) => `${f.feature} (${fmt(f.psi)})`).join(', ')}`,
        );
      // A typed feature whose window left fewer than two χ² cells cannot be judged: never a pass for it.
      const tooFew = gate ? features.filter((f) => f.featureType !== undefined && f.psiPValue === null) : [];
      if (over.length)
        failures.push(
          `input drift: PSI above ${policy.maxPsi} for ${over.map((f) => `${f.feature} (${fmt(f.psi)}${gate ? `, χ² on its cells Holm-adjusted p ${gate[features.indexOf(f)]!.toPrecision(3)} < ${SHADOW_DRIFT_ALPHA}` : ''})`).join(', ')}`,
        );
      else if (tooFew.length)
        inconclusive.push(
          `too few cases to judge drift of ${tooFew.map((f) => `${f.feature} (${f.n} cases)`).join(', ')}: fewer than two cells with ≥ 5 expected (the policy allows PSI up to ${policy.maxPsi})`,
        );
      // A feature whose drift could not be measured is never a pass for it.
      else if (m.drift?.notCompared?.length)
        inconclusive.push(
          `input drift was not measured for ${m.drift.notCompared.join('; ')} (the policy allows PSI up to ${policy.maxPsi})`,
        );
      else notes.push(`largest input PSI ${fmt(Math.max(...features.map((f) => f.psi)))}`);
    }
  }
  const a = policy.adjudication;
  if (a) {
    const t = m.adjudication;
    if (!t)
      inconclusive.push(
        'disagreements were not clinically adjudicated (adjudication starts only once the measured criteria pass)',
      );
    else if (t.sampled === 0) notes.push('no disagreements to adjudicate');
    else {
      const required = Math.min(a.minAdjudicated, t.sampled);
      const decided = t.candidateRight + t.productionRight;
      if (t.adjudicatedCases < required) {
        failures.push(
          `clinical adjudication timed out: ${t.adjudicatedCases} of ${required} required disagreement cases adjudicated by ${t.deadline}`,
        );
      } else if (decided === 0) {
        inconclusive.push(
          `all ${t.adjudicatedCases} adjudicated disagreement cases were judged unclear: no evidence which model is right`,
        );
      } else {
        const share = t.productionRight / decided;
        const text = `production judged right on ${t.productionRight} of ${decided} adjudicated disagreements (share ${fmt(share)}; ${t.unclear} unclear excluded from the denominator)`;
        if (share > a.maxCandidateWrongShare)
          failures.push(`${text}, more than the allowed ${a.maxCandidateWrongShare}`);
        else notes.push(text);
      }
    }
  }
  const coverage = m.mirror
    ? `; mirror coverage ${fmt(m.mirror.coverage)} (${m.mirror.paired} of ${m.mirror.production} production predictions)`
    : '';
  const pass = `agreement with production ${fmt(m.agreement)} on ${m.cases} mirrored cases${coverage}`;
  return decide(failures, inconclusive, notes.length ? `${pass}; ${notes.join('; ')}` : pass);
}

/**
 * One verdict per adjudicated case: the majority of its candidate / production votes (unclear votes abstain);
 * a tie or only unclear votes make the case unclear. Pure: the workflow, the closing activity and auditors agree.
 */
export function tallyAdjudications(
  votes: ReadonlyArray<{ sampleId: string; verdict: 'candidate' | 'production' | 'unclear' }>,
  sampled: number,
  deadline: string,
): NonNullable<ShadowMeasurement['adjudication']> {
  const perCase = new Map<string, { candidate: number; production: number }>();
  for (const v of votes) {
    const c = perCase.get(v.sampleId) ?? { candidate: 0, production: 0 };
    if (v.verdict !== 'unclear') c[v.verdict]++;
    perCase.set(v.sampleId, c);
  }
  let candidateRight = 0;
  let productionRight = 0;
  for (const c of perCase.values()) {
    if (c.candidate > c.production) candidateRight++;
    else if (c.production > c.candidate) productionRight++;
  }
  return {
    sampled,
    adjudicatedCases: perCase.size,
    adjudications: votes.length,
    candidateRight,
    productionRight,
    unclear: perCase.size - candidateRight - productionRight,
    deadline,
  };
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
  const decision = decide(
    failures,
    inconclusive,
    `guardrails held in ${m.window}: sensitivity ${fmt(t.sensitivity)} vs ${fmt(c.sensitivity)}, alert rate ${fmt(t.alertRate)} vs ${fmt(c.alertRate)}`,
  );
  return labelSource(decision, m.source);
}
export {
  judgeGuardrailsSequential,
  recordedHarmMixture,
  type CanaryIntervalMeasurement,
  type SequentialGuardrailsDecision,
  type SequentialGuardrailsInput,
} from './guardrails';
export { labelSource, SIMULATED_LABEL } from './source-label';
export { describeMeasuredBy, measuredBy, type MeasuredFields } from './measured-by';
export { isIncomplete, judgeWindowCompleteness } from './window-completeness';
export { judgeDrift, type DriftCheck, type DriftDecision } from './drift';
export {
  cohortAlphaAllocation,
  guardedCohortAttributes,
  judgeCohorts,
  recordedCohortGuardrails,
  type CohortAlphaAllocation,
  type CohortJudgement,
  type CohortTotals,
  type CohortVerdict,
  type FloorCheck,
} from './cohort-guardrails';
export {
  judgeMonitoringCohorts,
  withMonitoringCohorts,
  type MonitoringCohortJudgement,
  type MonitoringCohortVerdict,
} from './monitoring-cohorts';
