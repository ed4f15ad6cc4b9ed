/**
 * The workflow's side of honest windows (issue #15 item 3), behind `patched('honest-windows')`: only a window
 * measured incomplete reaches patched(), so histories without one record no marker and replay as before.
 */
import { patched } from '@temporalio/workflow';
import type { Decision, ReleasePolicy, StageRecord, WindowCompleteness } from '../domain';
import { isIncomplete, judgeWindowCompleteness, measuredBy, type MeasuredFields } from '../judging';

export const HONEST_WINDOWS_PATCH = 'honest-windows';

/** `d`, judged again for an incomplete telemetry window unless the run predates the patch. */
export function honestWindow<D extends Decision>(
  d: D,
  m: { completeness?: WindowCompleteness; window?: string },
  policy: Pick<ReleasePolicy, 'acceptIncompleteWindows'>,
): D {
  if (!isIncomplete(m) || !patched(HONEST_WINDOWS_PATCH)) return d;
  return judgeWindowCompleteness(d, m, policy.acceptIncompleteWindows === true);
}

export const MEASURED_BY_PATCH = 'measured-by';

/**
 * The stage record gets its measurement's provenance as fields (source, completeness, mirror coverage, attempts:
 * status, UI and dossier show them). Only measurements that carry their attempt (live sources since this patch)
 * reach patched(), so histories recorded before record no marker and replay as before.
 */
export function recordMeasuredBy(record: StageRecord | undefined, m: MeasuredFields): void {
  const fields = measuredBy(m);
  if (record && fields && m.attempt !== undefined && patched(MEASURED_BY_PATCH)) record.measured = fields;
}
