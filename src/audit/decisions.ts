/**
 * Decision recomputation: apply the same pure judges the workflow used (src/judging) to the
 * measurements recorded in history and the policy pinned at SNAPSHOT, and compare with the
 * decisions in the evidence chain.
 */
import { isDeepStrictEqual } from 'node:util';
import type {
  ChainEntry,
  Decision,
  DriftMeasurement,
  LiveMeasurement,
  MeasuredBy,
  OfflineMeasurement,
  ReleaseRequest,
  ShadowMeasurement,
  SnapshotMeasurement,
} from '../domain';
import { policyDigest, requestPolicyDigest } from '../evidence/policy-digest';
import { ReleasePolicySchema } from '../domain/policy';
import {
  judgeDrift,
  judgeGuardrails,
  judgeGuardrailsSequential,
  judgeOffline,
  judgeShadow,
  judgeSnapshot,
  judgeWindowCompleteness,
  measuredBy,
  type MeasuredFields,
  withMonitoringCohorts,
  recordedCohortGuardrails,
  recordedHarmMixture,
} from '../judging';
import type { Finding } from './chain';
import { eventLabel, type ActivityCall } from './history';

export interface DecisionCheck {
  stage: string;
  step: number | null;
  event: string;
  recomputed: Decision;
  recorded: (Pick<Decision, 'reasons'> & { verdict: string }) | null;
  chainSeq: number | null;
  match: boolean;
  /**
   * How the live measurement was taken, from the measurement as recorded; `attempts` is the history's own count
   * (the attempt that completed the activity), checked against the attempt the measurement recorded.
   */
  measured?: MeasuredBy;
}

export interface DecisionRecomputation {
  policySha256: string | null;
  checks: DecisionCheck[];
  findings: Finding[];
}

/**
 * A live measurement's provenance (source, completeness, mirror coverage), its attempts counted from the history; a
 * measurement that records a different attempt than the history's is a finding.
 */
function measuredOf(call: ActivityCall, findings: Finding[]): MeasuredBy | undefined {
  if (call.name !== 'observeLive' && call.name !== 'observeShadow') return undefined;
  const m = (call.result as StageOut<MeasuredFields> | undefined)?.measurement;
  const fields = m ? measuredBy(m) : undefined;
  if (!fields) return undefined;
  if (call.attempt === undefined) return fields;
  if (m!.attempt !== undefined && m!.attempt !== call.attempt)
    findings.push({
      problem: `${eventLabel(call)}: the measurement records attempt ${m!.attempt}, the history attempt ${call.attempt}`,
    });
  return { ...fields, attempts: call.attempt };
}

/** Stages whose chain decision is a judge's verdict on a measurement (the others are derived). */
const MEASURED = new Set(['SNAPSHOT', 'OFFLINE_EVAL', 'SHADOW', 'CANARY']);
const isMeasured = (e: Pick<ChainEntry, 'stage' | 'step'>): boolean =>
  MEASURED.has(e.stage) || (e.stage === 'MONITORING' && e.step !== null);

interface StageOut<M> {
  measurement: M;
}

const measured = <M>(call: ActivityCall): M => (call.result as StageOut<M>).measurement;

/**
 * Windows measured incomplete were judged again for it (patched('honest-windows')); complete windows and
 * measurements recorded before completeness existed recompute exactly as before.
 */
const honest = (d: Decision, m: Parameters<typeof judgeWindowCompleteness>[1], policy: ReleaseRequest['policy']) =>
  judgeWindowCompleteness(d, m, policy.acceptIncompleteWindows === true);

