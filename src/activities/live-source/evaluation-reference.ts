/**
 * The release's locked evaluation split as the live stages compare traffic with it: read once per measurement
 * (`readEvaluationSplit`), as SHADOW's input-drift reference (finite values per feature, the site column) or as
 * monitoring's drift reference (declared PSI bins and the candidate's calibration on it, cached per worker).
 */
import { readTable, type LockedTable } from '../../data';
import {
  evaluationSplit,
  type DatasetRef,
  type FeatureDrift,
  type ReleaseRequest,
  type ShadowDrift,
} from '../../domain';
import type { Scorer } from '../../models';
import { quantileEdges, type CategoricalDrift } from '../../stats/drift';
import { asArtifactFailure } from '../artifacts';
import { defaultSchema, TABLE_TYPE, tableHeader } from '../dataset';
import type { EvidencePort } from '../../contracts/ports';
import type { Reference } from './drift-measurement';

const PSI_BINS = 10;
const REFERENCE_CACHE = 8;

/**
 * The evaluation split with the given feature columns and, when it has one, its site column (a split with its own
 * schema says itself whether it has sites). Unreadable bytes or a bad cell are a non-retryable InvalidArtifact.
 */
export async function readEvaluationSplit(
  evidence: EvidencePort,
  request: ReleaseRequest,
  features: readonly string[],
  purpose: string,
): Promise<{ dataset: DatasetRef; table: LockedTable }> {
  const dataset = evaluationSplit(request);
  const bytes = await evidence.getBytes(dataset.artifact.key, dataset.artifact.sha256);
  try {
    let schema = dataset.schema;
    if (!schema) {
      const header = await tableHeader(bytes, dataset.format, dataset.name);
      schema = defaultSchema(header, { slices: header.includes('site') ? ['site'] : [], features }, dataset.name);
    }
    return { dataset, table: await readTable(bytes, TABLE_TYPE[dataset.format], schema, dataset.name) };
  } catch (e) {
    throw asArtifactFailure(`${purpose} (evaluation split ${dataset.name})`, e);
  }
}

function column(table: LockedTable, k: number): number[] {
  const F = table.featureNames.length;
  const out = new Array<number>(table.rows);
  for (let r = 0; r < table.rows; r++) out[r] = table.features[r * F + k]!;
  return out;
}

/** The locked evaluation split as SHADOW's input drift needs it: each feature's finite values, and the site column if any. */
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
  const { dataset, table } = await readEvaluationSplit(evidence, request, features, 'shadow drift reference');
  const columns = new Map<string, number[]>();
  table.featureNames.forEach((feature, j) => {
    columns.set(
      feature,
      column(table, j).filter((v) => Number.isFinite(v)),
    );
  });
  return { dataset, rows: table.rows, columns, sites: table.slices.site ?? null };
}

/**
 * Monitoring's drift reference, scored by the candidate: read and scored once per worker process for each
 * (dataset digest × candidate digest), since both are content-addressed.
 */
export class ScoredReferences {
  private readonly cache = new Map<string, Promise<Reference>>();

  constructor(private readonly evidence: EvidencePort) {}

  get(request: ReleaseRequest, candidate: Scorer): Promise<Reference> {
    const dataset = evaluationSplit(request);
    const key = `${dataset.artifact.sha256}:${request.candidate.artifact.sha256}:${request.candidate.format}`;
    let ref = this.cache.get(key);
    if (!ref) {
      ref = this.read(request, candidate);
      ref.catch(() => this.cache.delete(key));
      this.cache.set(key, ref);
      while (this.cache.size > REFERENCE_CACHE) this.cache.delete(this.cache.keys().next().value!);
    }
    return ref;
  }

  private async read(request: ReleaseRequest, candidate: Scorer): Promise<Reference> {
    const { dataset, table } = await readEvaluationSplit(this.evidence, request, candidate.features, 'drift reference');
    let scores: Float64Array;
    try {
      scores = await candidate.score({
        featureNames: table.featureNames,
        features: table.features,
        rows: table.rows,
        caseIds: table.caseIds,
      });
    } catch (e) {
      throw asArtifactFailure(`model ${request.candidate.version} on the drift reference`, e);
    }
    const columns = new Map<string, number[]>();
    const edges = new Map<string, number[]>();
    table.featureNames.forEach((f, k) => {
      const values = column(table, k);
      columns.set(f, values);
      if (values.length > 0) edges.set(f, quantileEdges(values, PSI_BINS));
    });
    let positives = 0;
    let risk = 0;
    for (let r = 0; r < table.rows; r++) {
      positives += table.labels[r]!;
      risk += scores[r]!;
    }
    return {
      dataset,
      rows: table.rows,
      columns,
      edges,
      sites: table.slices.site ?? null,
      calibrationInTheLarge: table.rows > 0 ? positives / table.rows - risk / table.rows : null,
      scores,
      labels: table.labels,
    };
  }
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
