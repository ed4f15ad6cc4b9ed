import { mergeSketches, type LogSketch } from '../stats/log-sketch';
import type { TelemetryEvent } from './events';

export interface WindowSketches {
  /** Per feature, every bucket of the window merged. */
  features: Map<string, LogSketch>;
  /** Sketch events (buckets × gateways) merged, and the feature rows they summarise. */
  buckets: number;
  rows: number;
}

/**
 * The gateway's input sketches of one model for a window [from, to): the buckets stamped (ended) in [from, to),
 * deduplicated by event id. A bucket straddling `from` is counted whole, one ending at or after `to` not at all:
 * the window's inputs to within one bucket (VIGIL_GATEWAY_SKETCH_BUCKET_MS) at each end. (Stamps before `to`
 * keep every sketch in the hourly windows the prediction reader already reads.)
 */
export function mergeWindowSketches(events: readonly TelemetryEvent[], model: string, from: string, to: string): WindowSketches {
  const lo = Date.parse(from);
  const hi = Date.parse(to);
  const features = new Map<string, LogSketch>();
  const seen = new Set<string>();
  let buckets = 0;
  let rows = 0;
  for (const e of events) {
    if (e.kind !== 'sketch' || e.model !== model || seen.has(e.eventId)) continue;
    const at = Date.parse(e.at);
    if (!(at >= lo && at < hi)) continue;
    seen.add(e.eventId);
    buckets++;
    rows += e.rows;
    for (const [f, s] of Object.entries(e.features)) {
      const cur = features.get(f);
      features.set(f, cur ? mergeSketches(cur, s) : s);
    }
  }
  return { features, buckets, rows };
}
