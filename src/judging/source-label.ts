/**
 * A decision made on simulated traffic says so in its own words, so the chain, status, UI, dossier and audit
 * report that quote the decision cannot pass a simulation off as production evidence (issue #15).
 */
import type { Decision, MeasurementSource } from '../domain';

/** What a decision's headline reason ends with when its measurement came from the worker's simulated world. */
export const SIMULATED_LABEL = ' (simulated traffic)';

/**
 * `d` with `SIMULATED_LABEL` appended to its first reason when `source` is `'simulated'`; otherwise `d` itself.
 * Measurements recorded before sources were named carry no `source`, so their recomputed decisions are unchanged.
 * Idempotent: a headline already labelled is left alone.
 */
export function labelSource<D extends Decision>(d: D, source: MeasurementSource | undefined): D {
  const [head, ...rest] = d.reasons;
  if (source !== 'simulated' || head === undefined || head.endsWith(SIMULATED_LABEL)) return d;
  return { ...d, reasons: [head + SIMULATED_LABEL, ...rest] };
}

/** `d` with the label taken off its first reason again, for judges that build on another judge's decision. */
export function withoutSourceLabel<D extends Decision>(d: D): D {
  const [head, ...rest] = d.reasons;
  if (head === undefined || !head.endsWith(SIMULATED_LABEL)) return d;
  return { ...d, reasons: [head.slice(0, -SIMULATED_LABEL.length), ...rest] };
}
