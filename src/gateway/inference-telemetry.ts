/**
 * The gateway's telemetry of served requests: one prediction per row (production, canary or shadow),
 * input sketches per model, and failure events per row for requests and mirrors that got no scores.
 * Everything here runs after the answer was handed to the socket.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '../logging/logger';
import { hashCaseId, type FailureEvent, type Route, type SketchEvent, type WriteAheadLog } from '../telemetry';
import {
  PredictionRecorder,
  type PredictionRecord,
  type PredictionRecorderStats,
} from '../telemetry/prediction-recorder';
import { FeatureSketcher } from './feature-sketches';
import type { RowBatch } from '../telemetry/row-batch';
import { OUT_OF_RANGE, type FeatureMatrix } from './oip';

/** A served request's rows, kept for its shadow mirror's events. */
export interface ServedBatch {
  batch: RowBatch;
  /** Its rows' records when they were recorded in-thread (a mirror reuses their case-id hashes); null: on the encoder thread. */
  rows: PredictionRecord[] | null;
}

/** What a served request adds to telemetry. */
export interface Served {
  atMs: number;
  model: string;
  modelVersion: string;
  route: Route;
  routeVersion: number;
  caseIds: readonly string[];
  scores: Float64Array;
  threshold: number | undefined;
  latencyMs: number;
  matrix: FeatureMatrix;
  site: string | null;
}

/** A routed request or mirror that got no scores: one failure event per row. */
export interface Failure {
  model: string;
  modelVersion: string;
  route: Route;
  routeVersion: number;
  caseIds: readonly string[];
  status: number | null;
  reason: string;
  latencyMs: number;
}

export interface InferenceTelemetryOptions {
  wal: WriteAheadLog;
  caseIdKey: string;
  /** Input sketches per model per bucket of this many ms (0: none), of this relative accuracy, around these centres. */
  sketchBucketMs: number;
  sketchAlpha?: number;
  sketchCentres: ReadonlyMap<string, Readonly<Record<string, number>>>;
  log?: Logger;
}

const NO_FLAGS: readonly string[] = Object.freeze([]);

export class InferenceTelemetry {
  /** Failure events written (rows). */
  failures = 0;
  private readonly predictions: PredictionRecorder;
  private readonly sketches: FeatureSketcher | null;
  private readonly sketchTimer: NodeJS.Timeout | null;

  constructor(private readonly opts: InferenceTelemetryOptions) {
    const { wal, log } = opts;
    this.sketches =
      opts.sketchBucketMs > 0
        ? new FeatureSketcher({
            bucketMs: opts.sketchBucketMs,
            ...(opts.sketchAlpha !== undefined ? { alpha: opts.sketchAlpha } : {}),
            centres: opts.sketchCentres,
            emit: this.emitSketch,
          })
        : null;
    this.predictions = new PredictionRecorder({ wal, caseIdKey: opts.caseIdKey, log });
    // Closes idle buckets: a bucket is written within a second of its end even when no request follows it.
    this.sketchTimer = this.sketches ? setInterval(() => this.sketches!.rollover(Date.now()), 1000).unref() : null;
  }

  /** Records every row of a served request as a prediction and sketches its inputs. */
  served(s: Served): ServedBatch {
    const n = s.caseIds.length;
    const m = s.matrix;
    const quality =
      m.quality.length === 0 ? null : n === 1 ? [m.quality] : Array.from({ length: n }, (_, i) => rowQuality(m, i));
    const batch: RowBatch = {
      atMs: s.atMs,
      model: s.model,
      modelVersion: s.modelVersion,
      route: s.route,
      routeVersion: s.routeVersion,
      latencyMs: s.latencyMs,
      site: s.site,
      threshold: s.threshold,
      caseIds: s.caseIds,
      scores: s.scores,
      offset: 0,
      quality,
    };
    const rows = this.predictions.recordRows(batch);
    // Sketched here, also for large batches: sketching them on the encoder thread (or on a thread of its own) was
    // measured and did not pay on the 2-vCPU machine (docs/benchmarks.md, eighth and ninth passes).
    this.sketches?.add(s.model, m, s.atMs, s.site);
    return { batch, rows };
  }