export function recomputeDecisions(
  calls: ActivityCall[],
  chain: Array<ChainEntry & { key?: string }>,
): DecisionRecomputation {
  const findings: Finding[] = [];
  const checks: DecisionCheck[] = [];
  let pinned: string | null = null;
  // Sequential canary looks are judged on every interval so far; extensions give one step several entries,
  // matched to chain entries in order.
  const canaryHistory: LiveMeasurement[] = [];
  const seen = new Map<string, number>();

  for (const call of calls) {
    const input = call.input as
      { request?: ReleaseRequest; mode?: string; step?: number; interval?: number } | undefined;
    const request = input?.request;
    if (!request) continue;
    // The pinned digest is of the policy as written when the request carries it, else (releases recorded before
    // it was kept) of the effective policy; the effective policy is what every judge below applies.
    const policySha = requestPolicyDigest(request);
    if (call.name === 'snapshotRelease') {
      const m = (call.result as StageOut<SnapshotMeasurement>).measurement;
      pinned = m.policySha256;
      if (m.policySha256 !== policySha) {
        findings.push({
          problem: `${eventLabel(call)}: the policy in the request does not hash to the digest pinned at SNAPSHOT`,
          expected: m.policySha256,
          actual: policySha,
        });
      }
      const effective = policyDigest(request.policy);
      if (m.effectivePolicySha256 !== undefined && m.effectivePolicySha256 !== effective) {
        findings.push({
          problem: `${eventLabel(call)}: the effective policy in the request is not the one SNAPSHOT recorded`,
          expected: m.effectivePolicySha256,
          actual: effective,
        });
      }
    }
    if (request.policyAsWritten !== undefined) writtenGivesEffective(call, request, findings);
    const judged = judgeCall(call, calls, canaryHistory, findings);
    if (judged === null) continue;
    const { stage, step, recomputed } = judged;
    if (call.name !== 'snapshotRelease' && pinned !== null && policySha !== pinned) {
      findings.push({
        problem: `${eventLabel(call)}: judged under a policy other than the one pinned at SNAPSHOT`,
        expected: pinned,
        actual: policySha,
      });
    }
    const slot = `${stage}:${step}`;
    const nth = seen.get(slot) ?? 0;
    seen.set(slot, nth + 1);
    const entry = chain.filter((e) => e.stage === stage && e.step === step)[nth];
    const recorded = entry ? entry.decision : null;
    const match =
      recorded !== null &&
      recorded.verdict === recomputed.verdict &&
      isDeepStrictEqual(recorded.reasons, recomputed.reasons);
    const measured = measuredOf(call, findings);
    checks.push({
      stage,
      step,
      event: eventLabel(call),
      recomputed,
      recorded,
      chainSeq: entry?.seq ?? null,
      match,
      ...(measured ? { measured } : {}),
    });
    if (!entry) {
      findings.push({
        problem: `${eventLabel(call)}: ${label(stage, step)} was measured but no chain entry records its decision`,
      });
    } else if (!match) {
      findings.push({
        key: entry.key,
        problem: `${label(stage, step)}: decision recomputed from ${eventLabel(call)} differs from chain entry ${entry.seq}`,
        expected: `${recomputed.verdict}: ${recomputed.reasons.join('; ')}`,
        actual: `${recorded!.verdict}: ${recorded!.reasons.join('; ')}`,
      });
    }
  }
  for (const e of chain.filter(isMeasured)) {
    if (!checks.some((c) => c.stage === e.stage && c.step === e.step)) {
      findings.push({
        key: e.key,
        problem: `chain entry ${e.seq} (${label(e.stage, e.step)}) has no measurement in any audited history`,
      });
    }
  }
  // Histories are audited run by run; report decisions in chain order.
  checks.sort((a, b) => (a.chainSeq ?? Infinity) - (b.chainSeq ?? Infinity));
  return { policySha256: pinned, checks, findings };
}

/**
 * A request carrying the policy as written must give, with this build's defaults, the effective policy it was
 * judged under; otherwise the pinned (written) document and the criteria applied differ.
 */
function writtenGivesEffective(call: ActivityCall, request: ReleaseRequest, findings: Finding[]): void {
  const again = ReleasePolicySchema.safeParse(request.policyAsWritten);
  const effective = policyDigest(request.policy);
  if (!again.success) {
    findings.push({
      problem: `${eventLabel(call)}: the policy as written no longer parses: ${again.error.issues
        .map((i) => `${i.path.join('.')}: ${i.message}`)
        .join('; ')}`,
    });
  } else if (policyDigest(again.data) !== effective) {
    findings.push({
      problem: `${eventLabel(call)}: the policy as written, with its defaults filled in, is not the effective policy judged`,
      expected: policyDigest(again.data),
      actual: effective,
    });
  }
}

