/**
 * Applies a TrafficScenario to simulated cases: a fault in the candidate's feature pipeline at one site, a
 * population shift both pipelines see, and outcomes that have not arrived yet. Deterministic per case id, so a
 * retried activity measures the same thing.
 */
import type { TrafficScenario } from '../domain';
import type { SimCase } from '../contracts/traffic';
import { prng } from './prng';

/** Whether a case's outcome has arrived by analysis time; stable for the case. */
export function outcomeArrived(caseId: string, labelledShare: number): boolean {
  return labelledShare >= 1 || prng(`outcome-arrival:${caseId}`)() < labelledShare;
}

/**
 * The same cases as the candidate and the analysis see them under `scenario` during live `interval` (0-based
 * canary/monitoring interval; null = the shadow period). `phase` says which live stage draws them (a
 * monitoring-only population shift); absent = canary.
 */
export function applyScenario(
  cases: readonly SimCase[],
  columns: readonly string[],
  scenario: TrafficScenario,
  interval: number | null,
  phase: 'canary' | 'monitoring' = 'canary',
): SimCase[] {
  const r = scenario.regression;
  const col = r ? columns.indexOf(r.feature) : -1;
  if (r && col < 0)
    throw new Error(
      `scenario ${scenario.name}: feature "${r.feature}" is not one of the traffic's columns (${columns.join(', ')})`,
    );
  const faulty = r !== undefined && (interval === null ? r.inShadow : interval >= r.fromInterval);
  const s = scenario.shift;
  const shiftCol = s ? columns.indexOf(s.feature) : -1;
  if (s && shiftCol < 0)
    throw new Error(
      `scenario ${scenario.name}: shift feature "${s.feature}" is not one of the traffic's columns (${columns.join(', ')})`,
    );
  const shifted =
    s !== undefined &&
    interval !== null &&
    interval >= s.fromInterval &&
    (s.phase === 'live' || phase === 'monitoring');
  return cases.map((c) => {
    const out: SimCase = { ...c };
    // The population moved: both pipelines see the moved value (before any candidate-only fault on top of it).
    if (shifted && (s.site === undefined || c.site === s.site)) {
      const f = [...c.features];
      f[shiftCol] = f[shiftCol]! + s.offset;
      out.features = f;
    }
    if (faulty && c.site === r.site) {
      const f = [...out.features];
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
