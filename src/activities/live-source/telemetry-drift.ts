/**
 * Drift surveillance measured from the inference gateway's telemetry (VIGIL_LIVE_SOURCE=gateway-telemetry): the monitoring
 * window observeLive measured, [at − intervalSeconds, at). Data drift from the gateway's per-feature input sketches
 * of the window against the locked evaluation split (PSI on its declared deciles, KS over the sketch's bucket
 * boundaries); performance from the released model's production predictions joined with the outcomes known so far
 * (the most heavily weighted source labels a case, as in the canary); workflow drift from its alert and override
 * rates. The site mix from the rows per site the sketch buckets count (the request's `site` parameter).
 */
import type { ObserveDriftInput, StageOutput } from '../../contracts/live-source';
import type { DriftMeasurement, FeatureDrift } from '../../domain';
import { sketchFeatureDrift } from './typed-drift';
import { mergeWindowSketches, windowSiteMix } from '../../telemetry/input-sketches';
import { DEFAULT_SOURCE_WEIGHTS, measureLive, type TelemetryWindowReader } from '../../telemetry/live-source';
import type { EvidencePort } from '../../contracts/ports';
import { driftMeasurement, driftRecordHead, type Reference } from './drift-measurement';
import { monitoringSiteDrift } from './evaluation-reference';
import { TELEMETRY_SOURCE } from './telemetry-window';
import { heartbeating, liveInterval } from './windows';

export async function telemetryDrift(
  telemetry: TelemetryWindowReader,
  evidence: EvidencePort,
  input: ObserveDriftInput,
  readReference: () => Promise<Reference>,
): Promise<StageOutput<DriftMeasurement>> {
  const { request } = input;
  const model = request.modelName;
  const version = request.candidate.version;
  const t = request.policy.operatingThreshold;
  const weights = request.policy.outcomes?.weights ?? DEFAULT_SOURCE_WEIGHTS;
  const { from, to } = liveInterval({ request, mode: 'monitoring', step: input.step, at: input.at });
  const read = await heartbeating(telemetry.read({ model, from, to }), 'reading gateway telemetry');
  const ref = await readReference();

  // Data drift: every reference feature, from the window's merged sketches.
  const sketches = mergeWindowSketches(read.events, model, from, to);
  const features: FeatureDrift[] = [];
  const notCompared = [...sketches.unusable].map(([f, why]) => `${f}: ${why}`);
  const bins: Array<{ feature: string; edges: number[]; reference: number[]; current: number[] }> = [];
  for (const [f, refValues] of ref.columns) {
    const s = sketches.features.get(f);
    const edges = ref.edges.get(f);
    if (sketches.unusable.has(f)) continue; // named above
    if (!s || s.count === 0 || !edges) {
      notCompared.push(
        `${f}: ${!s ? 'no input sketch of it in the window' : !edges ? 'no finite values in the reference' : 'no finite values in the window'}`,
      );
      continue;
    }
    const r = sketchFeatureDrift(f, refValues, edges, s, sketches.values.get(f) ?? null);
    if ('notCompared' in r) notCompared.push(r.notCompared);
    else {
      features.push(r.feature);
      bins.push(r.bins);
    }
  }
  const site = windowSiteMix(ref.sites, sketches);
  let siteMix: ReturnType<typeof monitoringSiteDrift>['siteMix'] | null = null;
  if ('drift' in site) {
    const d = monitoringSiteDrift(site.drift);
    features.push(d.feature);
    siteMix = d.siteMix;
  } else notCompared.push(`site: ${site.notCompared}`);

  // Performance, alert burden and overrides: the released model's cases on the production route, joined as the canary
  // joins them (a case's highest score; label from the most heavily weighted outcome known by asOf).
  const arm = measureLive(read.events, {
    model,
    from,
    to,
    threshold: t,
    weights,
    asOf: read.asOf,
    modelVersions: { production: version },
  }).arms.production;
  const { stats } = arm;
  const measurement = driftMeasurement({
    source: TELEMETRY_SOURCE,
    step: input.step,
    recent: input.recent,
    baseline: input.baseline,
    reference: ref,
    counts: {
      current: {
        interval: input.step,
        labelled: stats.positives + stats.negatives,
        positives: stats.positives,
        truePositives: stats.truePositives,
        scoreSum: arm.labelledScoreSum,
      },
      cases: stats.n,
      alerts: stats.alerts,
    },
    data: { features, notCompared },
    overrideRate: arm.overrideRate,
  });
  const record = await evidence.putJson({
    ...driftRecordHead(input, TELEMETRY_SOURCE, { model, from, to }, ref, t),
    weights,
    // Counts per declared bin (the current ones from the sketches): aggregates, enough to redraw every PSI by hand.
    bins,
    siteMix,
    inputSketches: { buckets: sketches.buckets, rows: sketches.rows },
    measurement,
    outcomesAsOf: read.asOf,
    segments: read.segments,
    completeness: read.completeness,
  });
  return { measurement, artifacts: [record] };
}
