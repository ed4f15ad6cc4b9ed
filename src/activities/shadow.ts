/**
 * SHADOW: the candidate scores mirrored production traffic (nothing it says reaches care) and is compared with
 * production clinically — agreement and Cohen's κ at the operating threshold, score correlation, scoring latency
 * and failures, input missingness and drift against the release's locked evaluation data — and, when the policy
 * asks for clinical adjudication, a stratified sample of disagreements is written for reviewers. Histories get
 * aggregates and evidence refs only; case-level data stays in the evidence store.
 */
import { heartbeat } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import {
  ErrorType,
  sampleIdAt,
  type AdjudicationInput,
  type EvidenceRef,
  type ModelRef,
  type ReleaseRequest,
  type ShadowDrift,
  type ShadowMeasurement,
} from '../domain';
import { tallyAdjudications } from '../judging';
import { ScoringError, type Scorer } from '../models';
import type { SimCase } from '../sim/cohort';
import { observedLabels } from '../sim/scenario';
import { categoricalDrift, ks2Sample, psi } from '../stats/drift';
import { latencySummary } from '../stats/shadow';
import { compareShadow, comparedMeasurement } from '../stats/shadow-comparison';
import { hashCaseId } from '../telemetry/events';
import { asArtifactFailure, casesAsInput, closeAll, openScorers } from './artifacts';
import type { ActivityDeps, EvidencePort } from './deps';
import { readDriftReference, shadowSiteDrift } from './drift-reference';
import {
  ADJUDICATION_KIND,
  SHADOW_ADJUDICATION_KIND,
  SHADOW_DISAGREEMENTS_KIND,
  type DisagreementSample,
} from './shadow-records';
import { observeShadowFromTelemetry, type ObserveShadowInput } from './shadow-telemetry';
import type { StageOutput } from './snapshot';

export { ADJUDICATION_KIND, SHADOW_ADJUDICATION_KIND, SHADOW_DISAGREEMENTS_KIND, type DisagreementSample };

/** One scoring call per case, timed around the scorer; a ScoringError fails that case only. */
async function scoreTimed(
  scorer: Scorer,
  ref: ModelRef,
  columns: readonly string[],
  c: SimCase,
  view: 'candidate' | 'production',
): Promise<{ score: number | null; ms: number; error: string | null }> {
  const input = casesAsInput(columns, [c], view);
  const t0 = performance.now();
  try {
    const out = await scorer.score(input);
    return { score: out[0]!, ms: performance.now() - t0, error: null };
  } catch (e) {
    const ms = performance.now() - t0;
    if (e instanceof ScoringError) return { score: null, ms, error: e.message };
    throw asArtifactFailure(`model ${ref.version} on shadow cases`, e);
  }
}

/** PSI and KS per feature against the release's evaluation split; χ² of the site mix. */
async function driftAgainstReference(
  evidence: EvidencePort,
  request: ReleaseRequest,
  features: readonly string[],
  columns: readonly string[],
  cases: readonly SimCase[],
): Promise<ShadowDrift> {
  const ref = await readDriftReference(evidence, request, features);
  const out: ShadowDrift['features'] = [];
  for (const [feature, reference] of ref.columns) {
    const k = columns.indexOf(feature);
    if (k < 0) continue;
    // The values as the candidate received them, at the same float32 precision as the reference.
    const current = cases
      .map((c) => Math.fround((c.candidateFeatures ?? c.features)[k]!))
      .filter((x) => Number.isFinite(x));
    if (reference.length === 0 || current.length === 0) continue;
    const ks = ks2Sample(reference, current);
    out.push({ feature, psi: psi(reference, current).psi, ks: ks.statistic, ksPValue: ks.pValue, n: current.length });
  }
  let site: ShadowDrift['site'] = null;
  if (ref.sites) {
    try {
      site = shadowSiteDrift(
        categoricalDrift(
          ref.sites,
          cases.map((c) => c.site),
        ),
      );
    } catch {
      site = null; // a single site in both samples: nothing to compare
    }
  }
  return {
    reference: { dataset: ref.dataset.name, sha256: ref.dataset.artifact.sha256, rows: ref.rows },
    features: out,
    site,
  };
}

