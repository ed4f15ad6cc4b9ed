import fs from 'node:fs';
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { EvidenceRef } from '../domain/evidence';
import type { Logger } from '../logging/logger';
import { windowOf, type OutcomeSource, type PredictionEvent, type TelemetryEvent } from './events';
import { parseSegment, type WriteAheadLog } from './wal';
import type { WatermarkStore } from './watermarks';

export const SEGMENT_MEDIA_TYPE = 'application/x-ndjson';
export const INDEX_PREFIX = 'telemetry/index/';

/** What the uploader needs from the evidence store (EvidenceStore satisfies it). */
export interface SegmentSink {
  putBytes(bytes: Uint8Array, mediaType: string): Promise<EvidenceRef>;
  putNamed(key: string, value: unknown): Promise<EvidenceRef>;
}

/** The per-window pointer to one immutable segment: `telemetry/index/<window>/<segment sha256>.json`. */
export interface SegmentPointer {
  kind: 'vigil.telemetry-segment/v1';
  window: string;
  segment: EvidenceRef;
  /** Events of this window in the segment, by kind. */
  /** `failure` and `sketch` from gateways that record them (absent in older pointers). */
  counts: { prediction: number; outcome: number; feedback: number; failure?: number; sketch?: number };
  models: string[];
  /** Every case hash with an event of this window in the segment (sorted): lookups read pointers, not segments. */
  caseIdHashes: string[];
}

export function pointerKey(window: string, segmentSha256: string): string {
  return `${INDEX_PREFIX}${window}/${segmentSha256}.json`;
}

/** Segment bytes: the valid events, one canonical line each, in WAL order. */
export function segmentBytes(events: readonly TelemetryEvent[]): Buffer {
  return Buffer.from(events.map((e) => JSON.stringify(e)).join('\n') + '\n', 'utf8');
}

export function pointersFor(events: readonly TelemetryEvent[], segment: EvidenceRef): SegmentPointer[] {
  const byWindow = new Map<string, TelemetryEvent[]>();
  for (const e of events) {
    const w = windowOf(e.at);
    const list = byWindow.get(w);
    if (list) list.push(e);
    else byWindow.set(w, [e]);
  }
  return [...byWindow].map(([window, es]) => ({
    kind: 'vigil.telemetry-segment/v1',
    window,
    segment,
    counts: {
      prediction: es.filter((e) => e.kind === 'prediction').length,
      outcome: es.filter((e) => e.kind === 'outcome').length,
      feedback: es.filter((e) => e.kind === 'feedback').length,
      failure: es.filter((e) => e.kind === 'failure').length,
      sketch: es.filter((e) => e.kind === 'sketch').length,
    },
    models: [...new Set(es.map((e) => e.model))].sort(),
    caseIdHashes: [...new Set(es.flatMap((e) => (e.kind === 'sketch' ? [] : [e.caseIdHash])))].sort(),
  }));
}

/** The gateway's upload watermark (src/telemetry/watermarks.ts), published by its uploader. */
export interface UploaderWatermark {
  store: WatermarkStore;
  gateway: string;
  /**
   * Longest time from an event's stamp to its append: a shadow prediction carries its production
   * request's instant and is recorded when its mirror is scored (the mirror's deadline plus its batch window).
   */
  lagMs: number;
  /** Hands every prediction recorded so far to the WAL (the gateway's batching recorder). */
  flush?: () => void;
}

/**
 * Moves sealed WAL segments into the evidence store: the segment as a content-addressed object,
 * then one create-only pointer per window it touches, then (only then) the local file is removed.
 * Every step is idempotent, so a crash anywhere just repeats it on restart.
 */
export class SegmentUploader {
  private running: Promise<boolean> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  /**
   * Cuts waiting for their segments: events stamped before `through` are in `after` or an earlier sealed segment
   * (null: in none still to upload). Uploads go in seal order, so once `after` is gone, `through` holds. Tracking
   * each cut, instead of waiting for an empty backlog, keeps the watermark moving under steady traffic.
   */
  private readonly pendingCuts: { after: string | null; through: number }[] = [];
  /** When the last cut was taken (ms). */
  private lastCutMs = 0;
  /** What the watermark says: the latest cut whose segments are all uploaded; ms. */
  private publishedThrough = -Infinity;
  uploaded = 0;
  failures = 0;

