/**
 * A measurement's provenance as fields beside its decision (issue #15): which live source measured it, whether the
 * telemetry window was complete, the gateway's mirror coverage (SHADOW) and the activity attempt that took it. The
 * workflow stores it on the stage record (status, UI, dossier); the audit derives it again from the evidence record.
 */
import type { MeasuredBy, MeasurementSource, WindowCompleteness } from '../domain';

/** What `measuredBy` reads: any live measurement (canary/monitoring window or shadow). */
export interface MeasuredFields {
  source?: MeasurementSource;
  completeness?: WindowCompleteness;
  mirror?: { coverage: number | null };
  attempt?: number;
}

/** The fields of `m`, or undefined for a measurement recorded before sources were named. */
export function measuredBy(m: MeasuredFields): MeasuredBy | undefined {
  if (m.source === undefined) return undefined;
  return {
    source: m.source,
    ...(m.completeness ? { completeness: m.completeness } : {}),
    ...(m.mirror ? { mirrorCoverage: m.mirror.coverage } : {}),
    ...(m.attempt !== undefined ? { attempts: m.attempt } : {}),
  };
}

/** One line for people: "gateway-telemetry · window complete (1 gateway) · mirror coverage 94.2% · attempt 1". */
export function describeMeasuredBy(m: MeasuredBy): string {
  const parts: string[] = [m.source === 'simulated' ? 'simulated traffic (source: simulated)' : m.source];
  const c = m.completeness;
  if (c) {
    const gw = `${c.gateways} gateway${c.gateways === 1 ? '' : 's'}`;
    parts.push(
      c.complete === true
        ? `window complete (${gw})`
        : c.complete === false
          ? `window INCOMPLETE (${c.lagging} of ${gw} lagging after ${(c.waitedMs / 1000).toFixed(1)} s)`
          : 'completeness unknown (no gateway watermarks)',
    );
  }
  if (m.mirrorCoverage !== undefined)
    parts.push(`mirror coverage ${m.mirrorCoverage === null ? 'n/a' : `${(m.mirrorCoverage * 100).toFixed(1)}%`}`);
  if (m.attempts !== undefined) parts.push(`attempt ${m.attempts}`);
  return parts.join(' · ');
}
