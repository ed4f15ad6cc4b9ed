/**
 * Live measurement from the inference gateway's telemetry: one canary interval or monitoring window
 * [from, to) of prediction events, joined with the outcomes and feedback known for their cases, as the
 * per-route counts the live judges take (`ArmStats`) plus the operational signals (overrides, p99
 * latency, outcomes outstanding).
 *
 * `measureLive` is the pure join; `TelemetryLiveSource` reads the windows covering the range from S3.
 */
import type { ArmStats } from '../domain/measurements';
import type { EvidenceRef } from '../domain/evidence';
import { windowOf, type OutcomeSource, type TelemetryEvent } from './events';
import type { SegmentPointer, SegmentSource, SourceWeights } from './segments';
import { parseSegment } from './wal';
import { awaitCompleteness, type TelemetryCompleteness, type WatermarkStore } from './watermarks';

/** Each ground-truth source counts the same unless the release policy says otherwise. */
export const DEFAULT_SOURCE_WEIGHTS: SourceWeights = { clinician_review: 1, downstream_outcome: 1, complaint: 1 };

export type LiveRoute = 'production' | 'canary';

export interface LiveQuery {
  model: string;
  /** ISO instants: predictions made in [from, to) are measured. */
  from: string;
  to: string;
  /** Alert = score ≥ threshold (the release's operating threshold, whatever the route table says). */
  threshold: number;
  /** Only predictions made under these route-table versions (absent: any). */
  routeVersions?: readonly number[];
  /** Only predictions served by this model version on that route (absent: any). */
  modelVersions?: Partial<Record<LiveRoute, string>>;
  weights?: SourceWeights;
  /** Outcomes and feedback accepted by the gateway before this instant count (absent: all that were read). */
  asOf?: string;
  /**
   * Request attributes to split both routes by ("<attribute>=<value>" cohorts, for the guardrails per clinical
   * cohort). Only attributes prediction events record are measured (TELEMETRY_COHORT_ATTRIBUTES); others are
   * listed in the result's `cohortsNotRecorded`.
   */
  cohortAttributes?: readonly string[];
}

/** The request attributes a prediction event records, by the name policies give them: the request's `site`. */
export const TELEMETRY_COHORT_ATTRIBUTES: readonly string[] = ['site'];

/**
 * A cohort value as the gateway's cohort rules compare it (NFKC, trimmed, case-folded): "Site-B " and "site-b" are
 * one cohort. A prediction without the attribute counts under "(none)", as the simulated live source counts it.
 */
export function cohortKey(attribute: string, value: string | undefined): string {
  const v = value?.normalize('NFKC').trim().toLowerCase();
  return `${attribute}=${v ? v : '(none)'}`;
}

export interface LiveArm {
  stats: ArmStats;
  /** Prediction events counted (a case scored twice in the interval is one case of `stats.n`). */
  predictions: number;
  /** Cases without a (positively weighted) outcome yet: they count for n and alerts only. */
  unlabelled: number;
  /** Override / dismissed-alert feedback events on the arm's cases. */
  overrides: number;
  dismissedAlerts: number;
  /** overrides / alerts; null without alerts. */
  overrideRate: number | null;
  /** Nearest-rank p99 of the arm's prediction latencies; null without predictions. */
  p99LatencyMs: number | null;
  /** Sum of the labelled cases' scores (each case's highest), for calibration-in-the-large = positives/labelled − this/labelled. */
  labelledScoreSum: number;
  /** Routed requests on the arm that got no prediction (gateway failure events): the error rate is failures / (predictions + failures). */
  failures: number;
  modelVersions: string[];
  routeVersions: number[];
  /** Gateway input-quality flags on the arm's predictions, by flag. */
  quality: Record<string, number>;
}

export interface LiveTelemetryMeasurement {
  model: string;
  from: string;
  to: string;
  threshold: number;
  weights: SourceWeights;
  arms: Record<LiveRoute, LiveArm>;
  /** Cases predicted on both routes within the interval (route table changed): counted on the first only. */
  crossovers: number;
  /**
   * Each route's counts per cohort ("<attribute>=<value>", keys sorted), a case in the cohort of its first
   * prediction in the interval; present when the query asked for cohort attributes.
   */
  cohorts?: Record<string, Record<LiveRoute, ArmStats>>;
  /** Asked-for cohort attributes that prediction events do not record (not measured). */
  cohortsNotRecorded?: string[];
}

