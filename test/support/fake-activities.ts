/**
 * The fake activities every time-skipping workflow test starts from: each stage passes, each call is recorded,
 * and each returns a well-formed evidence ref whose number says which activity wrote it (so a test can look for
 * it in a chain entry). A test changes only what its story needs: the live windows (`live`), the SHADOW
 * measurement (`shadow`), the drift windows (`drift`), or any activity (`overrides`).
 */
import assert from 'node:assert/strict';
import type { ApplicationFailure } from '@temporalio/common';
import type { WorkflowHandle } from '@temporalio/client';
import type {
  MonitoringActivities,
  NotifyInput,
  ObserveDriftInput,
  RequestRevalidationInput,
  RevalidationNoticeInput,
  RollbackInput,
  VigilActivities,
} from '../../src/activities';
import type {
  AdjudicationInput,
  ArmStats,
  ChainEntry,
  DriftMeasurement,
  LiveMeasurement,
  ReleaseStatus,
  RouteState,
  ShadowMeasurement,
} from '../../src/domain';
import { releaseStatusQuery } from '../../src/domain/messages';
import { tallyAdjudications } from '../../src/judging';
import { arm, passingPreApproval, ref } from './time-skipping';

/** The release and monitoring activities, all of them: a fake the workflows would miss one of fails to compile. */
export type FakeActivities = VigilActivities & MonitoringActivities;

/** Both models' counts wherever a fake needs a healthy arm: sensitivity 0.9, alert rate 0.2. */
export const BASELINE: ArmStats = arm(100, 90, 1000, 200);

/** The refs the fakes return, by what wrote them. */
export const REFS = {
  shadow: ref(3),
  live: ref(4),
  dossier: ref(5),
  signature: ref(6),
  withdrawal: ref(7),
  archive: ref(8),
  sample: ref(50),
  shadowSummary: ref(99),
  rollback: ref(300),
  rollbackNotice: ref(301),
  drillReport: ref(400),
  /** The n-th approval reminder or escalation (1-based). */
  notice: (n: number) => ref(100 + n),
  /** The n-th sequential verdict record. */
  verdict: (n: number) => ref(200 + n),
  /** The n-th canary decision record. */
  canaryDecision: (n: number) => ref(500 + n),
  /** The n-th adjudication record. */
  adjudication: (n: number) => ref(600 + n),
  /** The n-th route table written. */
  route: (n: number) => ref(700 + n),
  /** Drift measured in monitoring interval i (0-based), its revalidation notice and its revalidation request. */
  drift: (interval: number) => ref(1000 + interval),
  revalidationNotice: (interval: number) => ref(2000 + interval),
  revalidationRequest: (interval: number) => ref(3000 + interval),
} as const;

/** The live measurement of one window: `mode` 'canary' or 'monitoring', its step and canary extension. */
export type LiveFor = (mode: string, step: number, extension: number) => LiveMeasurement;

/** Both arms healthy and equal. */
export const healthy = (): LiveMeasurement => ({ window: 'w', treatment: BASELINE, comparator: BASELINE });

/**
 * A SHADOW measurement: agreement 0.95 on 1000 mirrored cases unless `agreement`; with `sampled` (also 0) it
 * carries κ 0.8 and a disagreement sample of that many cases; `measurement` overrides any field.
 */
export interface ShadowOptions {
  agreement?: number;
  sampled?: number;
  measurement?: Partial<ShadowMeasurement>;
  /** observeShadow throws this instead of measuring. */
  fail?: ApplicationFailure;
}

function shadowMeasurement(o: ShadowOptions): ShadowMeasurement {
  const agreement = o.agreement ?? 0.95;
  return {
    cases: 1000,
    agreements: Math.round(agreement * 1000),
    agreement,
    meanAbsScoreDifference: 0.02,
    candidate: BASELINE,
    production: BASELINE,
    ...(o.sampled === undefined
      ? {}
      : {
          kappa: 0.8,
          disagreements: {
            candidateOnly: 30,
            productionOnly: 20,
            sampled: o.sampled,
            sample: o.sampled ? REFS.sample : null,
            strata: [],
          },
        }),
    ...o.measurement,
  };
}

export interface FakeOptions {
  live?: LiveFor;
  shadow?: ShadowOptions;
  /** The drift measurement of a monitoring window; without it observeDrift fails the test. */
  drift?: (input: ObserveDriftInput) => DriftMeasurement;
  /** Replaces activities after the defaults (a failing notifier, a refusing queue, ...). */
  overrides?: Partial<FakeActivities>;
}