export function shadowActivities({
  evidence,
  traffic,
  live,
  telemetry,
}: Pick<ActivityDeps, 'evidence' | 'traffic' | 'live' | 'telemetry'>) {
  return {
    /** Candidate and production on mirrored traffic, compared; the disagreement sample when adjudication is configured. */
    async observeShadow(input: ObserveShadowInput): Promise<StageOutput<ShadowMeasurement>> {
      // Gateway telemetry (VIGIL_LIVE_SOURCE=telemetry): the requests the gateway mirrored to the candidate during
      // the shadow window, paired with the production predictions they mirror (src/activities/shadow-telemetry.ts).
      if (telemetry) return observeShadowFromTelemetry(telemetry, evidence, input);
      if (live) {
        // Canary and monitoring read telemetry but nothing can read the shadow's: never fall back to simulated cases.
        throw ApplicationFailure.retryable(
          'observeShadow: this worker measures live stages from gateway telemetry but has no telemetry reader for the shadow window (ActivityDeps.telemetry); fix the worker wiring',
          ErrorType.NotConfigured,
        );
      }
      const { request } = input;
      const window = `shadow:${request.candidate.artifact.sha256}`;
      const { columns, cases } = await traffic.cases(window, request.policy.shadow.cases);
      heartbeat('traffic drawn');
      const t = request.policy.operatingThreshold;
      for (const m of [request.candidate, request.incumbent]) {
        if (m.format === 'vigil.predictions/v1') {
          throw ApplicationFailure.nonRetryable(
            `model ${m.version}: a prediction file scores only the locked evaluation rows; live stages need an executable model (vigil.logistic/v1 or onnx)`,
            ErrorType.InvalidArtifact,
          );
        }
      }

      const [candidate, production] = (await openScorers(evidence, [request.candidate, request.incumbent])) as [
        Scorer,
        Scorer,
      ];
      const scored: Array<{ k: number; c: number; p: number }> = [];
      const timing = { candidate: [] as number[], production: [] as number[] };
      const errors = { candidate: 0, production: 0, cases: 0 };
      const errorExamples: string[] = [];
      let features: string[];
      try {
        features = [...new Set([...candidate.features, ...production.features])];
        for (let k = 0; k < cases.length; k++) {
          // Alternate which model goes first so neither always scores on a warmer cache.
          const order = k % 2 === 0 ? (['candidate', 'production'] as const) : (['production', 'candidate'] as const);
          const got: Record<'candidate' | 'production', { score: number | null; ms: number; error: string | null }> = {
            candidate: { score: null, ms: 0, error: null },
            production: { score: null, ms: 0, error: null },
          };
          for (const arm of order) {
            got[arm] = await scoreTimed(
              arm === 'candidate' ? candidate : production,
              arm === 'candidate' ? request.candidate : request.incumbent,
              columns,
              cases[k]!,
              arm,
            );
            timing[arm].push(got[arm].ms);
            if (got[arm].error !== null) {
              errors[arm]++;
              if (errorExamples.length < 5) errorExamples.push(`${arm}: ${got[arm].error}`);
            }
          }
          if (got.candidate.score !== null && got.production.score !== null)
            scored.push({ k, c: got.candidate.score, p: got.production.score });
          else errors.cases++;
          if (k % 256 === 255) heartbeat(`scored ${k + 1} of ${cases.length}`);
        }
      } finally {
        await closeAll([candidate, production]);
      }
      heartbeat('scored');

      const allLabels = observedLabels(cases);
      // Disagreements are sampled for adjudication only when the policy asks for it.
      const size = request.policy.shadow.adjudication?.sampleSize ?? 0;
      const compared = compareShadow(
        scored.map((s) => ({
          candidate: s.c,
          production: s.p,
          label: allLabels[s.k]!,
          site: cases[s.k]!.site,
          key: cases[s.k]!.caseId,
          k: s.k,
        })),
        {
          threshold: t,
          // Every site of the window is a stratum, also where no case could be scored.
          sites: [...new Set(cases.map((c) => c.site))].sort(),
          sampleSize: size,
          seed: `${SHADOW_DISAGREEMENTS_KIND}:${input.releaseId}`,
        },
      );
      const { counts, sample } = compared;
      const strataSummary = compared.strata;

      const missing: Record<string, number> = Object.fromEntries(columns.map((f) => [f, 0]));
      for (const c of cases)
        (c.candidateFeatures ?? c.features).forEach((v, k) => Number.isFinite(v) || (missing[columns[k]!]! += 1));

      const drift = await driftAgainstReference(evidence, request, features, columns, cases);
      heartbeat('drift measured');

      const artifacts: EvidenceRef[] = [];
      let sampleRef: EvidenceRef | null = null;
      if (size > 0) {
        const hashKey = `${SHADOW_DISAGREEMENTS_KIND}:${input.releaseId}`;
        const record: DisagreementSample = {
          kind: SHADOW_DISAGREEMENTS_KIND,
          releaseId: input.releaseId,
          at: input.at,
          threshold: t,
          caseIdHash: 'HMAC-SHA256 of the case id, keyed per release',
          features: [...columns],
          strata: strataSummary,
          cases: sample.map(({ item }, i) => {
            const c = cases[item.k]!;
            const x = c.candidateFeatures ?? c.features;
            return {
              sampleId: sampleIdAt(i),
              caseIdHash: hashCaseId(c.caseId, hashKey),
              site: c.site,
              direction: item.candidate >= t ? 'candidate-only' : 'production-only',
              candidate: { score: item.candidate, alert: item.candidate >= t },
              production: { score: item.production, alert: item.production >= t },
              features: Object.fromEntries(columns.map((f, k) => [f, Number.isFinite(x[k]!) ? x[k]! : null])),
            };
          }),
        };
        sampleRef = await evidence.putJson(record);
      }

      const measurement: ShadowMeasurement = {
        ...comparedMeasurement(compared),
        latencyMs: { candidate: latencySummary(timing.candidate, 1), production: latencySummary(timing.production, 1) },
        errors,
        missing,
        drift,
        disagreements: {
          candidateOnly: counts.candidateOnly,
          productionOnly: counts.productionOnly,
          sampled: sample.length,
          sample: sampleRef,
          strata: strataSummary,
        },
      };
      const ref = await evidence.putJson({
        kind: 'vigil.shadow/v1',
        releaseId: input.releaseId,
        at: input.at,
        window,
        threshold: t,
        measurement,
        agreementTable: counts,
        ...(errorExamples.length ? { scoringErrors: errorExamples } : {}),
        // Latencies are wall-clock measurements: a retried attempt writes a record of its own.
        latencyNote: 'one scoring call per case per model, timed around the scorer in the worker',
      });
      artifacts.unshift(ref);
      if (sampleRef) artifacts.push(sampleRef);
      return { measurement, artifacts };
    },

    /** One reviewer's judgement of one sampled disagreement, recorded before it counts. */
    async recordAdjudication(input: {
      releaseId: string;
      sample: EvidenceRef;
      adjudication: AdjudicationInput & { at: string };
    }): Promise<EvidenceRef> {
      const sample = JSON.parse(
        Buffer.from(await evidence.getBytes(input.sample.key, input.sample.sha256)).toString('utf8'),
      ) as DisagreementSample;
      const a = input.adjudication;
      const c = sample.cases.find((x) => x.sampleId === a.sampleId);
      if (!c)
        throw ApplicationFailure.nonRetryable(
          `sample ${input.sample.key} has no case ${a.sampleId}`,
          ErrorType.UnknownSample,
        );
      return evidence.putJson({
        kind: ADJUDICATION_KIND,
        releaseId: input.releaseId,
        sample: { key: input.sample.key, sha256: input.sample.sha256 },
        sampleId: a.sampleId,
        caseIdHash: c.caseIdHash,
        site: c.site,
        direction: c.direction,
        reviewer: a.reviewer,
        printedName: a.printedName,
        role: a.role,
        verdict: a.verdict,
        comment: a.comment,
        at: a.at,
      });
    },

    /**
     * The adjudication window has closed: tally the recorded adjudications (read back from the evidence store, not
     * taken from the workflow) into the measurement the gate is judged on, and record the summary.
     */
    async closeShadowReview(input: {
      releaseId: string;
      request: ReleaseRequest;
      measurement: ShadowMeasurement;
      adjudications: EvidenceRef[];
      deadline: string;
      at: string;
    }): Promise<StageOutput<ShadowMeasurement>> {
      const sample = input.measurement.disagreements?.sample ?? null;
      const votes: Array<{
        sampleId: string;
        verdict: 'candidate' | 'production' | 'unclear';
        reviewer: string;
        record: string;
      }> = [];
      for (const ref of input.adjudications) {
        const r = JSON.parse(Buffer.from(await evidence.getBytes(ref.key, ref.sha256)).toString('utf8')) as {
          kind: string;
          releaseId: string;
          sample: { sha256: string };
          sampleId: string;
          verdict: 'candidate' | 'production' | 'unclear';
          reviewer: string;
        };
        if (r.kind !== ADJUDICATION_KIND || r.releaseId !== input.releaseId || r.sample.sha256 !== sample?.sha256) {
          throw ApplicationFailure.nonRetryable(
            `${ref.key} is not an adjudication of this release's disagreement sample`,
            ErrorType.EvidenceIntegrity,
          );
        }
        votes.push({ sampleId: r.sampleId, verdict: r.verdict, reviewer: r.reviewer, record: ref.key });
      }
      const tally = tallyAdjudications(votes, input.measurement.disagreements?.sampled ?? 0, input.deadline);
      const ref = await evidence.putJson({
        kind: SHADOW_ADJUDICATION_KIND,
        releaseId: input.releaseId,
        at: input.at,
        sample,
        policy: input.request.policy.shadow.adjudication ?? null,
        rule: 'per case: majority of candidate / production votes (unclear abstains; a tie is unclear); share = production right / (candidate right + production right)',
        tally,
        votes,
        adjudications: input.adjudications,
      });
      return { measurement: { ...input.measurement, adjudication: tally }, artifacts: [ref] };
    },
  };
}