export interface LiveTelemetryResult extends LiveTelemetryMeasurement {
  /** The immutable segments the measurement was computed from. */
  segments: Array<{ window: string; segment: EvidenceRef }>;
  /** Whether every gateway had uploaded the interval when it was read (null: the source checks no watermarks). */
  completeness: TelemetryCompleteness | null;
}

/** An interval to read: predictions made in [from, to) and what arrived for their cases until `asOf` (absent: now). */
export interface TelemetryWindowQuery {
  model: string;
  from: string;
  to: string;
  asOf?: string;
}

export interface TelemetryWindow {
  /** Every event of the segments read, in their own windows (other models' and predictions outside [from, to) too: callers filter). */
  events: TelemetryEvent[];
  segments: LiveTelemetryResult['segments'];
  asOf: string;
  completeness: TelemetryCompleteness | null;
}

/** Raw telemetry of an interval (what observeShadow needs with VIGIL_LIVE_SOURCE=telemetry; an activity dependency). */
export interface TelemetryWindowReader {
  read(query: TelemetryWindowQuery): Promise<TelemetryWindow>;
}

/** What observeLive needs (an activity dependency). */
export interface LiveTelemetryPort {
  measure(query: LiveQuery): Promise<LiveTelemetryResult>;
}

function emptyStats(): Omit<ArmStats, 'sensitivity' | 'specificity' | 'alertRate'> {
  return { n: 0, positives: 0, truePositives: 0, negatives: 0, trueNegatives: 0, alerts: 0 };
}

/** Nearest-rank percentile of sorted values: the ⌈p·n⌉-th smallest. */
export function nearestRank(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil(p * sorted.length))) - 1]!;
}

interface CaseInArm {
  route: LiveRoute;
  maxScore: number;
  /** The request's site on the case's first prediction in the interval. */
  site: string | undefined;
}

/** Failed requests per route, selected like predictions (same interval, route versions and model versions). */
function failuresByRoute(
  events: readonly TelemetryEvent[],
  query: LiveQuery,
  from: number,
  to: number,
): Record<LiveRoute, number> {
  const failures: Record<LiveRoute, number> = { production: 0, canary: 0 };
  const seenFailures = new Set<string>();
  for (const e of events) {
    if (e.kind !== 'failure' || e.model !== query.model || e.route === 'shadow' || seenFailures.has(e.eventId))
      continue;
    seenFailures.add(e.eventId);
    const t = Date.parse(e.at);
    if (!(t >= from && t < to)) continue;
    if (query.routeVersions && !query.routeVersions.includes(e.routeVersion)) continue;
    const want = query.modelVersions?.[e.route];
    if (want === undefined || want === e.modelVersion) failures[e.route]++;
  }
  return failures;
}

/** Override and dismissed-alert feedback per case (by case-id hash), as accepted before `asOf`. */
function feedbackByCase(
  events: readonly TelemetryEvent[],
  model: string,
  asOf: number,
): Map<string, { override: number; dismissed: number }> {
  const feedback = new Map<string, { override: number; dismissed: number }>();
  const counted = new Set<string>();
  for (const e of events) {
    if (e.model !== model || e.kind === 'prediction' || counted.has(e.eventId) || !(Date.parse(e.at) < asOf)) continue;
    counted.add(e.eventId);
    if (e.kind === 'feedback') {
      const f = feedback.get(e.caseIdHash) ?? { override: 0, dismissed: 0 };
      if (e.type === 'override') f.override++;
      else f.dismissed++;
      feedback.set(e.caseIdHash, f);
    }
  }
  return feedback;
}

