/**
 * Open Inference Protocol v2 (KServe v2) REST shapes as the gateway speaks them: request inputs are
 * named tensors {name, shape, datatype, data}; `parameters.case_id` is required (the request's routing
 * key, and the case of a one-row request), other request parameters are cohort attributes (site,
 * modality, urgency, …). A batch names each row's case with a BYTES input tensor `case_id` of shape
 * [N] (see `rowCaseIds`); without one, row i of an N-row batch is the case `<parameters.case_id>#<i>`.
 */
import { z } from 'zod';

const NUMERIC = [
  'FP32',
  'FP64',
  'FP16',
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'UINT8',
  'UINT16',
  'UINT32',
  'UINT64',
] as const;
const DATATYPES = [...NUMERIC, 'BOOL', 'BYTES'] as const;

const TensorSchema = z
  .object({
    name: z.string().min(1).max(256),
    shape: z.array(z.number().int().min(0)).min(1).max(4),
    datatype: z.enum(DATATYPES),
    parameters: z.record(z.string(), z.unknown()).optional(),
    // null marks a missing value (imputed, and flagged in telemetry); strings only in BYTES tensors (case ids).
    data: z
      .array(z.union([z.number(), z.null(), z.string().max(256), z.array(z.union([z.number(), z.null()]))]))
      .max(1_000_000),
  })
  .passthrough()
  .refine((t) => t.datatype === 'BYTES' || !t.data.some((v) => typeof v === 'string'), {
    message: 'string data only in a BYTES tensor',
    path: ['data'],
  });

export const InferRequestSchema = z
  .object({
    id: z.string().max(256).optional(),
    parameters: z
      .object({ case_id: z.string().min(1).max(256) })
      .catchall(z.union([z.string().max(256), z.number(), z.boolean()])),
    inputs: z.array(TensorSchema).min(1).max(4096),
    outputs: z.array(z.object({ name: z.string() }).passthrough()).optional(),
  })
  .passthrough();
export type InferRequest = z.infer<typeof InferRequestSchema>;

/** A request the gateway refuses, with the reason(s) it gives back (400). */
export class OipRequestError extends Error {
  override name = 'OipRequestError';
  constructor(
    message: string,
    readonly issues: Array<{ path: string; message: string }> = [],
  ) {
    super(message);
  }
}

export interface FeatureMatrix {
  featureNames: readonly string[];
  /** Row-major [rows, featureNames.length]. */
  features: Float32Array;
  rows: number;
  /** Input quality flags for telemetry. */
  quality: string[];
  /** 1 where the request sent null (imputed as 0 for the model), same layout as `features`; null when nothing was missing. */
  missing: Uint8Array | null;
}

/** |value| beyond this (standardised features) is flagged out_of_range; the model still scores it. */
export const OUT_OF_RANGE = 10;

export function parseInferRequest(body: unknown): InferRequest {
  // The common shape is checked by hand (no allocation); anything else, valid or not, goes through
  // zod, which produces the 400 issues. The fast check is stricter than the schema, never looser.
  if (isCommonInferRequest(body)) return body;
  // zod judges the lists `readInferBody` scanned into Float64Arrays as the plain lists JSON.parse makes.
  if (isPlainObject(body) && Array.isArray(body.inputs))
    for (const t of body.inputs as unknown[])
      if (isPlainObject(t) && t.data instanceof Float64Array) t.data = Array.from(t.data);
  const parsed = InferRequestSchema.safeParse(body);
  if (!parsed.success) {
    throw new OipRequestError(
      'invalid inference request',
      parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
    );
  }
  return parsed.data;
}

const DATATYPE_SET: ReadonlySet<string> = new Set(DATATYPES);
const NUMERIC_SET: ReadonlySet<string> = new Set(NUMERIC);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isShortString(v: unknown, min: number, max: number): v is string {
  return typeof v === 'string' && v.length >= min && v.length <= max;
}

