/**
 * A monitoring window's drift on the worker's simulated traffic: the same window name and interval as the
 * simulated observeLive, so it is the very same traffic; inputs as the released model's pipeline delivers them.
 */
import { heartbeat } from '@temporalio/activity';
import type { ObserveDriftInput, StageOutput } from '../../contracts/live-source';
import type { DriftMeasurement, FeatureDrift } from '../../domain';
import type { Scorer } from '../../models';
import type { SimCase } from '../../contracts/traffic';
import { observedLabels } from '../../sim/scenario';
import { categoricalDrift } from '../../stats/drift';
import { continuousDrift, discreteDriftOfCounts, inferFeatureType, valueCounts } from '../../stats/feature-drift';
import { featureDriftRecord } from './typed-drift';
import { closeAll, openScorers, scoreCases } from '../artifacts';
import type { EvidencePort } from '../../contracts/ports';
import type { TrafficSource } from '../../contracts/traffic';
import { countCases, driftMeasurement, driftRecordHead, type Reference } from './drift-measurement';
import { monitoringSiteDrift, type ScoredReferences } from './evaluation-reference';

const SOURCE = 'simulated' as const;

/** Data drift: every feature the model reads, as its pipeline delivers it (float32, like scoring). */
function dataDrift(ref: Reference, columns: readonly string[], cases: readonly SimCase[]) {
  const features: FeatureDrift[] = [];
  const notCompared: string[] = [];
  const bins: Array<{ feature: string; edges: number[]; reference: number[]; current: number[] }> = [];
  for (const [f, refValues] of ref.columns) {
    const k = columns.indexOf(f);
    if (k < 0) {
      notCompared.push(`${f}: not in the live traffic`);
      continue;
    }
    const current = cases.map((c) => Math.fround((c.candidateFeatures ?? c.features)[k]!));
    try {
      const type = inferFeatureType(refValues);
      const edges = ref.edges.get(f)!;
      const d =
        type === 'continuous'
          ? continuousDrift(refValues, current, edges)
          : discreteDriftOfCounts(type, valueCounts(refValues), valueCounts(current));
      features.push(featureDriftRecord(f, d));
      bins.push({
        feature: f,
        edges: type === 'continuous' ? [...edges] : [],
        reference: d.cells.reference,
        current: d.cells.current,
      });
    } catch (e) {
      notCompared.push(`${f}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  let siteMix: ReturnType<typeof monitoringSiteDrift>['siteMix'] | null = null;
  if (!ref.sites) {
    notCompared.push('site: the evaluation split has no site column');
  } else {
    try {
      const d = monitoringSiteDrift(
        categoricalDrift(
          ref.sites,
          cases.map((c) => c.site),
        ),
      );
      features.push(d.feature);
      siteMix = d.siteMix;
    } catch (e) {
      notCompared.push(`site: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return { features, notCompared, bins, siteMix };
}

export async function simulatedDrift(
  evidence: EvidencePort,
  traffic: TrafficSource,
  references: ScoredReferences,
  input: ObserveDriftInput,
): Promise<StageOutput<DriftMeasurement>> {
  const { request } = input;
  const trafficWindow = `monitoring:${request.candidate.artifact.sha256}:${input.step}`;
  const t = request.policy.operatingThreshold;
  const [candidate] = (await openScorers(evidence, [request.candidate])) as [Scorer];
  let ref: Reference;
  let scores: Float64Array;
  let drawn: Awaited<ReturnType<TrafficSource['cases']>>;
  try {
    ref = await references.get(request, candidate);
    heartbeat('reference read');
    drawn = await traffic.cases(trafficWindow, input.cases, input.step);
    scores = await scoreCases(candidate, request.candidate, drawn.columns, drawn.cases, 'candidate');
  } finally {
    await closeAll([candidate]);
  }
  heartbeat('scored');
  const { features, notCompared, bins, siteMix } = dataDrift(ref, drawn.columns, drawn.cases);
  const measurement = driftMeasurement({
    source: SOURCE,
    step: input.step,
    recent: input.recent,
    baseline: input.baseline,
    reference: ref,
    counts: countCases(input.step, scores, observedLabels(drawn.cases), t),
    data: { features, notCompared },
    overrideRate: null,
  });
  const record = await evidence.putJson({
    ...driftRecordHead(input, SOURCE, trafficWindow, ref, t),
    // Counts per declared bin and per site: aggregates, enough to redraw every PSI by hand.
    bins,
    siteMix,
    measurement,
  });
  return { measurement, artifacts: [record] };
}