  private readonly emitSketch = (e: SketchEvent): void =>
    void this.opts.wal
      .append([e], { relaxed: true })
      .catch((err: unknown) => this.opts.log?.error({ err, model: e.model }, 'input sketch telemetry lost'));

  /** One handler for every mirrored request (no closure per request): records each row's shadow prediction. */
  readonly onShadowScored = (
    scores: Float64Array,
    offset: number,
    latencyMs: number,
    prod: ServedBatch,
    version: string,
  ): void => {
    const rows = prod.rows;
    if (rows === null) {
      this.predictions.recordRows({ ...prod.batch, modelVersion: version, route: 'shadow', latencyMs, scores, offset });
      return;
    }
    const t = prod.batch.threshold;
    for (let i = 0; i < rows.length; i++) {
      const p = rows[i]!;
      const score = scores[offset + i]!;
      this.predictions.record({
        atMs: p.atMs,
        model: p.model,
        modelVersion: version,
        route: 'shadow',
        routeVersion: p.routeVersion,
        caseId: p.caseId,
        score,
        decision: t === undefined ? null : score >= t,
        latencyMs,
        quality: p.quality,
        site: p.site,
        mirrorOf: p,
      });
    }
  };

  readonly onShadowFailed = (reason: string, latencyMs: number, prod: ServedBatch, version: string): void => {
    const b = prod.batch;
    this.failed({
      model: b.model,
      modelVersion: version,
      route: 'shadow',
      routeVersion: b.routeVersion,
      caseIds: b.caseIds,
      status: null,
      latencyMs,
      reason,
    });
  };

  /**
   * Rows that got no prediction, as failure events (the error-rate guardrail's numerator, counted in rows
   * like predictions). Rare, so written straight to the WAL; like predictions acknowledged to no one.
   */
  failed(f: Failure): void {
    const at = new Date().toISOString();
    const events = f.caseIds.map((caseId): FailureEvent => ({
      kind: 'failure',
      eventId: randomUUID(),
      at,
      model: f.model,
      modelVersion: f.modelVersion,
      route: f.route,
      routeVersion: f.routeVersion,
      caseIdHash: hashCaseId(caseId, this.opts.caseIdKey),
      status: f.status,
      latencyMs: f.latencyMs,
      reason: f.reason.slice(0, 500),
    }));
    this.failures += events.length;
    this.opts.wal
      .append(events, { relaxed: true })
      .catch((err: unknown) => this.opts.log?.error({ err }, 'failure telemetry lost'));
  }

  stats(): PredictionRecorderStats {
    return this.predictions.stats();
  }

  /** Every prediction recorded so far handed to the WAL now (durable at its next group commit). */
  flushPredictions(): void {
    this.predictions.flush();
  }

  /** Predictions and the current sketch bucket handed to the WAL (batches on the encoder thread: once it has encoded them). */
  async flush(): Promise<void> {
    this.predictions.flush();
    this.sketches?.flush();
    await this.predictions.drain();
  }

  async close(): Promise<void> {
    if (this.sketchTimer) clearInterval(this.sketchTimer);
    this.sketches?.flush();
    await this.predictions.close();
  }
}

/** A row's own input-quality flags, in the request's order (only called when the request has some). */
function rowQuality(m: FeatureMatrix, r: number): readonly string[] {
  if (m.quality.length === 0) return NO_FLAGS;
  const F = m.featureNames.length;
  let missing = false;
  let outOfRange = false;
  for (let k = r * F; k < (r + 1) * F; k++) {
    if (m.missing !== null && m.missing[k] === 1) missing = true;
    else if (Math.abs(m.features[k]!) > OUT_OF_RANGE) outOfRange = true;
  }
  if (!missing && !outOfRange) return NO_FLAGS;
  return m.quality.filter((q) => (q === 'missing_value' ? missing : outOfRange));
}
