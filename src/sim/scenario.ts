/**
 * Applies a TrafficScenario to simulated cases: a fault in the candidate's feature pipeline at one site, and
 * outcomes that have not arrived yet. Deterministic per case id, so a retried activity measures the same thing.
 */
import type { TrafficScenario } from '../domain';
import type { SimCase } from './cohort';
import { prng } from './prng';

/** Whether a case's outcome has arrived by analysis time; stable for the case. */
export function outcomeArrived(caseId: string, labelledShare: number): boolean {
  return labelledShare >= 1 || prng(`outcome-arrival:${caseId}`)() < labelledShare;
}

/**
 * The same cases as the candidate and the analysis see them under `scenario` during live `interval` (0-based
 * canary/monitoring interval; null = the shadow period).
 */
export function applyScenario(cases: readonly SimCase[], columns: readonly string[], scenario: TrafficScenario, interval: number | null): SimCase[] {
  const r = scenario.regression;
  const col = r ? columns.indexOf(r.feature) : -1;
  if (r && col < 0) throw new Error(`scenario ${scenario.name}: feature "${r.feature}" is not one of the traffic's columns (${columns.join(', ')})`);
  const faulty = r !== undefined && (interval === null ? r.inShadow : interval >= r.fromInterval);
  return cases.map((c) => {
    const out: SimCase = { ...c };
    if (faulty && c.site === r.site) {
      const f = [...c.features];
      f[col] = f[col]! * r.scale + r.offset;
      out.candidateFeatures = f;
    }
    if (scenario.labelledShare < 1) out.labelled = outcomeArrived(c.caseId, scenario.labelledShare);
    return out;
  });
}

/** Labels as the analysis sees them: -1 where the outcome has not arrived (see armStats). */
export function observedLabels(cases: readonly SimCase[]): Int8Array {
  return Int8Array.from(cases, (c) => (c.labelled === false ? -1 : c.label));
}