  constructor(
    private readonly wal: WriteAheadLog,
    private readonly sink: SegmentSink,
    private readonly log?: Logger,
    private readonly intervalMs = 1000,
    private readonly watermark?: UploaderWatermark,
  ) {}

  start(): void {
    this.wal.onSeal(() => void this.kick());
    const tick = (): void => {
      if (this.stopped) return;
      void this.tick()
        .catch((err: unknown) => this.log?.warn({ err }, 'telemetry upload tick failed; will retry'))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, this.intervalMs);
        });
    };
    tick();
  }

  /**
   * Seal the active segment when it is old, upload the backlog, and publish how far that got: events
   * stamped `lagMs` before the cut are in the WAL at the cut, so once the segment holding them (or, if the
   * active segment is still empty, every earlier one) is uploaded, the watermark moves to cut − lag.
   */
  async tick(): Promise<void> {
    const w = this.watermark;
    const cut = Date.now();
    if (w) {
      w.flush?.();
      await this.wal.barrier();
    }
    let sealed = await this.wal.sealIfOld();
    // Under steady traffic the WAL's own flushes seal each segment as it reaches its age limit, so a tick never finds
    // one old enough and no cut is taken (the watermark would stand still): once the last cut is that old, seal now.
    if (w && !sealed && this.wal.activeBytes > 0 && cut - this.lastCutMs >= this.wal.segmentMaxAgeMs) {
      await this.wal.rotate();
      sealed = true;
    }
    if (w && (sealed || this.wal.activeBytes === 0)) {
      this.pendingCuts.push({ after: this.wal.sealedSegments().at(-1) ?? null, through: cut - w.lagMs });
      this.lastCutMs = cut;
    }
    await this.kick();
    if (!w) return;
    // `through` moves only as far as the segments in S3 reach; it is published every tick, moved or not: `at` is the
    // gateway's heartbeat, so a gateway whose uploads fail still shows as alive and holds the windows it owes incomplete.
    const waiting = new Set(this.wal.sealedSegments());
    while (this.pendingCuts.length > 0) {
      const next = this.pendingCuts[0]!;
      if (next.after !== null && waiting.has(next.after)) break;
      this.publishedThrough = Math.max(this.publishedThrough, next.through);
      this.pendingCuts.shift();
    }
    if (Number.isFinite(this.publishedThrough)) {
      await w.store.put({
        kind: 'vigil.telemetry-watermark/v1',
        gateway: w.gateway,
        through: new Date(this.publishedThrough).toISOString(),
        at: new Date().toISOString(),
      });
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /**
   * At shutdown, after the WAL is closed (everything sealed): upload the backlog and, when all of it is in S3,
   * publish a watermark at now, so no measurement waits for a gateway that stopped cleanly.
   */
  async finish(): Promise<void> {
    await this.stop();
    // Each drain uploads what was sealed when it began; repeat until the backlog is gone or an upload fails.
    while (this.wal.sealedSegments().length > 0 && (await this.kick())) {
      /* next snapshot */
    }
    const w = this.watermark;
    if (!w || this.wal.sealedSegments().length > 0) return;
    const now = new Date().toISOString();
    await w.store.put({
      kind: 'vigil.telemetry-watermark/v1',
      gateway: w.gateway,
      through: now,
      at: now,
      stopped: true,
    });
  }

  /**
   * Upload the segments sealed so far; resolves true when they are all in S3, false when an upload failed (retried on
   * the next tick). Segments sealed meanwhile go in a follow-up drain that nobody waits for: under traffic sealed
   * faster than uploaded, a tick (and so the heartbeat) never waits on an endless backlog.
   */
  kick(): Promise<boolean> {
    if (!this.running) {
      this.running = this.drain().then((ok) => {
        this.running = null;
        if (ok && !this.stopped && this.wal.sealedSegments().length > 0) void this.kick();
        return ok;
      });
    }
    return this.running;
  }

  private async drain(): Promise<boolean> {
    for (const file of [...this.wal.sealedSegments()]) {
      try {
        await this.uploadOne(file);
      } catch (err) {
        this.failures++;
        this.log?.warn({ err, file }, 'telemetry segment upload failed; will retry');
        return false;
      }
    }
    return true;
  }

  private async uploadOne(file: string): Promise<void> {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      this.wal.removeSealed(file);
      return;
    }
    const { events, skipped } = parseSegment(text);
    if (skipped > 0)
      this.log?.warn({ file, skipped }, 'telemetry segment had unreadable lines (a torn, unacknowledged tail)');
    if (events.length > 0) {
      const ref = await this.sink.putBytes(segmentBytes(events), SEGMENT_MEDIA_TYPE);
      for (const p of pointersFor(events, ref)) await this.sink.putNamed(pointerKey(p.window, ref.sha256), p);
      this.uploaded += events.length;
    }
    this.wal.removeSealed(file);
  }
}

