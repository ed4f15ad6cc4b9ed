/**
 * MONITORING per clinical cohort: each guarded cohort's live counts beside the released model's validated counts in
 * the same cohort (the candidate on the locked evaluation split's rows of that cohort, at the operating threshold),
 * so `judgeMonitoringCohorts` can tell per-cohort performance and alert-rate drift from the validated figures.
 */
import type { EvidencePort } from '../../contracts/ports';
import type { ArmStats, CohortArms, ReleaseRequest } from '../../domain';
import type { Scorer } from '../../models';
import { armStats } from '../../stats';
import { cohortKey } from '../../telemetry/live-source';
import { closeAll, openScorers } from '../artifacts';
import type { Reference } from './drift-measurement';
import type { ScoredReferences } from './evaluation-reference';

/** Reads the release's scored evaluation reference (cached per worker by `references`). */
export type ReferenceLoader = (request: ReleaseRequest) => Promise<Reference>;

export function referenceLoader(evidence: EvidencePort, references: ScoredReferences): ReferenceLoader {
  return async (request) => {
    const [candidate] = (await openScorers(evidence, [request.candidate])) as [Scorer];
    try {
      return await references.get(request, candidate);
    } finally {
      await closeAll([candidate]);
    }
  };
}

/** The attributes the locked evaluation split can give validated figures for (its site column). */
const VALIDATED_ATTRIBUTES = ['site'];

const EMPTY: ArmStats = {
  n: 0,
  positives: 0,
  truePositives: 0,
  negatives: 0,
  trueNegatives: 0,
  alerts: 0,
  sensitivity: null,
  specificity: null,
  alertRate: null,
};

/** The candidate's validated counts per cohort ("site=<level>", keyed as live cohorts are); {} without sites. */
export function validatedCohorts(
  ref: Pick<Reference, 'sites' | 'scores' | 'labels'>,
  attributes: readonly string[],
  threshold: number,
): Record<string, ArmStats> {
  const out: Record<string, ArmStats> = {};
  const { sites, scores, labels } = ref;
  if (!sites || !scores || !labels) return out;
  for (const attribute of attributes.filter((a) => VALIDATED_ATTRIBUTES.includes(a))) {
    const rows = new Map<string, number[]>();
    sites.forEach((site, r) => {
      const key = cohortKey(attribute, site);
      let g = rows.get(key);
      if (!g) rows.set(key, (g = []));
      g.push(r);
    });
    for (const [key, rs] of rows)
      out[key] = armStats(
        rs.map((r) => scores[r]!),
        rs.map((r) => labels[r]!),
        threshold,
      );
  }
  return out;
}

/**
 * Each live cohort (treatment) against its validated figures (comparator); a cohort the evaluation split never
 * saw gets an empty comparator, which the judge names as not comparable. Undefined when the split has no validated
 * figures at all (no site column): the window is then judged as a whole, as before.
 */
export function monitoringCohortArms(
  live: Record<string, ArmStats>,
  validated: Record<string, ArmStats>,
): Record<string, CohortArms> | undefined {
  if (Object.keys(validated).length === 0) return undefined;
  return Object.fromEntries(
    Object.keys(live)
      .sort()
      .map((key) => [key, { treatment: live[key]!, comparator: validated[key] ?? EMPTY }]),
  );
}