/** A value that z.number() accepts and JSON can carry. */
function isNum(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/** Exactly what InferRequestSchema accepts, restricted to shapes seen in practice (a subset of it). */
function isCommonInferRequest(b: unknown): b is InferRequest {
  if (!isPlainObject(b)) return false;
  if (b.id !== undefined && !isShortString(b.id, 0, 256)) return false;
  const p = b.parameters;
  if (!isPlainObject(p) || !isShortString(p.case_id, 1, 256)) return false;
  for (const k in p) {
    if (k === 'case_id' || !Object.prototype.hasOwnProperty.call(p, k)) continue;
    const v = p[k];
    if (!(typeof v === 'string' ? v.length <= 256 : isNum(v) || typeof v === 'boolean')) return false;
  }
  const inputs = b.inputs;
  if (!Array.isArray(inputs) || inputs.length < 1 || inputs.length > 4096) return false;
  for (let i = 0; i < inputs.length; i++) {
    const t: unknown = inputs[i];
    if (
      !isPlainObject(t) ||
      !isShortString(t.name, 1, 256) ||
      typeof t.datatype !== 'string' ||
      !DATATYPE_SET.has(t.datatype)
    )
      return false;
    const shape = t.shape;
    if (!Array.isArray(shape) || shape.length < 1 || shape.length > 4) return false;
    for (let k = 0; k < shape.length; k++) {
      const d: unknown = shape[k];
      if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) return false;
    }
    if (t.parameters !== undefined && !isPlainObject(t.parameters)) return false;
    const data = t.data;
    // A Float64Array (`readInferBody`): finite numbers of a numeric tensor, at most 1,000,000 of them.
    if (data instanceof Float64Array && NUMERIC_SET.has(t.datatype)) continue;
    if (!Array.isArray(data) || data.length > 1_000_000) return false;
    if (t.datatype === 'BYTES') {
      for (let k = 0; k < data.length; k++) if (!isShortString(data[k], 0, 256)) return false;
      continue;
    }
    for (let k = 0; k < data.length; k++) {
      const v: unknown = data[k];
      if (v === null || isNum(v)) continue;
      if (!Array.isArray(v)) return false;
      for (let j = 0; j < v.length; j++) if (v[j] !== null && !isNum(v[j])) return false;
    }
  }
  if (b.outputs !== undefined) {
    if (!Array.isArray(b.outputs)) return false;
    for (const o of b.outputs as unknown[]) if (!isPlainObject(o) || typeof o.name !== 'string') return false;
  }
  return true;
}

/**
 * Two layouts: one tensor per feature (named by the feature, shape [N] or [N, 1]), or one 2-D tensor
 * [N, F] whose columns are `parameters.feature_names` or, without it, the model's declared features.
 */
