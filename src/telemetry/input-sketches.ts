import { categoricalDriftOfCounts, countCategories, type CategoricalDrift } from '../stats/drift';
import { centreOf, emptySketch, mergeSketches, type LogSketch } from '../stats/log-sketch';
import type { TelemetryEvent } from './events';

export interface WindowSketches {
  /** Per feature, every bucket of the window merged. */
  features: Map<string, LogSketch>;
  /**
   * Per feature, exact counts per value over the window; null when some bucket of the window did not count it
   * exactly (too many distinct values, or an older gateway).
   */
  values: Map<string, Map<number, number> | null>;
  /** Features left out, and why: sketches of different accuracies or centres (gateways configured differently) or an unreadable one. */
  unusable: Map<string, string>;
  /** Sketch events (buckets × gateways) merged, and the feature rows they summarise. */
  buckets: number;
  rows: number;
  /** Rows per site over the buckets that count sites (`buckets` of them), and rows of sites past a bucket's limit. */
  sites: { counts: Map<string, number>; overflow: number; buckets: number };
}

/**
 * The window's site mix (rows per site, from the sketch buckets) against the reference's (chi-square test of
 * homogeneity, PSI), or why it cannot be compared.
 */
export function windowSiteMix(
  referenceSites: readonly string[] | null,
  w: WindowSketches,
): { drift: CategoricalDrift } | { notCompared: string } {
  if (!referenceSites) return { notCompared: 'the evaluation split has no site column' };
  const why = siteCountsUnusable(w);
  if (why) return { notCompared: why };
  try {
    return { drift: categoricalDriftOfCounts(countCategories(referenceSites), w.sites.counts) };
  } catch (e) {
    return { notCompared: e instanceof Error ? e.message : String(e) };
  }
}

/** Why the window's site counts cannot be compared with the reference's site mix, or null if they can. */
function siteCountsUnusable(w: WindowSketches): string | null {
  if (w.sites.buckets === 0) return 'the gateway counts no site in this window (older gateways)';
  if (w.sites.buckets < w.buckets)
    return `${w.buckets - w.sites.buckets} of ${w.buckets} input sketch buckets count no site (older gateways)`;
  if (w.sites.overflow > 0) return `${w.sites.overflow} rows came from sites past a bucket's limit of distinct sites`;
  let n = 0;
  for (const c of w.sites.counts.values()) n += c;
  return n === 0 ? 'no request in the window named a site' : null;
}

/**
 * The gateway's input sketches of one model for a window [from, to): the buckets stamped (ended) in [from, to),
 * deduplicated by event id. A bucket straddling `from` is counted whole, one ending at or after `to` not at all:
 * the window's inputs to within one bucket (VIGIL_GATEWAY_SKETCH_BUCKET_MS) at each end. (Stamps before `to`
 * keep every sketch in the hourly windows the prediction reader already reads.) A feature whose sketches cannot
 * be merged is left out and named, never merged in part.
 */
export function mergeWindowSketches(
  events: readonly TelemetryEvent[],
  model: string,
  from: string,
  to: string,
): WindowSketches {
  const lo = Date.parse(from);
  const hi = Date.parse(to);
  const features = new Map<string, LogSketch>();
  const bad = new Map<string, string>();
  const seen = new Set<string>();
  const values = new Map<string, Map<number, number> | null>();
  let buckets = 0;
  let rows = 0;
  const sites = { counts: new Map<string, number>(), overflow: 0, buckets: 0 };
  for (const e of events) {
    if (e.kind !== 'sketch' || e.model !== model || seen.has(e.eventId)) continue;
    const at = Date.parse(e.at);
    if (!(at >= lo && at < hi)) continue;
    seen.add(e.eventId);
    buckets++;
    rows += e.rows;
    if (e.sites && typeof e.sites === 'object') {
      sites.buckets++;
      for (const [site, n] of Object.entries(e.sites))
        if (Number.isInteger(n) && n > 0) sites.counts.set(site, (sites.counts.get(site) ?? 0) + n);
      if (Number.isInteger(e.siteOverflow) && e.siteOverflow! > 0) sites.overflow += e.siteOverflow!;
    }
    for (const [f, s] of Object.entries(e.features)) {
      const exact = e.values?.[f];
      const acc = values.has(f) ? values.get(f)! : new Map<number, number>();
      if (acc === null || !exact || typeof exact !== 'object') values.set(f, null);
      else {
        for (const [v, n] of Object.entries(exact))
          if (Number.isInteger(n) && n > 0) acc.set(Number(v), (acc.get(Number(v)) ?? 0) + n);
        values.set(f, acc);
      }
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
  return { features, values, unusable: bad, buckets, rows, sites };
}
