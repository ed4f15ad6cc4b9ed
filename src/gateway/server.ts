import { timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { z } from 'zod';
import type { Logger } from '../logging/logger';
import {
  FeedbackBatchSchema,
  OutcomeBatchSchema,
  type FeedbackInputSchema,
  type OutcomeInputSchema,
  CASE_ID_HASH,
  feedbackEvent,
  hashCaseId,
  outcomeEvent,
  siteParameter,
  caseRecord,
  type CaseRecord,
  type TelemetryReader,
  type WriteAheadLog,
} from '../telemetry';
import type { PredictionRecorderStats } from '../telemetry/prediction-recorder';
import type { ModelBackends } from './backends';
import { rowCaseIds, takeCaseIdInput } from './case-ids';
import { HttpError, digest, readJson, readRaw, send, sendBytes } from './http-util';
import { InferenceTelemetry } from './inference-telemetry';
import { inferResponseBytes, OipRequestError, parseInferRequest, toFeatureMatrix } from './oip';
import { readInferBody } from './oip-body';
import { RouteTables } from './route-table';
import { assign, type Assignment, type GatewayRouteTable } from './routing';
import { ShadowMirror } from './shadow-mirror';

export interface GatewayOptions {
  models: readonly ModelBackends[];
  tables: RouteTables;
  /** HMAC key for case ids: raw ids are held in memory only until their batch is encoded (milliseconds) and never written. */
  caseIdKey: string;
  /** Bearer token of the control API (route tables, case lookup, stats). */
  controlToken: string;
  /** Bearer token for outcome/feedback ingest; unset = the control token. */
  ingestToken?: string;
  wal: WriteAheadLog;
  /** Query side over uploaded segments; without it lookups see the local WAL only. */
  reader?: TelemetryReader;
  shadow?: ShadowMirror;
  /** Input sketches (drift) per model per bucket of this many ms (default 10 s; 0: none), of this relative accuracy. */
  sketchBucketMs?: number;
  sketchAlpha?: number;
  maxBodyBytes?: number;
  log?: Logger;
}

interface Counters {
  requests: number;
  /** 500s: bugs, not backend failures. */
  errors: number;
  /** Routed rows and mirrored rows that got no prediction (recorded as failure events). */
  failures: number;
}

/**
 * The inference gateway: OIP v2 inference on the production route, canary by cohort + stable case
 * hash, shadow mirroring after the response, telemetry to the WAL, and the authenticated control API.
 */
export class Gateway {
  readonly server: http.Server;
  readonly shadow: ShadowMirror;
  private readonly models: Map<string, ModelBackends>;
  private readonly counters: Counters = { requests: 0, errors: 0, failures: 0 };
  private readonly controlDigest: Buffer;
  private readonly ingestDigest: Buffer;
  private readonly telemetry: InferenceTelemetry;
  private readonly maxBody: number;
  /** `/v2/models/<name>/infer` with a plain name: the hot path skips the general router. */
  private static readonly INFER_PATH = /^\/v2\/models\/([A-Za-z0-9._~-]+)\/infer$/;

  constructor(private readonly opts: GatewayOptions) {
    this.models = new Map(opts.models.map((m) => [m.name, m]));
    this.shadow = opts.shadow ?? new ShadowMirror();
    this.controlDigest = digest(opts.controlToken);
    this.ingestDigest = digest(opts.ingestToken ?? opts.controlToken);
    this.maxBody = opts.maxBodyBytes ?? 4 * 1024 * 1024;
    this.telemetry = new InferenceTelemetry({
      wal: opts.wal,
      caseIdKey: opts.caseIdKey,
      sketchBucketMs: opts.sketchBucketMs ?? 10_000,
      ...(opts.sketchAlpha !== undefined ? { sketchAlpha: opts.sketchAlpha } : {}),
      sketchCentres: new Map(opts.models.flatMap((m) => (m.sketchCentres ? [[m.name, m.sketchCentres] as const] : []))),
      ...(opts.log ? { log: opts.log } : {}),
    });
    this.server = http.createServer((req, res) => {
      const m = req.method === 'POST' ? Gateway.INFER_PATH.exec(req.url ?? '') : null;
      if (m) this.inferRequest(m[1]!, req, res);
      else this.handle(req, res).catch((err: unknown) => this.fail(res, err));
    });
    this.server.keepAliveTimeout = 65_000;
  }

  listen(port: number, host = '127.0.0.1'): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve((this.server.address() as AddressInfo).port));
    });
  }

  /** Stops serving and hands every recorded prediction to the WAL (the caller closes the WAL). */
  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
    await this.telemetry.close();
  }

  /** Every prediction recorded so far handed to the WAL now (durable at its next group commit). */
  flushPredictions(): void {
    this.telemetry.flushPredictions();
  }

  /** Every prediction recorded so far written and fsynced (tests, shutdown). */
  async flushTelemetry(): Promise<void> {
    await this.telemetry.flush();
    await this.opts.wal.flush();
  }

  stats(): {
    gateway: Counters;
    shadow: ReturnType<ShadowMirror['stats']>;
    telemetry: { acknowledged: number; predictions: PredictionRecorderStats };
  } {
    return {
      gateway: { ...this.counters, failures: this.telemetry.failures },
      shadow: this.shadow.stats(),
      telemetry: { acknowledged: this.opts.wal.acknowledged, predictions: this.telemetry.stats() },
    };
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const pathname = q < 0 ? url : url.slice(0, q);
    const parts = pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const method = req.method ?? 'GET';

    if (parts[0] === 'v2' && parts[1] === 'models' && parts.length === 4 && parts[3] === 'infer' && method === 'POST') {
      return this.inferRequest(parts[2]!, req, res);
    }
    if (
      parts[0] === 'v2' &&
      parts[1] === 'health' &&
      method === 'GET' &&
      (parts[2] === 'live' || parts[2] === 'ready')
    ) {
      return send(res, 200, { live: true, ready: true });
    }
    if (parts[0] === 'v2' && parts[1] === 'models' && parts.length === 3 && method === 'GET') {
      const m = this.models.get(parts[2]!);
      if (!m) throw new HttpError(404, `unknown model "${parts[2]}"`);
      return send(res, 200, {
        name: m.name,
        versions: [...m.versions.keys()],
        platform: 'vigil-gateway',
        inputs: m.features.map((f) => ({ name: f, datatype: 'FP32', shape: [-1] })),
        outputs: [
          { name: 'score', datatype: 'FP64', shape: [-1] },
          { name: 'decision', datatype: 'BOOL', shape: [-1] },
        ],
      });
    }
    if (
      parts[0] === 'v2' &&
      parts[1] === 'telemetry' &&
      method === 'POST' &&
      (parts[2] === 'outcomes' || parts[2] === 'feedback') &&
      parts.length === 3
    ) {
      this.authorize(req, this.ingestDigest);
      return this.ingest(parts[2], req, res);
    }
    if (parts[0] === 'v2' && parts[1] === 'telemetry' && parts[2] === 'cases' && method === 'GET') {
      this.authorize(req, this.controlDigest);
      const raw = q < 0 ? null : new URLSearchParams(url.slice(q + 1)).get('case_id');
      const hash = parts.length === 4 ? parts[3]! : raw !== null ? hashCaseId(raw, this.opts.caseIdKey) : '';
      if (!CASE_ID_HASH.test(hash))
        throw new HttpError(400, 'give /v2/telemetry/cases/<case id hash> or ?case_id=<raw id>');
      return send(res, 200, { caseIdHash: hash, predictions: await this.lookupCase(hash) });
    }
    if (parts[0] === 'control' && parts[1] === 'routes' && parts.length === 3) {
      this.authorize(req, this.controlDigest);
      return this.control(parts[2]!, method, req, res);
    }
    if (parts[0] === 'control' && parts[1] === 'stats' && parts.length === 2 && method === 'GET') {
      this.authorize(req, this.controlDigest);
      return send(res, 200, this.stats());
    }
    throw new HttpError(404, `no route for ${method} ${pathname}`);
  }

  /**
   * The inference hot path. The body is read with plain callbacks (no promise per request) and the
   * route is looked up before it is read; errors end as the usual JSON answers.
   */
  private inferRequest(modelName: string, req: http.IncomingMessage, res: http.ServerResponse): void {
    // A monotonic clock in ms as a double: no BigInt per request.
    const t0 = performance.now();
    this.counters.requests++;
    const model = this.models.get(modelName);
    const table = this.opts.tables.get(modelName);
    if (!model || !table) return this.fail(res, new HttpError(404, `unknown model "${modelName}"`));
    readRaw(req, this.maxBody, (err, raw) => {
      if (err) return this.fail(res, err);
      let body: unknown;
      try {
        // Numeric tensors straight into Float64Arrays (no heap number per value); otherwise as JSON.parse reads it.
        body = readInferBody(raw!);
      } catch {
        return this.fail(res, new HttpError(400, 'body is not valid JSON'));
      }
      this.infer(modelName, model, table, body, res, t0).catch((e: unknown) => this.fail(res, e));
    });
  }

  private async infer(
    modelName: string,
    model: ModelBackends,
    table: GatewayRouteTable,
    body: unknown,
    res: http.ServerResponse,
    t0: number,
  ): Promise<void> {
    const parsed = parseInferRequest(body);
    const { request, caseIds: idTensor } = takeCaseIdInput(parsed);
    const matrix = toFeatureMatrix(request, model.features);
    const caseIds = rowCaseIds(parsed.parameters.case_id, idTensor, matrix.rows);
    // One assignment per request (one backend call): `parameters.case_id` is the routing key.
    const a = assign(table, parsed.parameters.case_id, parsed.parameters, modelName);
    const backend = model.versions.get(a.modelVersion);
    if (!backend)
      throw this.failed(modelName, a, table.version, caseIds, t0, 503, `version ${a.modelVersion} is not loaded`);
    const input = { featureNames: matrix.featureNames, features: matrix.features, rows: matrix.rows, caseIds };
    let scores: Float64Array;
    try {
      scores = await backend.score(input);
    } catch (err) {
      const why = `model ${modelName}@${a.modelVersion} failed: ${(err as Error).message}`;
      throw this.failed(modelName, a, table.version, caseIds, t0, 502, why);
    }
    const latencyMs = performance.now() - t0;
    // The prediction's instant is taken before the answer leaves: a client that got the answer at t never
    // finds its prediction stamped after t (read after the write, a descheduled process could stamp it later).
    const atMs = Date.now();
    const { threshold, version: routeVersion } = table;
    const bytes = inferResponseBytes({
      model: modelName,
      version: a.modelVersion,
      id: parsed.id,
      route: a.route,
      routeVersion,
      scores,
      threshold,
    });
    sendBytes(res, 200, bytes, a.modelVersion);

    // Everything below happens after the response was handed to the socket. Raw case ids go to the
    // recorder, which hashes them when it encodes the batch; only hashes are written. Every row is a prediction.
    const site = siteParameter(parsed.parameters.site);
    const modelVersion = a.modelVersion;
    const route = a.route;
    const served = this.telemetry.served({
      atMs,
      model: modelName,
      modelVersion,
      route,
      routeVersion,
      caseIds,
      scores,
      threshold,
      latencyMs,
      matrix,
      site,
    });
    if (a.shadow) {
      const shadowBackend = model.versions.get(a.shadow);
      // The mirror reuses the decoded feature matrix; its events are made from the production ones.
      const t = this.telemetry;
      if (shadowBackend) this.shadow.submit(shadowBackend, input, t.onShadowScored, served, t.onShadowFailed);
    }
  }

  /** Records the failure of a routed request (every row) and returns the error its client gets. */
  private failed(
    model: string,
    a: Assignment,
    routeVersion: number,
    caseIds: readonly string[],
    t0: number,
    status: number,
    reason: string,
  ): HttpError {
    const { modelVersion, route } = a;
    const latencyMs = performance.now() - t0;
    this.telemetry.failed({ model, modelVersion, route, routeVersion, caseIds, status, latencyMs, reason });
    return new HttpError(status, reason);
  }

  private async ingest(
    kind: 'outcomes' | 'feedback',
    req: http.IncomingMessage,
    res: http.ServerResponse,
  ): Promise<void> {
    const body = await readJson(req, this.maxBody);
    const schema: z.ZodType<unknown[]> = kind === 'outcomes' ? OutcomeBatchSchema : FeedbackBatchSchema;
    const parsed = schema.safeParse(body);
    if (!parsed.success) {
      throw new HttpError(400, `invalid ${kind}`, {
        issues: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
      });
    }
    const at = new Date().toISOString();
    const key = this.opts.caseIdKey;
    const events =
      kind === 'outcomes'
        ? (parsed.data as Array<z.output<typeof OutcomeInputSchema>>).map((e) => outcomeEvent(e, key, at))
        : (parsed.data as Array<z.output<typeof FeedbackInputSchema>>).map((e) => feedbackEvent(e, key, at));
    try {
      await this.opts.wal.append(events); // acknowledged only once durable
    } catch (err) {
      this.opts.log?.error({ err }, 'telemetry ingest write failed');
      throw new HttpError(503, 'telemetry could not be written durably; retry');
    }
    send(res, 202, { accepted: events.length, eventIds: events.map((e) => e.eventId) });
  }

  private async control(
    model: string,
    method: string,
    req: http.IncomingMessage,
    res: http.ServerResponse,
  ): Promise<void> {
    if (method === 'GET') {
      const t = this.opts.tables.get(model);
      if (!t) throw new HttpError(404, `no route table for "${model}"`);
      res.setHeader('etag', `"${t.version}"`);
      return send(res, 200, t);
    }
    if (method !== 'PUT') throw new HttpError(405, 'GET or PUT');
    const ifMatch = req.headers['if-match'];
    let expected: number | null | undefined;
    if (ifMatch !== undefined) {
      const m = /^"?(\d+|none)"?$/.exec(ifMatch.trim());
      if (!m) throw new HttpError(400, 'If-Match must be "<version>" or "none"');
      expected = m[1] === 'none' ? null : Number(m[1]);
    }
    const result = await this.opts.tables.swap(model, await readJson(req, this.maxBody), expected);
    if (!result.ok) return send(res, result.status, { error: result.reason, current: result.current });
    res.setHeader('etag', `"${result.table.version}"`);
    send(res, 200, { ...result.table, changed: result.changed });
  }

  async lookupCase(caseIdHash: string): Promise<CaseRecord[]> {
    const found = new Map<string, CaseRecord>();
    for (const e of this.opts.wal.scanLocal()) {
      if (e.kind === 'prediction' && e.caseIdHash === caseIdHash) found.set(e.eventId, caseRecord(e));
    }
    // Uploaded segments: an event may be in both while its segment is being removed locally.
    const remote = this.opts.reader ? await this.opts.reader.lookupCase(caseIdHash) : [];
    const all = [...found.values(), ...remote];
    const seen = new Set<string>();
    return all
      .filter((r) => {
        const k = `${r.at}|${r.modelVersion}|${r.route}|${r.score}`;
        if (seen.has(k)) return false;
        seen.add(k);
        return true;
      })
      .sort((x, y) => x.at.localeCompare(y.at));
  }

  private authorize(req: http.IncomingMessage, expected: Buffer): void {
    const h = req.headers.authorization ?? '';
    const token = h.startsWith('Bearer ') ? h.slice(7) : '';
    if (!token || !timingSafeEqual(digest(token), expected)) {
      throw new HttpError(401, 'missing or invalid bearer token', {});
    }
  }

  private fail(res: http.ServerResponse, err: unknown): void {
    if (err instanceof OipRequestError) return send(res, 400, { error: err.message, issues: err.issues });
    if (err instanceof HttpError) {
      if (err.status === 401) res.setHeader('www-authenticate', 'Bearer');
      return send(res, err.status, { error: err.message, ...err.extra });
    }
    this.counters.errors++;
    this.opts.log?.error({ err }, 'gateway request failed');
    send(res, 500, { error: 'internal error' });
  }
}
