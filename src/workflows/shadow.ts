/**
 * The SHADOW stage's workflow side: put a shadow route on the gateway (production requests mirrored to the
 * candidate, its answers only recorded), measure after the policy's duration, take the shadow route off again,
 * judge, and — when the policy asks for clinical adjudication — hold the gate open for reviewers' `adjudicateCase`
 * Updates until enough sampled disagreements are adjudicated or the timeout passes.
 * The adjudication is behind `patched('shadow-adjudication')`, taken only when the pinned policy carries a new
 * shadow field, so runs without them issue the commands of v0.2.0; the shadow route is behind
 * `patched('shadow-route')` (histories recorded before it wrote no route during SHADOW).
 */
import { ApplicationFailure, CancellationScope, condition, isCancellation, patched, sleep } from '@temporalio/workflow';
import {
  AdjudicationInputSchema,
  ErrorType,
  isTerminal,
  sampleIndexOf,
  type AdjudicationInput,
  type AdjudicationRecord,
  type AdjudicationResult,
  type AdjudicationTally,
  type Decision,
  type EvidenceRef,
  type ReleasePolicy,
  type ReleaseStatus,
  type RouteState,
  type ShadowMeasurement,
} from '../domain';
import { judgeShadow } from '../judging';
import { acts, nowIso } from './activities-proxy';
import { SIGNER_AUTHENTICATION_RECORDS } from './release-updates';
import { honestWindow, recordMeasuredBy } from './honest-windows';
import type { ReleaseState } from './release-state';

type ShadowPolicy = ReleasePolicy['shadow'];

/** The gate as released before the clinical fields existed. */
const legacyPolicy = (p: ShadowPolicy): ShadowPolicy => ({
  durationSeconds: p.durationSeconds,
  cases: p.cases,
  minAgreement: p.minAgreement,
});

interface Window {
  sample: EvidenceRef | null;
  sampled: number;
  required: number;
  deadline: string;
  open: boolean;
  tally: AdjudicationTally | null;
}

/** Writes the model's route table (the lifecycle's `route`: a `vigil.routes/v1` record, then the route store). */
export type RouteWriter = (table: Omit<RouteState, 'version'>, reason: string) => Promise<EvidenceRef>;

/** Adjudications of the shadow disagreement sample: state, the Update's checks and handler, and the stage itself. */
export class ShadowReview {
  private window: Window | null = null;
  readonly adjudications: AdjudicationRecord[] = [];
  /** `${sampleId} ${reviewer}` pairs being recorded right now. */
  private readonly inFlight = new Set<string>();
  /** Route records of the shadow mirror (set, removed), in order. */
  private readonly routeRecords: EvidenceRef[] = [];

  constructor(private readonly state: ReleaseState) {}

  /** Distinct sampled cases with at least one recorded adjudication. */
  adjudicatedCases(): number {
    return new Set(this.adjudications.map((a) => a.sampleId)).size;
  }

  /** The release status with adjudication progress, once there is a sample. */
  status(base: ReleaseStatus): ReleaseStatus {
    const w = this.window;
    if (!w) return base;
    return {
      ...base,
      shadowAdjudication: {
        open: w.open,
        sample: w.sample,
        sampled: w.sampled,
        required: w.required,
        adjudicatedCases: this.adjudicatedCases(),
        deadline: w.deadline,
        adjudications: this.adjudications,
        tally: w.tally,
      },
    };
  }

