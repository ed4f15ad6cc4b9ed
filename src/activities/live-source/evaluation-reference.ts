import type { DatasetRef, FeatureDrift, ReleaseRequest, ShadowDrift } from '../domain';
import type { CategoricalDrift } from '../stats/drift';
import { readDataset, tableHeader } from './dataset';
import type { EvidencePort } from './deps';

/** The locked evaluation split as input drift needs it: each feature's finite values, and the site column if any. */
export interface DriftReference {
  dataset: DatasetRef;
  rows: number;
  /** Finite values per model input feature found in the split. */
  columns: Map<string, number[]>;
  sites: string[] | null;
}

export async function readDriftReference(
  evidence: EvidencePort,
  request: ReleaseRequest,
  features: readonly string[],
): Promise<DriftReference> {
  const dataset = request.datasets.find((d) => d.role === 'evaluation')!;
  let slices: string[] = [];
  if (!dataset.schema) {
    const header: string[] = await tableHeader(
      await evidence.getBytes(dataset.artifact.key, dataset.artifact.sha256),
      dataset.format,
      dataset.name,
    ).catch(() => []);
    slices = header.includes('site') ? ['site'] : [];
  }
  const { table } = await readDataset(evidence, dataset, { slices, features });
  const F = table.featureNames.length;
  const columns = new Map<string, number[]>();
  table.featureNames.forEach((feature, j) => {
    const values: number[] = [];
    for (let r = 0; r < table.rows; r++) {
      const v = table.features[r * F + j]!;
      if (Number.isFinite(v)) values.push(v);
    }
    columns.set(feature, values);
  });
  return { dataset, rows: table.rows, columns, sites: table.slices.site ?? null };
}

/** The site mix's drift as SHADOW records it. */
export function shadowSiteDrift(d: CategoricalDrift): NonNullable<ShadowDrift['site']> {
  return { chiSquare: d.chiSquare.statistic, df: d.chiSquare.df, pValue: d.chiSquare.pValue, psi: d.psi };
}

/** The site mix's drift as monitoring records it: a categorical feature, and its counts for the evidence record. */
export function monitoringSiteDrift(d: CategoricalDrift): {
  feature: FeatureDrift;
  siteMix: { categories: string[]; reference: number[]; current: number[] };
} {
  return {
    feature: {
      feature: 'site',
      kind: 'categorical',
      psi: d.psi,
      test: 'chi-square',
      statistic: d.chiSquare.statistic,
      pValue: d.chiSquare.pValue,
      df: d.chiSquare.df,
    },
    siteMix: { categories: d.categories, reference: d.reference, current: d.current },
  };
}
