import { createHmac, createSecretKey, randomUUID, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import type { LogSketch } from '../stats/log-sketch';
import { HmacSha256 } from './hmac-sha256';

/**
 * Telemetry events as they are written to the WAL and to S3 segments. Case ids appear only as
 * `caseIdHash` (HMAC-SHA256 with the gateway's key): raw ids never reach a file or an object.
 */
export const CASE_ID_HASH = /^[0-9a-f]{64}$/;

export function hashCaseId(caseId: string, key: string | KeyObject): string {
  return createHmac('sha256', key).update(caseId, 'utf8').digest('hex');
}

/** The case-id key as a KeyObject, made once: same HMAC as the string, without re-importing it per call. */
export function caseIdKeyObject(key: string): KeyObject {
  return createSecretKey(Buffer.from(key, 'utf8'));
}

/**
 * `hashCaseId` for many ids under one key (the gateway's prediction encoder): the same HMAC-SHA256, from the key's
 * inner and outer pad blocks compressed once (`HmacSha256`): two SHA-256 compressions per id of up to 55 bytes,
 * no native call or object per id (profiled at 1,000-row batches: 1.6× faster than two one-shot node:crypto hashes
 * per id, which were ~46 % of the encoder thread).
 */
export class CaseIdHasher {
  private readonly hmac: HmacSha256;

  constructor(key: string) {
    this.hmac = new HmacSha256(key);
  }

  hash(caseId: string): string {
    return this.hmac.hex(caseId);
  }
}

export const ROUTES = ['production', 'canary', 'shadow'] as const;
export type Route = (typeof ROUTES)[number];

/** What every event about one routed request names: which case, which model version, on which route. */
interface RoutedRequest {
  eventId: string;
  at: string;
  model: string;
  modelVersion: string;
  route: Route;
  /** Route table version the assignment was made under. */
  routeVersion: number;
  caseIdHash: string;
}

export interface PredictionEvent extends RoutedRequest {
  kind: 'prediction';
  score: number;
  /** score ≥ threshold, when the route table names a threshold. */
  decision: boolean | null;
  latencyMs: number;
  /** Input quality flags raised by the gateway (e.g. missing_feature, out_of_range). */
  quality: string[];
  /** The request's `site` parameter (at most 128 characters); absent when it had none, and in older events. */
  site?: string;
}

/**
 * The gateway's WAL form of a batch of prediction events: one line, one column per field (the encoder
 * writes it with one JSON.stringify of arrays: no per-event string building, the gateway's largest
 * telemetry cost per request). Only the local WAL holds it: `parseSegment` expands it into
 * PredictionEvents, whose ids are `<eventId>.<position>` (stable however often the line is read), and
 * segments in S3 hold those events, one per line. The batch's own id is called `eventId` so that a gateway from
 * before batch lines, restarted on this WAL, keeps a batch line as an event of a kind it does not know instead
 * of dropping it as unreadable (its uploader cannot index it by window, but the predictions are not lost, and
 * this version's parseSegment expands them from the segment).
 *
 * A column whose rows all hold one value (a batch request's rows share instant, model, route, latency, site…) may
 * be written once under `same` instead (`encodeRowBatch`): about half the bytes of a 1,000-row line. A reader
 * takes `same[column]` for every row when the column's array is absent. Lines without `same` read as before.
 */
export interface PredictionBatchLine {
  kind: 'predictions';
  /** The batch's id (see above). */
  eventId: string;
  at: string[];
  model: string[];
  modelVersion: string[];
  route: Route[];
  routeVersion: number[];
  caseIdHash: string[];
  score: number[];
  decision: Array<boolean | null>;
  latencyMs: number[];
  quality: string[][];
  /** Optional column: null where the request named no site. */
  site?: Array<string | null>;
  /** Columns whose every row holds this one value (their arrays are then absent). */
  same?: Partial<PredictionBatchRow>;
}

/** One row of a prediction batch line: each column's value. */
export interface PredictionBatchRow {
  at: string;
  model: string;
  modelVersion: string;
  route: Route;
  routeVersion: number;
  caseIdHash: string;
  score: number;
  decision: boolean | null;
  latencyMs: number;
  quality: string[];
  site: string | null;
}

const BATCH_COLUMNS = [
  'at',
  'model',
  'modelVersion',
  'route',
  'routeVersion',
  'caseIdHash',
  'score',
  'decision',
  'latencyMs',
  'quality',
] as const;

/** The prediction events of a parsed batch line, in order; null if it is not a whole batch (columns missing or of unequal length). */
export function expandPredictionBatch(line: Record<string, unknown>): PredictionEvent[] | null {
  const b = line as Partial<PredictionBatchLine> & Record<string, unknown>;
  if (typeof b.eventId !== 'string' || !Array.isArray(b.caseIdHash)) return null;
  const same = b.same ?? {};
  if (typeof same !== 'object' || same === null || Array.isArray(same)) return null;
  const n = b.caseIdHash.length;
  // Each column as a function of the row: its array, or its one shared value.
  const cols = {} as { [C in (typeof BATCH_COLUMNS)[number] | 'site']: (i: number) => unknown };
  for (const c of [...BATCH_COLUMNS, 'site'] as const) {
    const col = b[c];
    const one = (same as Record<string, unknown>)[c];
    if (Array.isArray(col)) {
      if (col.length !== n) return null;
      cols[c] = (i) => col[i];
    } else if (col === undefined && Array.isArray(one)) cols[c] = () => one.slice();
    else if (col === undefined && one !== undefined) cols[c] = () => one;
    else if (col === undefined && c === 'site') cols[c] = () => undefined;
    else return null;
  }
  const batchId = b.eventId;
  const events = new Array<PredictionEvent>(n);
  for (let i = 0; i < n; i++) {
    events[i] = {
      kind: 'prediction',
      eventId: `${batchId}.${i}`,
      at: cols.at(i) as string,
      model: cols.model(i) as string,
      modelVersion: cols.modelVersion(i) as string,
      route: cols.route(i) as Route,
      routeVersion: cols.routeVersion(i) as number,
      caseIdHash: cols.caseIdHash(i) as string,
      score: cols.score(i) as number,
      decision: cols.decision(i) as boolean | null,
      latencyMs: cols.latencyMs(i) as number,
      quality: cols.quality(i) as string[],
    };
    const s = cols.site(i);
    if (typeof s === 'string') events[i]!.site = s;
  }
  return events;
}

export const OUTCOME_SOURCES = ['clinician_review', 'downstream_outcome', 'complaint'] as const;
export type OutcomeSource = (typeof OUTCOME_SOURCES)[number];

export interface OutcomeEvent {
  kind: 'outcome';
  eventId: string;
  /** When the gateway accepted it. */
  at: string;
  model: string;
  caseIdHash: string;
  label: 0 | 1;
  source: OutcomeSource;
  /** When the ground truth was established (clinically); lag = observedAt − prediction time. */
  observedAt: string;
}

export const FEEDBACK_TYPES = ['override', 'alert_dismissed'] as const;

export interface FeedbackEvent {
  kind: 'feedback';
  eventId: string;
  at: string;
  model: string;
  caseIdHash: string;
  type: (typeof FEEDBACK_TYPES)[number];
  /** Version the clinician saw, when the client knows it. */
  modelVersion: string | null;
  observedAt: string;
  reason: string | null;
}

/**
 * A request the gateway routed but could not answer with a prediction: the model backend failed or was
 * not loaded (production/canary: the client got a 5xx), or a shadow mirror failed or timed out (the client
 * never noticed). The denominator of the error-rate guardrail is predictions + failures on the route.
 */
export interface FailureEvent extends RoutedRequest {
  kind: 'failure';
  /** HTTP status the client got (production/canary), or null for a shadow mirror. */
  status: number | null;
  latencyMs: number;
  reason: string;
}

/**
 * The inputs one gateway served for a model over one bucket of time, as per-feature relative-accuracy sketches
 * (src/stats/log-sketch.ts): what input drift is measured from, with no case-level value written. `at` is the
 * end of the bucket (when it was stamped), so it covers predictions made in [at − seconds, at).
 */
export interface SketchEvent {
  kind: 'sketch';
  eventId: string;
  at: string;
  seconds: number;
  model: string;
  /** Feature rows summarised (a request may carry several). */
  rows: number;
  /** Per feature; `missing` counts the nulls the gateway imputed. */
  features: Record<string, LogSketch>;
  /**
   * Exact counts per value (the value's JavaScript string) of each feature whose values in the bucket are integers,
   * at most MAX_SKETCH_VALUES distinct ones; null for any other feature (no measured value is ever written). Discrete inputs are compared on these. Absent in events of
   * older gateways.
   */
  values?: Record<string, Record<string, number> | null>;
  /**
   * Rows per site (`siteParameter` of the request; rows without one are not counted); absent in events of older
   * gateways. At most MAX_SKETCH_SITES distinct sites a bucket: rows of further ones are counted in
   * `siteOverflow` instead.
   */
  sites?: Record<string, number>;
  siteOverflow?: number;
}

/** Distinct values of one feature a sketch bucket counts exactly (src/stats/feature-drift MAX_DISCRETE_VALUES). */
export const MAX_SKETCH_VALUES = 32;

/** Distinct sites one sketch bucket counts (the gateway's memory per bucket stays bounded whatever clients send). */
export const MAX_SKETCH_SITES = 256;

/** The site a request names, as telemetry records it: its `site` parameter if that is a string of at most 128 characters. */
export function siteParameter(value: unknown): string | null {
  return typeof value === 'string' && value.length <= 128 ? value : null;
}

export type TelemetryEvent = PredictionEvent | OutcomeEvent | FeedbackEvent | FailureEvent | SketchEvent;

const caseRef = {
  /** Raw case id: hashed on arrival, never stored. */
  case_id: z.string().min(1).max(256).optional(),
  case_id_hash: z.string().regex(CASE_ID_HASH, 'must be a 64-character lowercase hex HMAC-SHA256').optional(),
};
const eventId = z
  .string()
  .min(8)
  .max(128)
  .regex(/^[A-Za-z0-9._:-]+$/)
  .optional();

/** Outcome as clients send it (POST /v2/telemetry/outcomes). */
export const OutcomeInputSchema = z
  .object({
    event_id: eventId,
    model: z.string().min(1).max(64),
    ...caseRef,
    label: z.union([z.literal(0), z.literal(1)]),
    source: z.enum(OUTCOME_SOURCES),
    observed_at: z.iso.datetime({ offset: true }),
  })
  .strict()
  .refine((o) => (o.case_id === undefined) !== (o.case_id_hash === undefined), {
    message: 'exactly one of case_id, case_id_hash',
    path: ['case_id'],
  });

export const FeedbackInputSchema = z
  .object({
    event_id: eventId,
    model: z.string().min(1).max(64),
    ...caseRef,
    type: z.enum(FEEDBACK_TYPES),
    model_version: z.string().min(1).max(64).optional(),
    observed_at: z.iso.datetime({ offset: true }),
    reason: z.string().max(2000).optional(),
  })
  .strict()
  .refine((o) => (o.case_id === undefined) !== (o.case_id_hash === undefined), {
    message: 'exactly one of case_id, case_id_hash',
    path: ['case_id'],
  });

/** One event, or a batch of up to 10,000 under `events`. */
export function batchOf<T extends z.ZodType>(schema: T) {
  return z.union([
    schema.transform((e) => [e] as Array<z.output<T>>),
    z
      .object({ events: z.array(schema).min(1).max(10_000) })
      .strict()
      .transform((b) => b.events),
  ]);
}
export const OutcomeBatchSchema = batchOf(OutcomeInputSchema);
export const FeedbackBatchSchema = batchOf(FeedbackInputSchema);

/** The head every reported event carries: its id (the reporter's, else a new one), arrival, model, keyed case hash. */
function reportedEvent<K extends 'outcome' | 'feedback'>(
  kind: K,
  input: {
    event_id?: string | undefined;
    model: string;
    case_id?: string | undefined;
    case_id_hash?: string | undefined;
  },
  key: string,
  at: string,
) {
  return {
    kind,
    eventId: input.event_id ?? randomUUID(),
    at,
    model: input.model,
    caseIdHash: input.case_id_hash ?? hashCaseId(input.case_id!, key),
  };
}

export function outcomeEvent(input: z.output<typeof OutcomeInputSchema>, key: string, at: string): OutcomeEvent {
  return {
    ...reportedEvent('outcome', input, key, at),
    label: input.label,
    source: input.source,
    observedAt: new Date(input.observed_at).toISOString(),
  };
}

export function feedbackEvent(input: z.output<typeof FeedbackInputSchema>, key: string, at: string): FeedbackEvent {
  return {
    ...reportedEvent('feedback', input, key, at),
    type: input.type,
    modelVersion: input.model_version ?? null,
    observedAt: new Date(input.observed_at).toISOString(),
    reason: input.reason ?? null,
  };
}

/** Hourly windows (UTC), named `YYYY-MM-DDTHH`. */
export function windowOf(at: string): string {
  return at.slice(0, 13);
}