  /**
   * Synchronous check shared by the Update validator and handler: open window, valid input, a sample id in the
   * sample, not the submitter (separation of duties), once per reviewer and case.
   */
  check(raw: unknown): AdjudicationInput {
    const s = this.state;
    if (isTerminal(s.stage)) {
      throw ApplicationFailure.nonRetryable(
        `release ${s.releaseId} has already finished as ${s.stage}`,
        ErrorType.ReleaseFinished,
      );
    }
    const w = this.window;
    if (s.stage !== 'SHADOW' || !w || !w.open) {
      throw ApplicationFailure.nonRetryable(
        `release ${s.releaseId} is not collecting adjudications (stage ${s.stage}${s.stage === 'SHADOW' ? (w ? '; the adjudication window has closed' : '; the disagreement sample is not ready') : ''})`,
        ErrorType.NotAdjudicating,
      );
    }
    const parsed = AdjudicationInputSchema.safeParse(raw);
    if (!parsed.success) {
      const fields = parsed.error.issues.map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`);
      throw ApplicationFailure.nonRetryable(
        `invalid adjudication: ${fields.join('; ')}`,
        ErrorType.InvalidRequest,
        fields,
      );
    }
    const a = parsed.data;
    const index = sampleIndexOf(a.sampleId);
    if (index === null || index < 0 || index >= w.sampled) {
      throw ApplicationFailure.nonRetryable(
        `${a.sampleId} is not in the disagreement sample (d-001 … ${w.sampled ? `d-${String(w.sampled).padStart(3, '0')}` : 'empty'})`,
        ErrorType.UnknownSample,
      );
    }
    if (a.reviewer === s.request.submittedBy) {
      throw ApplicationFailure.nonRetryable(
        `${a.reviewer} submitted this release and may not adjudicate its disagreements (separation of duties)`,
        ErrorType.SelfApproval,
      );
    }
    if (
      this.adjudications.some((x) => x.sampleId === a.sampleId && x.reviewer === a.reviewer) ||
      this.inFlight.has(`${a.sampleId} ${a.reviewer}`)
    ) {
      throw ApplicationFailure.nonRetryable(
        `${a.reviewer} has already adjudicated ${a.sampleId}`,
        ErrorType.AlreadyAdjudicated,
      );
    }
    return a;
  }

  /** The Update handler: re-check (the window may have closed since validation), record as evidence, then count. */
  async adjudicate(raw: AdjudicationInput): Promise<AdjudicationResult> {
    const a = this.check(raw);
    const w = this.window!;
    const key = `${a.sampleId} ${a.reviewer}`;
    this.inFlight.add(key);
    try {
      const at = nowIso();
      // The authentication is recorded behind a patch (asked only when there is one): runs before it recorded none.
      const { authentication: given, ...act } = a;
      const authentication = given && patched(SIGNER_AUTHENTICATION_RECORDS) ? given : undefined;
      const recorded = { ...act, ...(authentication ? { authentication } : {}) };
      const evidence = await acts.recordAdjudication({
        releaseId: this.state.releaseId,
        sample: w.sample!,
        adjudication: { ...recorded, at },
      });
      const { comment: _comment, ...kept } = recorded;
      this.adjudications.push({ ...kept, at, evidence });
      return {
        releaseId: this.state.releaseId,
        sampleId: a.sampleId,
        accepted: true,
        recordKey: evidence.key,
        adjudicatedCases: this.adjudicatedCases(),
        required: w.required,
      };
    } finally {
      this.inFlight.delete(key);
    }
  }

  /**
   * The shadow route's records when no SHADOW chain entry lists them: a supersede stopped the stage (mid-window,
   * while the mirror was being removed, or while reviewers adjudicated), so the SUPERSEDED entry lists them.
   */
  unchainedRouteRecords(): EvidenceRef[] {
    const chained = this.state.history.some((r) => r.stage === 'SHADOW' && r.chainEntry !== null);
    return chained ? [] : [...this.routeRecords];
  }

  /**
   * SHADOW: mirror production to the candidate on the gateway, wait out the duration, measure, remove the mirror,
   * judge; with adjudication in the policy, wait for reviewers first. The chain entry lists the measurement's
   * records, then the two route records.
   */
  async stage(setRoutes: RouteWriter): Promise<{ artifacts: EvidenceRef[]; decision: Decision }> {
    const { releaseId, request } = this.state;
    const policy = request.policy.shadow;
    const measure = async () => {
      await sleep(policy.durationSeconds * 1000);
      return acts.observeShadow({ releaseId, request, at: nowIso() });
    };
    // Released versions measured without touching the gateway's routes; their histories replay without the marker.
    const out = patched('shadow-route') ? await this.mirrored(setRoutes, measure) : await measure();
    const artifacts = [...out.artifacts, ...this.routeRecords];
    const current = this.state.history[this.state.history.length - 1];
    recordMeasuredBy(current?.stage === 'SHADOW' ? current : undefined, out.measurement);
    const clinical = policy.adjudication !== undefined || policy.minKappa !== undefined || policy.maxPsi !== undefined;
    // An incomplete telemetry window is never a pass (honest-windows): the gate is inconclusive, so rejected.
    const judge = (m: ShadowMeasurement, p: ShadowPolicy) => honestWindow(judgeShadow(m, p), m, request.policy);
    if (!clinical || !patched('shadow-adjudication'))
      return { artifacts, decision: judge(out.measurement, legacyPolicy(policy)) };
    const adjudication = policy.adjudication;
    // Reviewers' time is spent only on a candidate that passed everything measurable.
    if (!adjudication || judge(out.measurement, { ...policy, adjudication: undefined }).verdict !== 'pass') {
      return { artifacts, decision: judge(out.measurement, policy) };
    }
    return this.adjudicated(out.measurement, artifacts, adjudication);
  }

  /**
   * `measure` with the gateway mirroring every production request to the candidate: the shadow route is set first
   * and removed on every way out — measured, failed, or stopped by a supersede (production stays the incumbent
   * throughout; nothing the shadow says reaches care, but a stale mirror must not outlive the stage). Both writes
   * are non-cancellable, so a supersede during the first waits for it and the removal is always the later write.
   */
  private async mirrored<T>(setRoutes: RouteWriter, measure: () => Promise<T>): Promise<T> {
    const { request } = this.state;
    const production = request.incumbent.version;
    const candidate = request.candidate.version;
    const write = async (table: Omit<RouteState, 'version'>, reason: string) => {
      this.routeRecords.push(await CancellationScope.nonCancellable(() => setRoutes(table, reason)));
    };
    await write(
      { production, canary: null, shadow: { model: candidate, percent: 100 } },
      `SHADOW: every production request (${production}) mirrored to the candidate ${candidate}, whose answers are recorded, never returned`,
    );
    let value: T;
    try {
      value = await measure();
    } catch (err) {
      const why = isCancellation(err) ? 'the release was superseded' : 'the shadow measurement failed';
      await write(
        { production, canary: null, shadow: null },
        `SHADOW stopped (${why}): shadow mirror to ${candidate} removed`,
      );
      throw err;
    }
    await write({ production, canary: null, shadow: null }, `SHADOW measured: shadow mirror to ${candidate} removed`);
    return value;
  }

  private async adjudicated(
    measurement: ShadowMeasurement,
    artifacts: EvidenceRef[],
    policy: NonNullable<ShadowPolicy['adjudication']>,
  ): Promise<{ artifacts: EvidenceRef[]; decision: Decision }> {
    const { releaseId, request } = this.state;
    const sampled = measurement.disagreements?.sampled ?? 0;
    const w: Window = {
      sample: measurement.disagreements?.sample ?? null,
      sampled: measurement.disagreements?.sample ? sampled : 0,
      required: 0,
      deadline: new Date(Date.now() + policy.timeoutSeconds * 1000).toISOString(),
      open: false,
      tally: null,
    };
    w.required = Math.min(policy.minAdjudicated, w.sampled);
    this.window = w;
    if (w.required > 0) {
      w.open = true;
      try {
        await condition(() => this.adjudicatedCases() >= w.required, policy.timeoutSeconds * 1000);
      } finally {
        w.open = false;
      }
      // Adjudications already being recorded when the window closed still count.
      await condition(() => this.inFlight.size === 0);
    }
    const refs = this.adjudications.map((a) => a.evidence);
    const closed = await acts.closeShadowReview({
      releaseId,
      request,
      measurement,
      adjudications: refs,
      deadline: w.deadline,
      at: nowIso(),
    });
    w.tally = closed.measurement.adjudication ?? null;
    return {
      artifacts: [...artifacts, ...refs, ...closed.artifacts],
      decision: honestWindow(
        judgeShadow(closed.measurement, request.policy.shadow),
        closed.measurement,
        request.policy,
      ),
    };
  }
}