/** The fakes and what they were called with, in call order. */
export function fakeActivities(opts: FakeOptions = {}) {
  const live = opts.live ?? healthy;
  const shadow = shadowMeasurement(opts.shadow ?? {});
  const rec = {
    chain: [] as ChainEntry[],
    /** Approval reminders and escalations. */
    notices: [] as NotifyInput[],
    rollbacks: [] as RollbackInput[],
    rollbackNotices: [] as RollbackInput[],
    verdicts: [] as Array<{ step: number | null; look: number; verdict: unknown }>,
    /** Canary looks. */
    looks: [] as Array<{ step: number; extension: number | undefined; interval: number | undefined }>,
    /** Monitoring windows observed live, by step. */
    live: [] as number[],
    decisions: [] as unknown[],
    /** Route tables written, and the same with the reason given. */
    routes: [] as RouteState[],
    routeChanges: [] as Array<{ routes: RouteState; reason: string }>,
    adjudications: [] as Array<AdjudicationInput & { at: string }>,
    closes: [] as Array<{ adjudications: number; deadline: string }>,
    observed: [] as ObserveDriftInput[],
    revalidationNotices: [] as RevalidationNoticeInput[],
    revalidationRequests: [] as RequestRevalidationInput[],
  };
  const acts: FakeActivities = {
    ...passingPreApproval(BASELINE),
    async observeShadow() {
      if (opts.shadow?.fail) throw opts.shadow.fail;
      return { measurement: shadow, artifacts: [REFS.shadow, ...(shadow.disagreements?.sample ? [REFS.sample] : [])] };
    },
    async recordAdjudication(input) {
      assert.deepEqual(input.sample, REFS.sample);
      rec.adjudications.push(input.adjudication);
      return REFS.adjudication(rec.adjudications.length);
    },
    async closeShadowReview(input) {
      rec.closes.push({ adjudications: input.adjudications.length, deadline: input.deadline });
      const votes = input.adjudications.map((r) => rec.adjudications[Number(r.sha256) - 601]!);
      const sampled = shadow.disagreements?.sampled ?? 0;
      return {
        measurement: { ...input.measurement, adjudication: tallyAdjudications(votes, sampled, input.deadline) },
        artifacts: [REFS.shadowSummary],
      };
    },
    async observeLive(input) {
      if (input.mode === 'canary')
        rec.looks.push({ step: input.step, extension: input.extension, interval: input.interval });
      if (input.mode === 'monitoring') rec.live.push(input.step);
      return { measurement: live(input.mode, input.step, input.extension ?? 0), artifacts: [REFS.live] };
    },
    async recordVerdict(input) {
      rec.verdicts.push({ step: input.step, look: input.look, verdict: input.verdict });
      return REFS.verdict(rec.verdicts.length);
    },
    async recordDrillReport() {
      return REFS.drillReport;
    },
    async recordCanaryDecision(input) {
      rec.decisions.push(input.decision);
      return REFS.canaryDecision(rec.decisions.length);
    },
    async recordRollback(input) {
      rec.rollbacks.push(input);
      return REFS.rollback;
    },
    async notifyRollback(input) {
      rec.rollbackNotices.push(input.summary);
      return REFS.rollbackNotice;
    },
    async buildDossier() {
      return REFS.dossier;
    },
    async recordSignature() {
      return REFS.signature;
    },
    async recordWithdrawal() {
      return REFS.withdrawal;
    },
    async setRoutes(input) {
      rec.routes.push(input.routes);
      rec.routeChanges.push({ routes: input.routes, reason: input.reason });
      return REFS.route(rec.routes.length);
    },
    async archiveHistory() {
      return [REFS.archive];
    },
    async notify(input) {
      rec.notices.push(input);
      return REFS.notice(rec.notices.length);
    },
    async appendChainEntry(entry) {
      rec.chain.push(entry);
      return { seq: entry.seq, digest: String(entry.seq).padStart(64, 'c') };
    },
    async observeDrift(input) {
      assert.ok(opts.drift, 'this test gave the fakes no drift measurement');
      rec.observed.push(input);
      return { measurement: opts.drift(input), artifacts: [REFS.drift(input.step)] };
    },
    async notifyRevalidation(input) {
      rec.revalidationNotices.push(input);
      return REFS.revalidationNotice(input.interval);
    },
    async requestRevalidation(input) {
      rec.revalidationRequests.push(input);
      return {
        releaseId: `${input.request.modelName}-next-${input.attempt}`,
        attempt: input.attempt,
        record: REFS.revalidationRequest(input.interval),
      };
    },
    ...opts.overrides,
  };
  return { acts, ...rec };
}

/** The payloads of every marker in the run's history (patch markers name their patch). */
export async function markers(handle: WorkflowHandle): Promise<string[]> {
  const history = await handle.fetchHistory();
  return (history.events ?? [])
    .flatMap((e) => Object.values(e.markerRecordedEventAttributes?.details ?? {}))
    .flatMap((p) => p.payloads ?? [])
    .map((p) => new TextDecoder().decode(p.data ?? new Uint8Array()));
}

/** Polls the status until the release waits in `stage` with its dossier built. */
export async function waitForStage(handle: WorkflowHandle, stage: string): Promise<ReleaseStatus> {
  for (let i = 0; i < 200; i++) {
    const s = await handle.query(releaseStatusQuery).catch(() => null);
    if (s?.stage === stage && s.dossier) return s;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error(`never reached ${stage}`);
}

/** Waits for AWAITING_APPROVAL, then qa and clinical approve the dossier shown there. */
export async function signOff(handle: WorkflowHandle): Promise<ReleaseStatus> {
  const status = await waitForStage(handle, 'AWAITING_APPROVAL');
  for (const role of ['qa', 'clinical'] as const) {
    await handle.executeUpdate('approveRelease', {
      args: [
        {
          signer: role,
          printedName: role,
          role,
          decision: 'approve',
          meaning: 'approved',
          reason: 'ok',
          dossierSha256: status.dossier!.sha256,
        },
      ],
    });
  }
  return status;
}
