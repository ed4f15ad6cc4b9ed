/**
 * SHADOW measured from the inference gateway's telemetry (VIGIL_LIVE_SOURCE=gateway-telemetry): the shadow window
 * [at − shadow.durationSeconds, at), during which the workflow had the gateway mirror every production request to
 * the candidate (`patched('shadow-route')`, src/workflows/shadow.ts). The segments are read from S3, the mirrored
 * predictions paired with the production predictions they mirror and compared (src/telemetry/shadow-pairs.ts).
 * Input drift comes from the gateway's per-feature input sketches of the window (`sketch` events, no case-level
 * values), typed as monitoring types them: discrete inputs on the gateway's exact value counts, continuous ones on
 * the reference's deciles, each with the χ² that gates its PSI bound and a KS against the locked evaluation split, plus
 * the count of missing (imputed) values per feature. A window without sketches (an older gateway, sketches off) is
 * recorded as not measured, never simulated, so a policy bounding `shadow.maxPsi` is then inconclusive.
 */
import type { ObserveShadowInput, StageOutput } from '../../contracts/live-source';
import { SHADOW_DISAGREEMENTS_KIND, type DisagreementSample } from '../../contracts/shadow-records';
import {
  sampleIdAt,
  type EvidenceRef,
  type ReleaseRequest,
  type ShadowDrift,
  type ShadowMeasurement,
} from '../../domain';
import { mergeWindowSketches, windowSiteMix, type WindowSketches } from '../../telemetry/input-sketches';
import type { TelemetryWindowReader } from '../../telemetry/live-source';
import { measureShadowTelemetry, pairSite } from '../../telemetry/shadow-pairs';
import { windowCompleteness } from '../../telemetry/watermarks';
import type { EvidencePort } from '../../contracts/ports';
import { readDriftReference, shadowSiteDrift } from './evaluation-reference';
import { TELEMETRY_SOURCE } from './telemetry-window';
import { shadowSketchDrift } from './typed-drift';
import { attemptField, heartbeating, shadowWindow } from './windows';

export async function telemetryShadow(
  telemetry: TelemetryWindowReader,
  evidence: EvidencePort,
  input: ObserveShadowInput,
): Promise<StageOutput<ShadowMeasurement>> {
  const { request } = input;
  const policy = request.policy;
  const { from, to } = shadowWindow(input);
  const threshold = policy.operatingThreshold;
  const weights = policy.outcomes?.weights;
  const read = await heartbeating(telemetry.read({ model: request.modelName, from, to }), 'reading gateway telemetry');
  const size = policy.shadow.adjudication?.sampleSize ?? 0;
  const seed = `${SHADOW_DISAGREEMENTS_KIND}:${input.releaseId}`;
  const m = measureShadowTelemetry(read.events, {
    model: request.modelName,
    from,
    to,
    productionVersion: request.incumbent.version,
    shadowVersion: request.candidate.version,
    threshold,
    ...(weights ? { weights } : {}),
    asOf: read.asOf,
    sampleSize: size,
    seed,
  });

  let sampleRef: EvidenceRef | null = null;
  if (size > 0) {
    const record: DisagreementSample = {
      kind: SHADOW_DISAGREEMENTS_KIND,
      releaseId: input.releaseId,
      at: input.at,
      source: TELEMETRY_SOURCE,
      threshold,
      caseIdHash:
        "the inference gateway's HMAC-SHA256 of the case id, as in its telemetry (GET /v2/telemetry/cases/<hash> on the gateway lists the case's predictions)",
      // The gateway records no inputs: reviewers look the case up by its hash and the time of the predictions.
      features: [],
      strata: m.measurement.disagreements!.strata,
      cases: m.sample.map((p, i) => ({
        sampleId: sampleIdAt(i),
        caseIdHash: p.caseIdHash,
        site: pairSite(p),
        direction: p.shadow.score >= threshold ? 'candidate-only' : 'production-only',
        candidate: { score: p.shadow.score, alert: p.shadow.score >= threshold },
        production: { score: p.production.score, alert: p.production.score >= threshold },
        features: {},
        predictedAt: p.at,
      })),
    };
    sampleRef = await evidence.putJson(record);
  }
  const sketched = await inputDrift(evidence, request, mergeWindowSketches(read.events, request.modelName, from, to));
  const { notMeasured, ...measured } = m.measurement;
  const { drift: _drift, missing: _missing, ...rest } = notMeasured ?? {};
  const remaining = sketched ? rest : (notMeasured ?? {});
  const measurement: ShadowMeasurement = {
    source: TELEMETRY_SOURCE,
    ...attemptField(),
    completeness: windowCompleteness(read.completeness, to),
    ...measured,
    disagreements: { ...measured.disagreements!, sample: sampleRef },
    ...(sketched ? { drift: sketched.drift, missing: sketched.missing } : {}),
    ...(Object.keys(remaining).length ? { notMeasured: remaining } : {}),
  };
  const ref = await evidence.putJson({
    kind: 'vigil.shadow/v1',
    releaseId: input.releaseId,
    at: input.at,
    source: TELEMETRY_SOURCE,
    trafficWindow: { model: request.modelName, from, to },
    threshold,
    ...(weights ? { weights } : {}),
    measurement,
    agreementTable: m.agreementTable,
    telemetry: {
      pairing:
        'each shadow prediction of the candidate paired with the production prediction of the incumbent with the same caseIdHash, at and routeVersion (the request it mirrors)',
      modelVersions: { production: request.incumbent.version, shadow: request.candidate.version },
      // The gateway names versions, not digests: that it serves the release's artifacts is its deployment's job.
      modelsIdentifiedBy: 'version',
      ...m.pairing,
      outcomesAsOf: read.asOf,
    },
    latencyNote:
      "the gateway's measurements: production = handling of the request until its answer, shadow = the mirror's scoring call (mirrors are scored in micro-batches)",
    segments: read.segments,
    completeness: read.completeness,
    ...(sketched ? { inputSketches: sketched.summary } : {}),
  });
  return { measurement, artifacts: sampleRef ? [ref, sampleRef] : [ref] };
}