/** The judge's verdict on one recorded measurement, as the workflow reached it; null for other calls. */
function judgeCall(
  call: ActivityCall,
  calls: ActivityCall[],
  canaryHistory: LiveMeasurement[],
  findings: Finding[],
): { stage: string; step: number | null; recomputed: Decision } | null {
  const input = call.input as { request: ReleaseRequest; mode?: string; step?: number; interval?: number };
  const policy = input.request.policy;
  switch (call.name) {
    case 'snapshotRelease':
      return {
        stage: 'SNAPSHOT',
        step: null,
        recomputed: judgeSnapshot((call.result as StageOut<SnapshotMeasurement>).measurement),
      };
    case 'evaluateOffline':
      return {
        stage: 'OFFLINE_EVAL',
        step: null,
        recomputed: judgeOffline((call.result as StageOut<OfflineMeasurement>).measurement),
      };
    case 'observeShadow':
    case 'closeShadowReview':
      // With clinical adjudication the gate is judged once the adjudications are tallied (closeShadowReview).
      if (
        call.name === 'observeShadow' &&
        policy.shadow.adjudication &&
        calls.some((c) => c.name === 'closeShadowReview')
      )
        return null;
      return {
        stage: 'SHADOW',
        step: null,
        recomputed: honest(judgeShadow(measured<ShadowMeasurement>(call), policy.shadow), measured(call), policy),
      };
    case 'observeLive': {
      const step = input.step ?? null;
      const m = (call.result as StageOut<LiveMeasurement>).measurement;
      const g = policy.canary.sequential;
      // Only the sequential path passes `interval`; earlier histories were judged one interval at a time.
      if (input.mode === 'canary' && g && input.interval !== undefined) {
        canaryHistory.push(m);
        // Which default split judged a policy without `cohorts`: the look's recorded verdict names its α.
        const verdictCall = calls.slice(calls.indexOf(call) + 1).find((c) => c.name === 'recordVerdict');
        const recorded = verdictCall?.input as
          | {
              verdict?: {
                evidence?: {
                  cohorts?: { allocation?: { overall?: number } };
                  sequential?: { mixture?: { kind?: unknown } } | null;
                };
              };
            }
          | undefined;
        const cohorts = recordedCohortGuardrails(
          canaryHistory,
          g,
          recorded?.verdict?.evidence?.cohorts?.allocation?.overall,
        );
        // Which mixture: only looks judged under `planned-mixture` record `sequential.mixture`.
        const judged = judgeGuardrailsSequential(canaryHistory, g, {
          final: step === policy.canary.steps.length - 1,
          ...(cohorts ? { cohorts } : {}),
          mixture: recordedHarmMixture(recorded?.verdict?.evidence),
        });
        const honestly = honest(judged, m, policy);
        return { stage: 'CANARY', step, recomputed: { verdict: honestly.verdict, reasons: honestly.reasons } };
      }
      const guardrails = input.mode === 'canary' ? policy.canary.guardrails : policy.monitoring.guardrails;
      const whole = judgeGuardrails(m, guardrails);
      // A monitoring window that measured cohorts was judged per cohort too (patched('monitoring-cohorts')).
      const perCohort = input.mode === 'monitoring' && m.cohorts ? withMonitoringCohorts(whole, m, policy) : null;
      return {
        stage: input.mode === 'canary' ? 'CANARY' : 'MONITORING',
        step,
        recomputed: honest(perCohort ? { verdict: perCohort.verdict, reasons: perCohort.reasons } : whole, m, policy),
      };
    }
    case 'observeDrift': {
      // Drift is a second chain entry for the same monitoring window, appended after the guardrails' entry.
      const g = policy.monitoring.drift;
      if (!g) {
        findings.push({
          problem: `${eventLabel(call)}: drift was measured but the pinned policy has no monitoring.drift to judge it by`,
        });
        return null;
      }
      const judged = judgeDrift((call.result as StageOut<DriftMeasurement>).measurement, g);
      return {
        stage: 'MONITORING',
        step: input.step ?? null,
        recomputed: { verdict: judged.verdict, reasons: judged.reasons },
      };
    }
    default:
      return null;
  }
}

/**
 * appendChainEntry results in history are the digests the workflow saw written: each must be the
 * digest of the entry now stored at that sequence number.
 */
export function chainWritesMatch(
  calls: ActivityCall[],
  chain: Array<ChainEntry & { key: string; digest: string }>,
): Finding[] {
  const findings: Finding[] = [];
  for (const call of calls.filter((c) => c.name === 'appendChainEntry')) {
    const written = call.result as { seq: number; digest: string };
    const stored = chain.find((e) => e.seq === written.seq);
    if (!stored)
      findings.push({
        problem: `${eventLabel(call)} wrote chain entry ${written.seq}, which is not in the store`,
        expected: written.digest,
      });
    else if (stored.digest !== written.digest) {
      findings.push({
        key: stored.key,
        problem: `${eventLabel(call)} wrote a different chain entry ${written.seq} than the one stored`,
        expected: written.digest,
        actual: stored.digest,
      });
    }
  }
  return findings;
}

const label = (stage: string, step: number | null): string => (step === null ? stage : `${stage}[${step}]`);