/**
 * The pure join. A case (case-id hash) belongs to the route of its first prediction in [from, to); it
 * alerts when any of its predictions there scored ≥ threshold. Its label is the outcome of the most heavily
 * weighted source (weight 0 = ignored); among equally weighted outcomes the latest `observedAt` wins, then
 * the greater event id (deterministic whatever the segment order). Shadow predictions are ignored.
 */
export function measureLive(events: readonly TelemetryEvent[], query: LiveQuery): LiveTelemetryMeasurement {
  const weights = query.weights ?? DEFAULT_SOURCE_WEIGHTS;
  const from = Date.parse(query.from);
  const to = Date.parse(query.to);
  const asOf = query.asOf === undefined ? Infinity : Date.parse(query.asOf);
  if (!(from < to)) throw new Error(`empty or invalid interval [${query.from}, ${query.to})`);

  const seen = new Set<string>();
  const predictions = events
    .filter((e) => {
      if (e.kind !== 'prediction' || e.model !== query.model || e.route === 'shadow' || seen.has(e.eventId))
        return false;
      seen.add(e.eventId);
      const t = Date.parse(e.at);
      if (!(t >= from && t < to)) return false;
      if (query.routeVersions && !query.routeVersions.includes(e.routeVersion)) return false;
      const want = query.modelVersions?.[e.route];
      return want === undefined || want === e.modelVersion;
    })
    .map((e) => e as Extract<TelemetryEvent, { kind: 'prediction' }>)
    .sort((a, b) => (a.at === b.at ? a.eventId.localeCompare(b.eventId) : a.at.localeCompare(b.at)));

  const failures = failuresByRoute(events, query, from, to);

  const truth = caseLabels(events, query.model, weights, asOf);
  const feedback = feedbackByCase(events, query.model, asOf);

  const cases = new Map<string, CaseInArm>();
  const crossed = new Set<string>();
  const acc = {
    production: {
      predictions: 0,
      latencies: [] as number[],
      modelVersions: new Set<string>(),
      routeVersions: new Set<number>(),
      quality: {} as Record<string, number>,
    },
    canary: {
      predictions: 0,
      latencies: [] as number[],
      modelVersions: new Set<string>(),
      routeVersions: new Set<number>(),
      quality: {} as Record<string, number>,
    },
  };
  for (const p of predictions) {
    const route = p.route as LiveRoute;
    const c = cases.get(p.caseIdHash);
    if (c && c.route !== route) {
      crossed.add(p.caseIdHash);
      continue;
    }
    const a = acc[route];
    a.predictions++;
    a.latencies.push(p.latencyMs);
    a.modelVersions.add(p.modelVersion);
    a.routeVersions.add(p.routeVersion);
    for (const q of p.quality) a.quality[q] = (a.quality[q] ?? 0) + 1;
    if (c) c.maxScore = Math.max(c.maxScore, p.score);
    else cases.set(p.caseIdHash, { route, maxScore: p.score, site: p.site });
  }

  const arms = {} as Record<LiveRoute, LiveArm>;
  for (const route of ['production', 'canary'] as const) {
    const { s, unlabelled, labelledScoreSum } = countCases(cases, route, truth, query.threshold);
    let overrides = 0;
    let dismissedAlerts = 0;
    for (const [hash, c] of cases) {
      const f = c.route === route ? feedback.get(hash) : undefined;
      if (f) {
        overrides += f.override;
        dismissedAlerts += f.dismissed;
      }
    }
    const a = acc[route];
    a.latencies.sort((x, y) => x - y);
    arms[route] = {
      stats: withRates(s),
      predictions: a.predictions,
      unlabelled,
      labelledScoreSum,
      overrides,
      dismissedAlerts,
      overrideRate: s.alerts > 0 ? overrides / s.alerts : null,
      p99LatencyMs: nearestRank(a.latencies, 0.99),
      failures: failures[route],
      modelVersions: [...a.modelVersions].sort(),
      routeVersions: [...a.routeVersions].sort((x, y) => x - y),
      quality: a.quality,
    };
  }
  return {
    model: query.model,
    from: query.from,
    to: query.to,
    threshold: query.threshold,
    weights,
    arms,
    crossovers: crossed.size,
    ...(query.cohortAttributes ? cohortsOf(cases, truth, query.threshold, query.cohortAttributes) : {}),
  };
}