/** Reads what the uploader wrote (EvidenceStore satisfies `getJson`/`getBytes`). */
export interface SegmentSource {
  getJson(key: string, expectedSha256?: string): Promise<unknown>;
  getBytes(key: string, expectedSha256?: string, versionId?: string): Promise<Uint8Array>;
}

export interface CaseRecord {
  at: string;
  model: string;
  modelVersion: string;
  route: PredictionEvent['route'];
  routeVersion: number;
  score: number;
  decision: boolean | null;
  /** The request's site, where it named one. */
  site?: string;
}

/** Query side over the segment index: windows, their events, and which model version saw a case. */
export class TelemetryReader {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    private readonly store: SegmentSource,
  ) {}

  async windows(): Promise<string[]> {
    const out: string[] = [];
    let token: string | undefined;
    do {
      const res = await this.s3.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: INDEX_PREFIX,
          Delimiter: '/',
          ContinuationToken: token,
        }),
      );
      for (const p of res.CommonPrefixes ?? []) out.push(p.Prefix!.slice(INDEX_PREFIX.length, -1));
      token = res.IsTruncated ? res.NextContinuationToken : undefined;
    } while (token);
    return out.sort();
  }

  async pointers(window: string): Promise<SegmentPointer[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const res = await this.s3.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: `${INDEX_PREFIX}${window}/`,
          ContinuationToken: token,
        }),
      );
      for (const o of res.Contents ?? []) keys.push(o.Key!);
      token = res.IsTruncated ? res.NextContinuationToken : undefined;
    } while (token);
    return Promise.all(keys.sort().map(async (k) => (await this.store.getJson(k)) as SegmentPointer));
  }

  /** Events of one window, deduplicated by event id (a replayed segment may repeat unacknowledged lines). */
  async events(window: string): Promise<TelemetryEvent[]> {
    const seen = new Set<string>();
    const out: TelemetryEvent[] = [];
    for (const p of await this.pointers(window)) {
      for (const e of await this.segmentEvents(p)) {
        if (windowOf(e.at) !== window || seen.has(e.eventId)) continue;
        seen.add(e.eventId);
        out.push(e);
      }
    }
    return out;
  }

  /** Which model version(s) processed a case: every prediction event for it, oldest first. */
  async lookupCase(caseIdHash: string): Promise<CaseRecord[]> {
    const found = new Map<string, CaseRecord>();
    for (const w of await this.windows()) {
      for (const p of await this.pointers(w)) {
        if (!p.caseIdHashes.includes(caseIdHash)) continue;
        for (const e of await this.segmentEvents(p)) {
          if (e.kind === 'prediction' && e.caseIdHash === caseIdHash) found.set(e.eventId, caseRecord(e));
        }
      }
    }
    return [...found.values()].sort((a, b) => a.at.localeCompare(b.at));
  }

  private async segmentEvents(p: SegmentPointer): Promise<TelemetryEvent[]> {
    const bytes = await this.store.getBytes(p.segment.key, p.segment.sha256, p.segment.versionId);
    return parseSegment(Buffer.from(bytes).toString('utf8')).events;
  }
}

