/**
 * SHADOW on the worker's simulated traffic: the candidate and production each score every case of the window (one
 * timed call per case per model) and are compared clinically — agreement and Cohen's κ at the operating threshold,
 * score correlation, latency and failures, input missingness and drift against the release's locked evaluation
 * data — and, when the policy asks for adjudication, a stratified sample of disagreements is written for reviewers.
 */
import { heartbeat } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { ObserveShadowInput, StageOutput } from '../../contracts/live-source';
import { SHADOW_DISAGREEMENTS_KIND, type DisagreementSample } from '../../contracts/shadow-records';
import {
  ErrorType,
  sampleIdAt,
  type EvidenceRef,
  type ModelRef,
  type ReleaseRequest,
  type ShadowDrift,
  type ShadowMeasurement,
} from '../../domain';
import { ScoringError, type Scorer } from '../../models';
import type { SimCase } from '../../contracts/traffic';
import { observedLabels } from '../../sim/scenario';
import { categoricalDrift } from '../../stats/drift';
import { latencySummary } from '../../stats/ranks-and-quantiles';
import {
  compareShadow,
  comparedMeasurement,
  type ComparedCase,
  type ShadowComparison,
} from '../../stats/shadow-comparison';
import { hashCaseId } from '../../telemetry/events';
import { asArtifactFailure, casesAsInput, closeAll, openScorers } from '../artifacts';
import type { EvidencePort } from '../../contracts/ports';
import type { TrafficSource } from '../../contracts/traffic';
import { readDriftReference, shadowSiteDrift } from './evaluation-reference';
import { attemptField } from './windows';
import { shadowValuesDrift } from './typed-drift';

const SOURCE = 'simulated' as const;
type Arm = 'candidate' | 'production';
type Timed = { score: number | null; ms: number; error: string | null };

/** One scoring call per case, timed around the scorer; a ScoringError fails that case only. */
async function scoreTimed(scorer: Scorer, ref: ModelRef, columns: readonly string[], c: SimCase, view: Arm) {
  const input = casesAsInput(columns, [c], view);
  const t0 = performance.now();
  try {
    const out = await scorer.score(input);
    return { score: out[0]!, ms: performance.now() - t0, error: null } satisfies Timed;
  } catch (e) {
    const ms = performance.now() - t0;
    if (e instanceof ScoringError) return { score: null, ms, error: e.message } satisfies Timed;
    throw asArtifactFailure(`model ${ref.version} on shadow cases`, e);
  }
}

/** Both models on every case, alternating which goes first so neither always scores on a warmer cache. */
async function scoreCasesTimed(
  evidence: EvidencePort,
  request: ReleaseRequest,
  columns: readonly string[],
  cases: readonly SimCase[],
) {
  const [candidate, production] = (await openScorers(evidence, [request.candidate, request.incumbent])) as [
    Scorer,
    Scorer,
  ];
  const scored: Array<{ k: number; c: number; p: number }> = [];
  const timing = { candidate: [] as number[], production: [] as number[] };
  const errors = { candidate: 0, production: 0, cases: 0 };
  const errorExamples: string[] = [];
  try {
    const features = [...new Set([...candidate.features, ...production.features])];
    for (let k = 0; k < cases.length; k++) {
      const order: readonly Arm[] = k % 2 === 0 ? ['candidate', 'production'] : ['production', 'candidate'];
      const got: Record<Arm, Timed> = {
        candidate: { score: null, ms: 0, error: null },
        production: { score: null, ms: 0, error: null },
      };
      for (const arm of order) {
        const [scorer, ref] = arm === 'candidate' ? [candidate, request.candidate] : [production, request.incumbent];
        got[arm] = await scoreTimed(scorer, ref, columns, cases[k]!, arm);
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
    return { scored, timing, errors, errorExamples, features };
  } finally {
    await closeAll([candidate, production]);
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
    out.push(shadowValuesDrift(feature, reference, current));
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

/** The sampled disagreements as reviewers see them: case ids HMAC'd per release, the candidate's inputs. */
function disagreementSample(
  input: ObserveShadowInput,
  compared: ShadowComparison<ComparedCase & { k: number }>,
  columns: readonly string[],
  cases: readonly SimCase[],
): DisagreementSample {
  const t = input.request.policy.operatingThreshold;
  const hashKey = `${SHADOW_DISAGREEMENTS_KIND}:${input.releaseId}`;
  return {
    kind: SHADOW_DISAGREEMENTS_KIND,
    releaseId: input.releaseId,
    at: input.at,
    source: SOURCE,
    threshold: t,
    caseIdHash: 'HMAC-SHA256 of the case id, keyed per release',
    features: [...columns],
    strata: compared.strata,
    cases: compared.sample.map(({ item }, i) => {
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
}

export async function simulatedShadow(
  evidence: EvidencePort,
  traffic: TrafficSource,
  input: ObserveShadowInput,
): Promise<StageOutput<ShadowMeasurement>> {
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
  const { scored, timing, errors, errorExamples, features } = await scoreCasesTimed(evidence, request, columns, cases);
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
  const missing: Record<string, number> = Object.fromEntries(columns.map((f) => [f, 0]));
  for (const c of cases)
    (c.candidateFeatures ?? c.features).forEach((v, k) => Number.isFinite(v) || (missing[columns[k]!]! += 1));

  const drift = await driftAgainstReference(evidence, request, features, columns, cases);
  heartbeat('drift measured');

  const sampleRef: EvidenceRef | null =
    size > 0 ? await evidence.putJson(disagreementSample(input, compared, columns, cases)) : null;
  const measurement: ShadowMeasurement = {
    source: SOURCE,
    ...attemptField(),
    ...comparedMeasurement(compared),
    latencyMs: { candidate: latencySummary(timing.candidate, 1), production: latencySummary(timing.production, 1) },
    errors,
    missing,
    drift,
    disagreements: {
      candidateOnly: compared.counts.candidateOnly,
      productionOnly: compared.counts.productionOnly,
      sampled: compared.sample.length,
      sample: sampleRef,
      strata: compared.strata,
    },
  };
  const ref = await evidence.putJson({
    kind: 'vigil.shadow/v1',
    releaseId: input.releaseId,
    at: input.at,
    source: SOURCE,
    window,
    threshold: t,
    measurement,
    agreementTable: compared.counts,
    ...(errorExamples.length ? { scoringErrors: errorExamples } : {}),
    // Latencies are wall-clock measurements: a retried attempt writes a record of its own.
    latencyNote: 'one scoring call per case per model, timed around the scorer in the worker',
  });
  return { measurement, artifacts: sampleRef ? [ref, sampleRef] : [ref] };
}