export function toFeatureMatrix(req: InferRequest, modelFeatures: readonly string[]): FeatureMatrix {
  // Flags in order of first occurrence.
  const flags: string[] = [];
  let missingValue = false;
  let outOfRange = false;
  const quality = (): string[] => flags;
  const flat = (t: InferRequest['inputs'][number]): ArrayLike<number | null> => {
    if (!NUMERIC_SET.has(t.datatype))
      throw new OipRequestError(`input "${t.name}": datatype ${t.datatype} is not numeric`);
    // A Float64Array from `readInferBody` is flat already.
    let d = t.data as ArrayLike<number | null>;
    if (!ArrayBuffer.isView(d))
      for (let i = 0; i < d.length; i++) {
        if (Array.isArray(d[i])) {
          // Numeric tensors carry no strings (the schema and the fast check refuse them).
          d = t.data.flat() as Array<number | null>;
          break;
        }
      }
    let n = 1;
    for (const s of t.shape) n *= s;
    if (d.length !== n)
      throw new OipRequestError(`input "${t.name}": shape [${t.shape.join(', ')}] needs ${n} values, got ${d.length}`);
    return d;
  };
  let missingMask: Uint8Array | null = null;
  const put = (out: Float32Array, i: number, v: number | null): void => {
    if (v === null) {
      if (!missingValue) {
        missingValue = true;
        flags.push('missing_value');
      }
      (missingMask ??= new Uint8Array(out.length))[i] = 1;
      out[i] = 0;
    } else {
      if (!outOfRange && (v > OUT_OF_RANGE || v < -OUT_OF_RANGE)) {
        outOfRange = true;
        flags.push('out_of_range');
      }
      out[i] = v;
    }
  };

  if (req.inputs.length === 1 && req.inputs[0]!.shape.length === 2 && !modelFeatures.includes(req.inputs[0]!.name)) {
    const t = req.inputs[0]!;
    const [rows, cols] = t.shape as [number, number];
    const names = t.parameters?.feature_names ?? modelFeatures;
    if (!Array.isArray(names) || !names.every((n) => typeof n === 'string'))
      throw new OipRequestError(`input "${t.name}": parameters.feature_names must be a list of strings`);
    if (names.length !== cols)
      throw new OipRequestError(`input "${t.name}": ${cols} columns but ${names.length} feature names`);
    const missing = modelFeatures.filter((f) => !names.includes(f));
    if (missing.length) throw new OipRequestError(`missing features: ${missing.join(', ')}`);
    const d = flat(t);
    const out = new Float32Array(rows * cols);
    if (d instanceof Float64Array) {
      // Scanned from the body (`readInferBody`): no nulls; converted natively, then one pass for the range flag.
      out.set(d);
      for (let i = 0; i < d.length; i++)
        if (d[i]! > OUT_OF_RANGE || d[i]! < -OUT_OF_RANGE) {
          flags.push('out_of_range');
          break;
        }
    } else for (let i = 0; i < d.length; i++) put(out, i, d[i]!);
    return { featureNames: names as string[], features: out, rows, quality: quality(), missing: missingMask };
  }

  const F = modelFeatures.length;
  // Inputs in the model's feature order (the usual case) need no lookup table.
  let ordered = req.inputs.length === F;
  for (let k = 0; ordered && k < F; k++) ordered = req.inputs[k]!.name === modelFeatures[k];
  let pick: (f: string, k: number) => InferRequest['inputs'][number] | undefined;
  if (ordered) {
    pick = (_f, k) => req.inputs[k];
  } else {
    const byName = new Map(req.inputs.map((t) => [t.name, t]));
    if (byName.size !== req.inputs.length) throw new OipRequestError('input names must be unique');
    const missing = modelFeatures.filter((f) => !byName.has(f));
    if (missing.length) throw new OipRequestError(`missing features: ${missing.join(', ')}`);
    pick = (f) => byName.get(f);
  }
  const cols: Array<ArrayLike<number | null>> = new Array(F);
  for (let k = 0; k < F; k++) {
    const f = modelFeatures[k]!;
    const t = pick(f, k)!;
    if (t.shape.length > 2 || (t.shape.length === 2 && t.shape[1] !== 1))
      throw new OipRequestError(`input "${f}": shape must be [N] or [N, 1]`);
    cols[k] = flat(t);
  }
  const rows = F === 0 ? 0 : cols[0]!.length;
  if (rows === 0) throw new OipRequestError('no rows');
  for (let k = 1; k < F; k++)
    if (cols[k]!.length !== rows) throw new OipRequestError('every feature input must have the same number of rows');
  const out = new Float32Array(rows * F);
  for (let k = 0; k < F; k++) {
    const c = cols[k]!;
    for (let r = 0; r < rows; r++) put(out, r * F + k, c[r]!);
  }
  return { featureNames: modelFeatures, features: out, rows, quality: quality(), missing: missingMask };
}

export interface InferResponse {
  model_name: string;
  model_version: string;
  id?: string;
  parameters: { route: string; route_version: number };
  outputs: Array<{ name: string; shape: number[]; datatype: string; data: Array<number | boolean> }>;
}

export function inferResponse(a: {
  model: string;
  version: string;
  id: string | undefined;
  route: string;
  routeVersion: number;
  scores: Float64Array;
  threshold: number | undefined;
}): InferResponse {
  const outputs: InferResponse['outputs'] = [
    { name: 'score', shape: [a.scores.length], datatype: 'FP64', data: Array.from(a.scores) },
  ];
  if (a.threshold !== undefined) {
    const t = a.threshold;
    outputs.push({
      name: 'decision',
      shape: [a.scores.length],
      datatype: 'BOOL',
      data: Array.from(a.scores, (s) => s >= t),
    });
  }
  return {
    model_name: a.model,
    model_version: a.version,
    ...(a.id !== undefined ? { id: a.id } : {}),
    parameters: { route: a.route, route_version: a.routeVersion },
    outputs,
  };
}