export function caseRecord(e: PredictionEvent): CaseRecord {
  return {
    at: e.at,
    model: e.model,
    modelVersion: e.modelVersion,
    route: e.route,
    routeVersion: e.routeVersion,
    score: e.score,
    decision: e.decision,
    ...(e.site !== undefined ? { site: e.site } : {}),
  };
}

/** How much each ground-truth source counts (from the release policy). */
export type SourceWeights = Record<OutcomeSource, number>;

export interface ArmAggregate {
  model: string;
  modelVersion: string;
  route: PredictionEvent['route'];
  predictions: number;
  alerts: number;
  meanScore: number;
  p99LatencyMs: number;
  /** Outcome-weighted confusion counts at the route's decision (cases with a decision and an outcome). */
  weighted: { tp: number; fp: number; fn: number; tn: number };
  labelledCases: number;
  overrides: number;
  dismissedAlerts: number;
}

/**
 * Aggregate predictions with the outcomes and feedback known for their cases. When several sources
 * report on one case, the most heavily weighted source decides the label and the case counts with
 * that weight; a source weighted 0 is ignored.
 */
export function aggregate(events: readonly TelemetryEvent[], weights: SourceWeights): ArmAggregate[] {
  const truth = new Map<string, { label: 0 | 1; weight: number }>();
  const feedback = new Map<string, { override: number; dismissed: number }>();
  for (const e of events) {
    if (e.kind === 'outcome') {
      const w = weights[e.source];
      const cur = truth.get(e.caseIdHash);
      if (w > 0 && (!cur || w > cur.weight)) truth.set(e.caseIdHash, { label: e.label, weight: w });
    } else if (e.kind === 'feedback') {
      const f = feedback.get(e.caseIdHash) ?? { override: 0, dismissed: 0 };
      if (e.type === 'override') f.override++;
      else f.dismissed++;
      feedback.set(e.caseIdHash, f);
    }
  }
  const arms = new Map<string, { agg: ArmAggregate; scoreSum: number; latencies: number[] }>();
  const seen = new Set<string>();
  for (const e of events) {
    if (e.kind !== 'prediction' || seen.has(e.eventId)) continue;
    seen.add(e.eventId);
    const key = `${e.model}\u0000${e.modelVersion}\u0000${e.route}`;
    let arm = arms.get(key);
    if (!arm) {
      arm = {
        agg: {
          model: e.model,
          modelVersion: e.modelVersion,
          route: e.route,
          predictions: 0,
          alerts: 0,
          meanScore: 0,
          p99LatencyMs: 0,
          weighted: { tp: 0, fp: 0, fn: 0, tn: 0 },
          labelledCases: 0,
          overrides: 0,
          dismissedAlerts: 0,
        },
        scoreSum: 0,
        latencies: [],
      };
      arms.set(key, arm);
    }
    const a = arm.agg;
    a.predictions++;
    arm.scoreSum += e.score;
    arm.latencies.push(e.latencyMs);
    if (e.decision) a.alerts++;
    const t = truth.get(e.caseIdHash);
    if (t && e.decision !== null) {
      a.labelledCases++;
      const cell = e.decision ? (t.label === 1 ? 'tp' : 'fp') : t.label === 1 ? 'fn' : 'tn';
      a.weighted[cell] += t.weight;
    }
    const f = feedback.get(e.caseIdHash);
    if (f && e.route !== 'shadow') {
      a.overrides += f.override;
      a.dismissedAlerts += f.dismissed;
    }
  }
  return [...arms.values()].map(({ agg, scoreSum, latencies }) => {
    latencies.sort((x, y) => x - y);
    return {
      ...agg,
      meanScore: scoreSum / agg.predictions,
      p99LatencyMs: latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.99))] ?? 0,
    };
  });
}
