/**
 * One feature's drift as monitoring records it, by the feature's type (src/stats/feature-drift.ts): discrete inputs
 * on exact counts per value (χ² and PSI), continuous ones on KS and the declared decile bins, with the χ² on the
 * PSI's cells that gates the PSI bound. The type is inferred from the locked reference (the same for every window).
 */
import type { FeatureDrift } from '../../domain';
import { binCounts } from '../../stats/drift';
import {
  continuousDriftOfBins,
  discreteDriftOfCounts,
  inferFeatureType,
  valueCounts,
  type TypedFeatureDrift,
} from '../../stats/feature-drift';
import { sketchBinCounts, sketchKs, sketchTooCoarse, type LogSketch } from '../../stats/log-sketch';

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
