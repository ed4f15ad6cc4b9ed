import { centreOf, emptySketch, mergeSketches, type LogSketch } from '../stats/log-sketch';
import type { TelemetryEvent } from './events';

export interface WindowSketches {
  /** Per feature, every bucket of the window merged. */
  features: Map<string, LogSketch>;
  /** Features left out, and why: sketches of different accuracies or centres (gateways configured differently) or an unreadable one. */
  unusable: Map<string, string>;
  /** Sketch events (buckets × gateways) merged, and the feature rows they summarise. */
  buckets: number;
  rows: number;
}

/**
 * The gateway's input sketches of one model for a window [from, to): the buckets stamped (ended) in [from, to),
 * deduplicated by event id. A bucket straddling `from` is counted whole, one ending at or after `to` not at all:
 * the window's inputs to within one bucket (VIGIL_GATEWAY_SKETCH_BUCKET_MS) at each end. (Stamps before `to`
 * keep every sketch in the hourly windows the prediction reader already reads.) A feature whose sketches cannot
 * be merged is left out and named, never merged in part.
 */
export function mergeWindowSketches(events: readonly TelemetryEvent[], model: string, from: string, to: string): WindowSketches {
  const lo = Date.parse(from);
  const hi = Date.parse(to);
  const features = new Map<string, LogSketch>();
  const bad = new Map<string, string>();
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
      if (bad.has(f)) continue;
      const cur = features.get(f);
      try {
        // Merging checks every sketch (integer indexes, counts that add up), the first one included.
        features.set(f, mergeSketches(cur ?? emptySketch(s.alpha, centreOf(s)), s));
      } catch (err) {
        bad.set(
          f,
          cur && cur.alpha !== s.alpha
            ? `sketches of different accuracies in the window (α ${cur.alpha} and ${s.alpha})`
            : cur && centreOf(cur) !== centreOf(s)
              ? `sketches around different centres in the window (${centreOf(cur)} and ${centreOf(s)}: gateways with different sketchCentres)`
              : `an unreadable sketch (${(err as Error).message})`,
        );
        features.delete(f);
      }
    }
  }
  return { features, unusable: bad, buckets, rows };
}