type Truth = ReturnType<typeof caseLabels>;

function withRates(s: ReturnType<typeof emptyStats>): ArmStats {
  return {
    ...s,
    sensitivity: s.positives > 0 ? s.truePositives / s.positives : null,
    specificity: s.negatives > 0 ? s.trueNegatives / s.negatives : null,
    alertRate: s.n > 0 ? s.alerts / s.n : null,
  };
}

/** One route's confusion counts over `cases`, labels from `truth`. */
function countCases(
  cases: ReadonlyMap<string, CaseInArm>,
  route: LiveRoute,
  truth: Truth,
  threshold: number,
): { s: ReturnType<typeof emptyStats>; unlabelled: number; labelledScoreSum: number } {
  const s = emptyStats();
  let unlabelled = 0;
  let labelledScoreSum = 0;
  for (const [hash, c] of cases) {
    if (c.route !== route) continue;
    s.n++;
    const alert = c.maxScore >= threshold;
    if (alert) s.alerts++;
    const t = truth.get(hash);
    if (!t) unlabelled++;
    else {
      labelledScoreSum += c.maxScore;
      if (t.label === 1) {
        s.positives++;
        if (alert) s.truePositives++;
      } else {
        s.negatives++;
        if (!alert) s.trueNegatives++;
      }
    }
  }
  return { s, unlabelled, labelledScoreSum };
}

/** Both routes' counts per cohort of the recorded attributes, by the same join as the whole routes. */
function cohortsOf(
  cases: ReadonlyMap<string, CaseInArm>,
  truth: Truth,
  threshold: number,
  attributes: readonly string[],
): Pick<LiveTelemetryMeasurement, 'cohorts' | 'cohortsNotRecorded'> {
  const cohorts: Record<string, Record<LiveRoute, ArmStats>> = {};
  const notRecorded = attributes.filter((a) => !TELEMETRY_COHORT_ATTRIBUTES.includes(a));
  for (const attribute of attributes.filter((a) => TELEMETRY_COHORT_ATTRIBUTES.includes(a))) {
    const groups = new Map<string, Map<string, CaseInArm>>();
    for (const [hash, c] of cases) {
      const key = cohortKey(attribute, c.site);
      let g = groups.get(key);
      if (!g) groups.set(key, (g = new Map()));
      g.set(hash, c);
    }
    for (const key of [...groups.keys()].sort()) {
      const g = groups.get(key)!;
      cohorts[key] = {
        production: withRates(countCases(g, 'production', truth, threshold).s),
        canary: withRates(countCases(g, 'canary', truth, threshold).s),
      };
    }
  }
  return { cohorts, ...(notRecorded.length > 0 ? { cohortsNotRecorded: notRecorded } : {}) };
}

/**
 * Each case's label (by case-id hash): the outcome of its most heavily weighted source (weight 0 = ignored); among
 * equally weighted outcomes the latest `observedAt` wins, then the greater event id (deterministic whatever the
 * segment order). Only outcomes the gateway accepted before `asOf` (epoch ms) count.
 */
export function caseLabels(
  events: readonly TelemetryEvent[],
  model: string,
  weights: SourceWeights,
  asOf = Infinity,
): Map<string, { label: 0 | 1; weight: number; observedAt: string; eventId: string }> {
  const truth = new Map<string, { label: 0 | 1; weight: number; observedAt: string; eventId: string }>();
  for (const e of events) {
    if (e.kind !== 'outcome' || e.model !== model || !(Date.parse(e.at) < asOf)) continue;
    const w = weights[e.source as OutcomeSource] ?? 0;
    if (!(w > 0)) continue;
    const cur = truth.get(e.caseIdHash);
    const better =
      !cur ||
      w > cur.weight ||
      (w === cur.weight &&
        (e.observedAt > cur.observedAt || (e.observedAt === cur.observedAt && e.eventId > cur.eventId)));
    if (better) truth.set(e.caseIdHash, { label: e.label, weight: w, observedAt: e.observedAt, eventId: e.eventId });
  }
  return truth;
}

