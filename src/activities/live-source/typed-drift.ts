/**
 * One feature's drift as monitoring records it, by the feature's type (src/stats/feature-drift.ts): discrete inputs
 * on exact counts per value (χ² and PSI), continuous ones on KS and the declared decile bins, with the χ² on the
 * PSI's cells that gates the PSI bound. The type is inferred from the locked reference (the same for every window).
 */
import type { FeatureDrift, ShadowDrift } from '../../domain';
import { binCounts, ks2Sample, quantileEdges } from '../../stats/drift';
import {
  continuousDrift,
  continuousDriftOfBins,
  discreteDriftOfCounts,
  inferFeatureType,
  valueCounts,
  type TypedFeatureDrift,
} from '../../stats/feature-drift';
import { sketchBinCounts, sketchKs, sketchTooCoarse, type LogSketch } from '../../stats/log-sketch';

/** Decile bins of a continuous feature's reference, as everywhere in drift. */
const PSI_BINS = 10;

/** The measurement's record of a typed drift result. */
export function featureDriftRecord(feature: string, d: TypedFeatureDrift): FeatureDrift {
  return {
    feature,
    kind: 'numeric',
    featureType: d.type,
    psi: d.psi,
    test: d.test,
    statistic: d.statistic,
    pValue: d.pValue,
    ...(d.df !== undefined ? { df: d.df } : {}),
    psiPValue: d.psiTest ? d.psiTest.pValue : null,
  };
}

/** Counts per declared bin (or per value) behind one feature's drift, for the evidence record. */
export interface DriftBins {
  feature: string;
  edges: number[];
  reference: number[];
  current: number[];
}

/**
 * One feature's drift from the gateway's telemetry of a window: exact value counts for a discrete input (never its
 * sketch), the sketch for a continuous one; or why it cannot be compared.
 */
export function sketchFeatureDrift(
  f: string,
  refValues: readonly number[],
  edges: readonly number[],
  sketch: LogSketch,
  exact: ReadonlyMap<number, number> | null,
): { feature: FeatureDrift; bins: DriftBins } | { notCompared: string } {
  const type = inferFeatureType(refValues);
  if (type !== 'continuous') {
    // A sketch's decile bins put every "1" of a 0/1 input below the edge at 1 (PSI 2.5 with no drift, issue #22).
    if (!exact) return { notCompared: `${f}: a ${type} input the gateway did not count exactly in every bucket` };
    const d = discreteDriftOfCounts(type, valueCounts(refValues), exact);
    return {
      feature: featureDriftRecord(f, d),
      bins: { feature: f, edges: [], reference: d.cells.reference, current: d.cells.current },
    };
  }
  const coarse = sketchTooCoarse(refValues, sketch);
  if (coarse) return { notCompared: `${f}: ${coarse}` };
  const reference = binCounts(refValues, edges);
  const current = sketchBinCounts(sketch, edges);
  const d = continuousDriftOfBins(reference, current, edges, undefined, sketchKs(refValues, sketch));
  return { feature: featureDriftRecord(f, d), bins: { feature: f, edges: [...edges], reference, current } };
}

/** One feature of a shadow window, typed: PSI on exact value counts (discrete) or deciles (continuous), and its gate. */
export type ShadowFeatureDrift = ShadowDrift['features'][number];

function shadowRecord(feature: string, d: TypedFeatureDrift, n: number, ks: { statistic: number; pValue: number }) {
  return {
    feature,
    psi: d.psi,
    ks: ks.statistic,
    ksPValue: ks.pValue,
    n,
    featureType: d.type,
    psiPValue: d.psiTest ? d.psiTest.pValue : null,
  };
}

/**
 * A shadow window's drift of one feature from case-level values (simulated traffic): a 0/1 or count input on its
 * exact value counts, a continuous one on the reference deciles; KS kept for the record (meaningless on codes).
 */
export function shadowValuesDrift(
  feature: string,
  reference: readonly number[],
  current: readonly number[],
): ShadowFeatureDrift {
  const type = inferFeatureType(reference);
  const ks = ks2Sample(reference, current);
  const d =
    type === 'continuous'
      ? continuousDrift(reference, current, quantileEdges(reference, PSI_BINS))
      : discreteDriftOfCounts(type, valueCounts(reference), valueCounts(current));
  return shadowRecord(feature, d, current.length, ks);
}

/** The same from the gateway's telemetry: exact counts for discrete inputs, the sketch for continuous ones. */
export function shadowSketchDrift(
  feature: string,
  reference: readonly number[],
  sketch: LogSketch,
  exact: ReadonlyMap<number, number> | null,
): ShadowFeatureDrift | { notCompared: string } {
  const type = inferFeatureType(reference);
  if (type !== 'continuous') {
    if (!exact) return { notCompared: `${feature}: a ${type} input the gateway did not count exactly in every bucket` };
    const d = discreteDriftOfCounts(type, valueCounts(reference), exact);
    return shadowRecord(feature, d, sketch.count, sketchKs(reference, sketch));
  }
  const coarse = sketchTooCoarse(reference, sketch);
  if (coarse) return { notCompared: `${feature}: ${coarse}` };
  const edges = quantileEdges(reference, PSI_BINS);
  const ks = sketchKs(reference, sketch);
  const d = continuousDriftOfBins(binCounts(reference, edges), sketchBinCounts(sketch, edges), edges, undefined, ks);
  return shadowRecord(feature, d, sketch.count, ks);
}
