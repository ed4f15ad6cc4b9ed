/**
 * Honest windows (issue #15 item 3): a telemetry window whose gateways had not all uploaded past its end when it
 * was measured is missing events, so it cannot pass. The judge's own verdict stands when it failed (harm seen in
 * part of the window is still harm); a pass becomes inconclusive — the canary bakes again within its extensions,
 * a monitoring window is not judged, a SHADOW is not passed — unless the policy accepts incomplete windows.
 */
import type { Decision, WindowCompleteness } from '../domain';

/** Whether the window was measured before every gateway's telemetry for it had arrived. */
export const isIncomplete = (m: { completeness?: WindowCompleteness }): boolean => m.completeness?.complete === false;

function describeGap(c: WindowCompleteness, window: string | undefined): string {
  const where = window ? `telemetry window ${window}` : 'the telemetry window';
  return `${where} incomplete: ${c.lagging} of ${c.gateways} gateways had not uploaded past its end after waiting ${(c.waitedMs / 1000).toFixed(1)} s`;
}

/**
 * `d` judged again for the window's completeness. Complete windows (and measurements without `completeness`:
 * simulated, or recorded before it existed) return `d` itself. Incomplete: a pass becomes inconclusive with the
 * gap first and what was measured so far after it; a fail or inconclusive verdict keeps its verdict and names the
 * gap last. With `acceptIncomplete` (the policy's `acceptIncompleteWindows`) the verdict stands and the gap is noted.
 */
export function judgeWindowCompleteness<D extends Decision>(
  d: D,
  m: { completeness?: WindowCompleteness; window?: string },
  acceptIncomplete: boolean,
): D {
  const c = m.completeness;
  if (!c || c.complete !== false) return d;
  const gap = describeGap(c, m.window);
  if (acceptIncomplete)
    return { ...d, reasons: [...d.reasons, `${gap} (accepted: the policy sets acceptIncompleteWindows)`] };
  if (d.verdict !== 'pass') return { ...d, reasons: [...d.reasons, gap] };
  return {
    ...d,
    verdict: 'inconclusive',
    reasons: [`${gap}: not passed on part of its traffic`, ...d.reasons.map((r) => `measured so far: ${r}`)],
  };
}