/** JSON text of a number as JSON.stringify writes it. */
function num(x: number): string {
  return Number.isFinite(x) ? String(x) : 'null';
}

/**
 * The JSON text of `inferResponse(a)` (same keys, same order), written directly: the hot path of both
 * the gateway and the bare OIP server.
 */
export function inferResponseText(a: Parameters<typeof inferResponse>[0]): string {
  const n = a.scores.length;
  let scores = '';
  let decisions = '';
  const t = a.threshold;
  for (let i = 0; i < n; i++) {
    const s = a.scores[i]!;
    scores += i === 0 ? num(s) : ',' + num(s);
    if (t !== undefined) decisions += (i === 0 ? '' : ',') + (s >= t ? 'true' : 'false');
  }
  let text = `{"model_name":${JSON.stringify(a.model)},"model_version":${JSON.stringify(a.version)}`;
  if (a.id !== undefined) text += `,"id":${JSON.stringify(a.id)}`;
  text += `,"parameters":{"route":${JSON.stringify(a.route)},"route_version":${num(a.routeVersion)}},"outputs":[{"name":"score","shape":[${n}],"datatype":"FP64","data":[${scores}]}`;
  if (t !== undefined) text += `,{"name":"decision","shape":[${n}],"datatype":"BOOL","data":[${decisions}]}`;
  return text + ']}';
}

const TRUE = [0x74, 0x72, 0x75, 0x65];
const FALSE = [0x66, 0x61, 0x6c, 0x73, 0x65];

/**
 * The bytes of `inferResponseText(a)`, written into one buffer: the scores joined natively (no string per
 * score) when they are all finite, the decisions written as bytes, no UTF-8 re-encoding of the whole text.
 */
export function inferResponseBytes(a: Parameters<typeof inferResponse>[0]): Buffer {
  const n = a.scores.length;
  const t = a.threshold;
  let finite = true;
  for (let i = 0; i < n && finite; i++) finite = Number.isFinite(a.scores[i]!);
  if (!finite) return Buffer.from(inferResponseText(a), 'utf8');
  // TypedArray join writes each score as String(score) does (finite: as JSON.stringify does).
  const scores = a.scores.join(',');
  let head = `{"model_name":${JSON.stringify(a.model)},"model_version":${JSON.stringify(a.version)}`;
  if (a.id !== undefined) head += `,"id":${JSON.stringify(a.id)}`;
  head += `,"parameters":{"route":${JSON.stringify(a.route)},"route_version":${num(a.routeVersion)}},"outputs":[{"name":"score","shape":[${n}],"datatype":"FP64","data":[`;
  const mid = t === undefined ? ']}' : `]},{"name":"decision","shape":[${n}],"datatype":"BOOL","data":[`;
  let decisionBytes = 0;
  if (t !== undefined) for (let i = 0; i < n; i++) decisionBytes += (a.scores[i]! >= t ? 4 : 5) + (i === 0 ? 0 : 1);
  const tail = t === undefined ? ']}' : ']}]}';
  const headBytes = Buffer.byteLength(head, 'utf8');
  // scores, mid and tail are ASCII: one byte per character.
  const out = Buffer.allocUnsafe(headBytes + scores.length + mid.length + decisionBytes + tail.length);
  let at = out.write(head, 0, 'utf8');
  at += out.write(scores, at, 'latin1');
  at += out.write(mid, at, 'latin1');
  if (t !== undefined)
    for (let i = 0; i < n; i++) {
      if (i > 0) out[at++] = 0x2c;
      const word = a.scores[i]! >= t ? TRUE : FALSE;
      for (let k = 0; k < word.length; k++) out[at++] = word[k]!;
    }
  out.write(tail, at, 'latin1');
  return out;
}