/** Hourly windows (see `windowOf`) from `from`'s to `until`'s, inclusive. */
export function windowsBetween(from: string, until: string): string[] {
  const out: string[] = [];
  const end = windowOf(new Date(Date.parse(until)).toISOString());
  for (let t = Math.floor(Date.parse(from) / 3_600_000) * 3_600_000; ; t += 3_600_000) {
    const w = windowOf(new Date(t).toISOString());
    if (w > end) break;
    out.push(w);
  }
  return out;
}

/** Lists a window's segment pointers (TelemetryReader satisfies it). */
export interface PointerIndex {
  pointers(window: string): Promise<SegmentPointer[]>;
}

/**
 * Reads the telemetry for one interval from S3: every pointer of the windows from `from` to the analysis
 * time (outcomes arrive after their predictions), and the segments they name — each segment once, checked
 * against its digest. Segments of windows after `to` are only read when their pointer names a case of the
 * interval. Events are kept only in their own window (a segment spanning windows is listed under each).
 */
export class TelemetryLiveSource implements LiveTelemetryPort, TelemetryWindowReader {
  constructor(
    private readonly index: PointerIndex,
    private readonly store: SegmentSource,
    private readonly now: () => Date = () => new Date(),
    /** Wait (up to maxWaitMs) until every gateway has uploaded past the interval's end before reading it. */
    private readonly watermarks?: { store: WatermarkStore; maxWaitMs: number; pollMs?: number },
  ) {}

  async measure(query: LiveQuery): Promise<LiveTelemetryResult> {
    const { events, segments, asOf, completeness } = await this.read(query);
    return { ...measureLive(events, { ...query, asOf }), segments, completeness };
  }

  /** The events `measure` reads for an interval (see the class comment), with the segments they came from. */
  async read(query: TelemetryWindowQuery): Promise<TelemetryWindow> {
    // Complete through the interval's end, or through `asOf` when that is later (outcomes that arrived until then).
    const w = this.watermarks;
    const through = query.asOf !== undefined && Date.parse(query.asOf) > Date.parse(query.to) ? query.asOf : query.to;
    const completeness = w
      ? await awaitCompleteness(w.store, query.from, through, { maxWaitMs: w.maxWaitMs, pollMs: w.pollMs })
      : null;
    // Without an asOf, a complete read takes outcomes up to the lowest watermark: exactly what every gateway has uploaded.
    const running = completeness?.complete ? completeness.gateways.filter((g) => !g.stopped) : [];
    const lowest = running.length
      ? running.reduce((m, g) => (Date.parse(g.through) < Date.parse(m) ? g.through : m), running[0]!.through)
      : null;
    const asOf = query.asOf ?? lowest ?? this.now().toISOString();
    const events: TelemetryEvent[] = [];
    const used: LiveTelemetryResult['segments'] = [];
    const cache = new Map<string, TelemetryEvent[]>();
    const read = async (p: SegmentPointer): Promise<TelemetryEvent[]> => {
      let es = cache.get(p.segment.sha256);
      if (!es) {
        const bytes = await this.store.getBytes(p.segment.key, p.segment.sha256, p.segment.versionId);
        es = parseSegment(Buffer.from(bytes).toString('utf8')).events;
        cache.set(p.segment.sha256, es);
      }
      used.push({ window: p.window, segment: p.segment });
      return es.filter((e) => windowOf(e.at) === p.window);
    };
    const lastPredictionWindow = windowOf(new Date(Date.parse(query.to) - 1).toISOString());
    const cases = new Set<string>();
    for (const w of windowsBetween(query.from, asOf > query.to ? asOf : query.to)) {
      for (const p of await this.index.pointers(w)) {
        if (!p.models.includes(query.model)) continue;
        if (w > lastPredictionWindow && !p.caseIdHashes.some((h) => cases.has(h))) continue;
        const es = await read(p);
        if (w <= lastPredictionWindow) for (const e of es) if (e.kind === 'prediction') cases.add(e.caseIdHash);
        events.push(...es);
      }
    }
    return { events, segments: used, asOf, completeness };
  }
}
