/**
 * Upload watermarks: how far each gateway's telemetry is known to be in S3. A gateway's watermark says
 * "every event I stamped before `through` is in an uploaded segment". A measurement of [from, to) waits
 * until every gateway alive in that interval is past `to`, instead of silently missing the events of a
 * segment that is not sealed yet (segments are sealed up to their age limit after their first event).
 */
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';

import type { WindowCompleteness } from '../domain';
export const WATERMARK_PREFIX = 'telemetry/watermarks/';

export interface TelemetryWatermark {
  kind: 'vigil.telemetry-watermark/v1';
  /** The gateway instance (VIGIL_GATEWAY_ID). */
  gateway: string;
  /** Every event this gateway stamped before this instant is uploaded. */
  through: string;
  /** When the gateway wrote this watermark: its heartbeat (it writes one about every second while it runs). */
  at: string;
  /** Written at a clean shutdown, with everything uploaded: nothing of this gateway is missing anywhere. */
  stopped?: true;
}

/**
 * A gateway whose last heartbeat is this much older than an interval's start is taken as gone for good and
 * not waited for; one that stopped beating later (crashed, or cut off from S3) holds the interval incomplete.
 */
export const GONE_AFTER_MS = 10 * 60_000;

/** Where gateways publish their watermarks and measurements read them. */
export interface WatermarkStore {
  put(w: TelemetryWatermark): Promise<void>;
  list(): Promise<TelemetryWatermark[]>;
}

/** What a measurement knew about the completeness of the telemetry it read. */
export interface TelemetryCompleteness {
  /** Every gateway alive in the interval had uploaded past its end; null: no gateway publishes watermarks. */
  complete: boolean | null;
  /** The watermarks judged: gateways beating within GONE_AFTER_MS of the interval's start. */
  gateways: Array<{ gateway: string; through: string; stopped?: true }>;
  /** How long the measurement waited for them. */
  waitedMs: number;
}

/**
 * Gateways that beat within GONE_AFTER_MS of `from` (or later) must be past `to`, unless they stopped cleanly
 * (everything uploaded); older watermarks are gateways gone before the interval.
 */
export function judgeCompleteness(
  marks: readonly TelemetryWatermark[],
  from: string,
  to: string,
): Omit<TelemetryCompleteness, 'waitedMs'> {
  const since = Date.parse(from) - GONE_AFTER_MS;
  const toMs = Date.parse(to);
  const judged = marks
    .filter((m) => Date.parse(m.at) >= since)
    .map((m) => ({ gateway: m.gateway, through: m.through, ...(m.stopped ? { stopped: true as const } : {}) }))
    .sort((a, b) => a.gateway.localeCompare(b.gateway));
  if (judged.length === 0) return { complete: null, gateways: [] };
  return { complete: judged.every((m) => m.stopped || Date.parse(m.through) >= toMs), gateways: judged };
}

/** The summary a measurement carries (the evidence keeps the full record): gateways, laggards, the wait. */
export function windowCompleteness(c: TelemetryCompleteness | null, to: string): WindowCompleteness {
  if (c === null) return { complete: null, gateways: 0, lagging: 0, waitedMs: 0 };
  const toMs = Date.parse(to);
  const lagging = c.gateways.filter((g) => !g.stopped && Date.parse(g.through) < toMs).length;
  return { complete: c.complete, gateways: c.gateways.length, lagging, waitedMs: c.waitedMs };
}

export interface AwaitOptions {
  /** Give up after this long and report `complete: false` (0: look once). */
  maxWaitMs: number;
  pollMs?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

/** Polls the watermarks until the interval is complete, no gateway publishes any, or `maxWaitMs` has passed. */
export async function awaitCompleteness(
  store: WatermarkStore,
  from: string,
  to: string,
  opts: AwaitOptions,
): Promise<TelemetryCompleteness> {
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const started = now();
  for (;;) {
    const judged = judgeCompleteness(await store.list(), from, to);
    const waitedMs = now() - started;
    if (judged.complete !== false || waitedMs >= opts.maxWaitMs) return { ...judged, waitedMs };
    await sleep(Math.min(opts.pollMs ?? 500, Math.max(1, opts.maxWaitMs - waitedMs)));
  }
}

/** One small mutable object per gateway beside the segment index: `telemetry/watermarks/<gateway>.json`. */
export class S3WatermarkStore implements WatermarkStore {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  static key(gateway: string): string {
    return `${WATERMARK_PREFIX}${encodeURIComponent(gateway)}.json`;
  }

  async put(w: TelemetryWatermark): Promise<void> {
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: S3WatermarkStore.key(w.gateway),
        Body: JSON.stringify(w),
        ContentType: 'application/json',
      }),
    );
  }

  async list(): Promise<TelemetryWatermark[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const res = await this.s3.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: WATERMARK_PREFIX, ContinuationToken: token }),
      );
      for (const o of res.Contents ?? []) keys.push(o.Key!);
      token = res.IsTruncated ? res.NextContinuationToken : undefined;
    } while (token);
    const out: TelemetryWatermark[] = [];
    for (const key of keys) {
      try {
        const res = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
        const w = JSON.parse(await res.Body!.transformToString()) as TelemetryWatermark;
        if (
          w.kind === 'vigil.telemetry-watermark/v1' &&
          !Number.isNaN(Date.parse(w.through)) &&
          !Number.isNaN(Date.parse(w.at))
        )
          out.push(w);
      } catch (e) {
        if ((e as Error).name !== 'NoSuchKey') throw e; // removed between list and get
      }
    }
    return out;
  }
}