/**
 * PSI (reference deciles) and KS of each sketched feature against the evaluation split, from the window's merged
 * sketches; null without sketches. Site mix from the rows per site the buckets count; `site` is null when it cannot
 * be compared (as for simulated traffic, e.g. no site column in the reference), and the summary says why.
 */
async function inputDrift(
  evidence: EvidencePort,
  request: ReleaseRequest,
  w: WindowSketches,
): Promise<{
  drift: ShadowDrift;
  missing: Record<string, number>;
  summary: { buckets: number; rows: number; features: string[]; notInReference: string[]; site: string | null };
} | null> {
  if (w.buckets === 0) return null;
  const ref = await readDriftReference(evidence, request, [...w.features.keys()]);
  const features: ShadowDrift['features'] = [];
  const missing: Record<string, number> = {};
  const notInReference: string[] = [];
  const notCompared = [...w.unusable].map(([f, why]) => `${f}: ${why}`);
  for (const [feature, sketch] of w.features) {
    missing[feature] = sketch.missing;
    const reference = ref.columns.get(feature);
    if (!reference) {
      notInReference.push(feature);
      continue;
    }
    if (reference.length === 0 || sketch.count === 0) {
      notCompared.push(`${feature}: no finite values ${reference.length === 0 ? 'in the reference' : 'in the window'}`);
      continue;
    }
    // Typed (issue #22): a 0/1 or count input on the gateway's exact value counts, never its sketch's deciles.
    const d = shadowSketchDrift(feature, reference, sketch, w.values.get(feature) ?? null);
    if ('notCompared' in d) notCompared.push(d.notCompared);
    else features.push(d);
  }
  const mix = windowSiteMix(ref.sites, w);
  const site = 'drift' in mix ? shadowSiteDrift(mix.drift) : null;
  return {
    drift: {
      reference: { dataset: ref.dataset.name, sha256: ref.dataset.artifact.sha256, rows: ref.rows },
      features,
      site,
      ...(notCompared.length ? { notCompared } : {}),
    },
    missing,
    summary: {
      buckets: w.buckets,
      rows: w.rows,
      features: [...w.features.keys()],
      notInReference,
      site: 'notCompared' in mix ? `not compared: ${mix.notCompared}` : null,
    },
  };
}
