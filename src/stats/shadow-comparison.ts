/**
 * The shadow comparison of candidate and production on the same cases, whatever scored them: agreement and
 * Cohen's κ at the operating threshold (alert = score ≥ threshold), score correlation, mean absolute score
 * difference, each model's operating-point counts on the labelled cases, and the disagreements by stratum
 * (site × which model alerted) with the stratified sample drawn for clinical adjudication.
 *
 * Pure: the simulated shadow (src/activities/shadow.ts, each case scored in the worker) and the shadow measured
 * from the gateway's telemetry (src/telemetry/shadow-pairs.ts, pairs of mirrored predictions) both call it, so
 * the two sources are compared by the same arithmetic.
 */
import type { ArmStats, DisagreementDirection, ShadowMeasurement } from '../domain';
import {
  agreementAtThreshold,
  scoreCorrelation,
  shadowAgreement,
  type AgreementCounts,
  type ShadowAgreement,
} from './agreement';
import { armStats } from './operating-point';
import { spearmanCorrelation } from './ranks-and-quantiles';
import { stratifiedSample } from './stratified-sample';

/** One case scored by both models. `label` is the observed outcome (-1: none yet); `key` identifies it for sampling. */
export interface ComparedCase {
  candidate: number;
  production: number;
  label: number;
  site: string;
  key: string;
}

export interface ShadowComparisonOptions {
  threshold: number;
  /** Strata sites, in order (e.g. every site seen in the window, not only those with scored cases). */
  sites: readonly string[];
  /** Disagreements to sample for adjudication (0: none). */
  sampleSize: number;
  /** Seed of the sample's sha256 ranking (e.g. the disagreement record kind and the release id). */
  seed: string;
}

export interface ShadowStratum<T> {
  name: string;
  site: string;
  direction: DisagreementDirection;
  items: T[];
}

export interface ShadowComparison<T extends ComparedCase> {
  cases: number;
  counts: AgreementCounts;
  /** Agreement and κ; null without cases. */
  agreement: ShadowAgreement | null;
  meanAbsScoreDifference: number | null;
  candidate: ArmStats;
  production: ArmStats;
  correlation: { pearson: number | null; spearman: number | null };
  strata: Array<{ site: string; direction: DisagreementDirection; available: number; sampled: number }>;
  /** The sampled disagreements, stratum by stratum. */
  sample: Array<{ stratum: string; item: T }>;
}

export function compareShadow<T extends ComparedCase>(
  cases: readonly T[],
  opts: ShadowComparisonOptions,
): ShadowComparison<T> {
  const t = opts.threshold;
  const n = cases.length;
  const sc = cases.map((s) => s.candidate);
  const sp = cases.map((s) => s.production);
  const labels = Int8Array.from(cases, (s) => s.label);
  const counts = agreementAtThreshold(sc, sp, t);
  const agreement = n > 0 ? shadowAgreement(counts) : null;
  let absDiff = 0;
  for (let i = 0; i < n; i++) absDiff += Math.abs(sc[i]! - sp[i]!);

  const directions: DisagreementDirection[] = ['candidate-only', 'production-only'];
  const strata: ShadowStratum<T>[] = opts.sites.flatMap((site) =>
    directions.map((direction) => ({
      name: `${site}|${direction}`,
      site,
      direction,
      items: cases.filter(
        (s) =>
          s.site === site &&
          s.candidate >= t !== s.production >= t &&
          (direction === 'candidate-only') === s.candidate >= t,
      ),
    })),
  );
  const { allocation, sample } = stratifiedSample(strata, opts.sampleSize, opts.seed, (s) => s.key);
  return {
    cases: n,
    counts,
    agreement,
    meanAbsScoreDifference: n > 0 ? absDiff / n : null,
    candidate: armStats(sc, labels, t),
    production: armStats(sp, labels, t),
    correlation:
      n >= 2
        ? { pearson: scoreCorrelation(sc, sp), spearman: spearmanCorrelation(sc, sp) }
        : { pearson: null, spearman: null },
    strata: strata.map((s, i) => ({
      site: s.site,
      direction: s.direction,
      available: s.items.length,
      sampled: allocation[i]!.sampled,
    })),
    sample,
  };
}

/** The part of a shadow measurement the comparison decides, the same for every source. */
export function comparedMeasurement(
  c: ShadowComparison<ComparedCase>,
): Pick<
  ShadowMeasurement,
  'cases' | 'agreements' | 'agreement' | 'meanAbsScoreDifference' | 'candidate' | 'production' | 'kappa' | 'correlation'
> {
  return {
    cases: c.cases,
    agreements: c.counts.both + c.counts.neither,
    agreement: c.agreement?.agreement ?? null,
    meanAbsScoreDifference: c.meanAbsScoreDifference,
    candidate: c.candidate,
    production: c.production,
    kappa: c.agreement?.kappa ?? null,
    correlation: c.correlation,
  };
}
