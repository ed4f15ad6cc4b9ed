/**
 * Open Inference Protocol v2 (KServe v2) REST shapes as the gateway speaks them: request inputs are
 * named tensors {name, shape, datatype, data}; `parameters.case_id` is required (routing and
 * telemetry key), other request parameters are cohort attributes (site, modality, urgency, …).
 */
import { z } from 'zod';

const NUMERIC = ['FP32', 'FP64', 'FP16', 'INT8', 'INT16', 'INT32', 'INT64', 'UINT8', 'UINT16', 'UINT32', 'UINT64'] as const;
const DATATYPES = [...NUMERIC, 'BOOL', 'BYTES'] as const;

const TensorSchema = z
  .object({
    name: z.string().min(1).max(256),
    shape: z.array(z.number().int().min(0)).min(1).max(4),
    datatype: z.enum(DATATYPES),
    parameters: z.record(z.string(), z.unknown()).optional(),
    // null marks a missing value (imputed, and flagged in telemetry).
    data: z.array(z.union([z.number(), z.null(), z.array(z.union([z.number(), z.null()]))])).max(1_000_000),
  })
  .passthrough();

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
}

/** |value| beyond this (standardised features) is flagged out_of_range; the model still scores it. */
const OUT_OF_RANGE = 10;

export function parseInferRequest(body: unknown): InferRequest {
  const parsed = InferRequestSchema.safeParse(body);
  if (!parsed.success) {
    throw new OipRequestError(
      'invalid inference request',
      parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
    );
  }
  return parsed.data;
}

/**
 * Two layouts: one tensor per feature (named by the feature, shape [N] or [N, 1]), or one 2-D tensor
 * [N, F] whose columns are `parameters.feature_names` or, without it, the model's declared features.
 */
export function toFeatureMatrix(req: InferRequest, modelFeatures: readonly string[]): FeatureMatrix {
  const quality = new Set<string>();
  const flat = (t: InferRequest['inputs'][number]): Array<number | null> => {
    if (!NUMERIC.includes(t.datatype as (typeof NUMERIC)[number])) throw new OipRequestError(`input "${t.name}": datatype ${t.datatype} is not numeric`);
    const d = t.data.flat();
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (d.length !== n) throw new OipRequestError(`input "${t.name}": shape [${t.shape.join(', ')}] needs ${n} values, got ${d.length}`);
    return d;
  };
  const put = (out: Float32Array, i: number, v: number | null): void => {
    if (v === null) {
      quality.add('missing_value');
      out[i] = 0;
    } else {
      if (Math.abs(v) > OUT_OF_RANGE) quality.add('out_of_range');
      out[i] = v;
    }
  };

  if (req.inputs.length === 1 && req.inputs[0]!.shape.length === 2 && !modelFeatures.includes(req.inputs[0]!.name)) {
    const t = req.inputs[0]!;
    const [rows, cols] = t.shape as [number, number];
    const names = t.parameters?.feature_names ?? modelFeatures;
    if (!Array.isArray(names) || !names.every((n) => typeof n === 'string')) throw new OipRequestError(`input "${t.name}": parameters.feature_names must be a list of strings`);
    if (names.length !== cols) throw new OipRequestError(`input "${t.name}": ${cols} columns but ${names.length} feature names`);
    const missing = modelFeatures.filter((f) => !names.includes(f));
    if (missing.length) throw new OipRequestError(`missing features: ${missing.join(', ')}`);
    const d = flat(t);
    const out = new Float32Array(rows * cols);
    for (let i = 0; i < d.length; i++) put(out, i, d[i]!);
    return { featureNames: names as string[], features: out, rows, quality: [...quality] };
  }

  const byName = new Map(req.inputs.map((t) => [t.name, t]));
  if (byName.size !== req.inputs.length) throw new OipRequestError('input names must be unique');
  const missing = modelFeatures.filter((f) => !byName.has(f));
  if (missing.length) throw new OipRequestError(`missing features: ${missing.join(', ')}`);
  const cols = modelFeatures.map((f) => {
    const t = byName.get(f)!;
    if (t.shape.length > 2 || (t.shape.length === 2 && t.shape[1] !== 1)) throw new OipRequestError(`input "${f}": shape must be [N] or [N, 1]`);
    return flat(t);
  });
  const rows = cols[0]!.length;
  if (rows === 0) throw new OipRequestError('no rows');
  if (cols.some((c) => c.length !== rows)) throw new OipRequestError('every feature input must have the same number of rows');
  const F = modelFeatures.length;
  const out = new Float32Array(rows * F);
  for (let k = 0; k < F; k++) for (let r = 0; r < rows; r++) put(out, r * F + k, cols[k]![r]!);
  return { featureNames: modelFeatures, features: out, rows, quality: [...quality] };
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
  const outputs: InferResponse['outputs'] = [{ name: 'score', shape: [a.scores.length], datatype: 'FP64', data: Array.from(a.scores) }];
  if (a.threshold !== undefined) {
    const t = a.threshold;
    outputs.push({ name: 'decision', shape: [a.scores.length], datatype: 'BOOL', data: Array.from(a.scores, (s) => s >= t) });
  }
  return {
    model_name: a.model,
    model_version: a.version,
    ...(a.id !== undefined ? { id: a.id } : {}),
    parameters: { route: a.route, route_version: a.routeVersion },
    outputs,
  };
}
