/**
 * One interface for every way a model's scores reach the evaluation: a vigil.logistic/v1 JSON model, an
 * ONNX model run by onnxruntime-node, or a precomputed prediction file pinned by sha256. Every scorer takes
 * the same locked table (same rows, same float32 features) and every score passes the same checks.
 */
import type { ByteStrings } from '../data/byte-strings';
import { parsePredictionFileOnThread } from '../data/prediction-thread';
import { joinPredictions } from '../data/predictions';
import { bindScorer, ModelFormatError, parseModel } from './logistic';
import { OnnxModel, type OnnxOptions } from './onnx-runner';

export { ModelFormatError } from './logistic';
export { OnnxModel, DEFAULT_BATCH_SIZE, type OnnxOptions } from './onnx-runner';
export { planOnnxInterface, type OnnxPlan } from './onnx-interface';
export { logisticToOnnx, ONNX_INPUT, ONNX_OUTPUT, META_FEATURES } from './onnx-logistic';

export type ModelFormat = 'vigil.logistic/v1' | 'onnx' | 'vigil.predictions/v1';

/** What a scorer reads: a LockedTable (src/data) satisfies it. */
export interface ScoringInput {
  featureNames: readonly string[];
  /** Row-major [rows, featureNames.length]. */
  features: Float32Array;
  rows: number;
  caseIds: readonly string[];
  /** The same ids interned (a LockedTable has them): prediction files join on bytes, no string per row. */
  caseIdColumn?: ByteStrings;
  /** Cases the table left out on purpose (drop-row); a prediction file may still score them. */
  droppedCaseIds?: readonly string[];
}

export interface Scorer {
  readonly format: ModelFormat;
  /** name@version for models, predictions@<sha256 prefix> for prediction files. */
  readonly label: string;
  /** Feature names the scorer reads, in its order; empty for prediction files. */
  readonly features: readonly string[];
  /** One probability in [0, 1] per row, in row order. */
  score(input: ScoringInput): Promise<Float64Array>;
  close(): Promise<void>;
}

/** A model produced an unusable score (NaN, infinite, outside [0, 1], wrong count): never a pass. */
export class ScoringError extends Error {
  override readonly name = 'ScoringError';
  constructor(
    message: string,
    readonly row?: number,
    readonly caseId?: string,
  ) {
    super(message);
  }
}

export interface LoadScorerOptions {
  onnx?: OnnxOptions;
  /** Required for prediction files: the pinned sha256 of the file. */
  predictionsSha256?: string;
  /** The caller gives `bytes` up: a large prediction file's buffer moves to its parsing thread (no copy). */
  handOverBytes?: boolean;
}

export function modelFormatOf(mediaTypeOrFilename: string): ModelFormat {
  const s = mediaTypeOrFilename.toLowerCase();
  if (s === 'application/onnx' || s === 'application/x-onnx' || s === 'onnx' || s.endsWith('.onnx')) return 'onnx';
  if (s === 'application/json' || s === 'vigil.logistic/v1' || s.endsWith('.json')) return 'vigil.logistic/v1';
  if (s === 'text/csv' || s === 'vigil.predictions/v1' || s.endsWith('.csv')) return 'vigil.predictions/v1';
  throw new ModelFormatError(
    `cannot tell the model format of "${mediaTypeOrFilename}" (expected .onnx, .json or a .csv prediction file)`,
  );
}

/** Load a pinned artifact as a scorer. Load problems are ModelFormatError (or DatasetError for prediction files). */
export async function loadScorer(
  bytes: Uint8Array,
  mediaTypeOrFilename: string,
  options: LoadScorerOptions = {},
): Promise<Scorer> {
  const format = modelFormatOf(mediaTypeOrFilename);
  switch (format) {
    case 'vigil.logistic/v1': {
      const model = parseModel(bytes);
      return featureScorer(format, model, async (input) => {
        const scoreRow = bindScorer(model, input.featureNames);
        const F = input.featureNames.length;
        const out = new Float64Array(input.rows);
        for (let r = 0; r < input.rows; r++) out[r] = scoreRow(input.features.subarray(r * F, (r + 1) * F));
        return out;
      });
    }
    case 'onnx': {
      const model = await OnnxModel.load(bytes, options.onnx);
      return featureScorer(
        format,
        model,
        async (input, label) =>
          model.score(selectColumns(input, model.features, label), input.rows, model.features.length),
        () => model.close(),
      );
    }
    case 'vigil.predictions/v1': {
      if (!options.predictionsSha256)
        throw new ModelFormatError('a prediction file is only used with its pinned sha256 (predictionsSha256)');
      // a large file parses on a worker thread: the candidate's and incumbent's, loaded together, on two cores
      const file = await parsePredictionFileOnThread(bytes, options.predictionsSha256, mediaTypeOrFilename, {
        handOver: options.handOverBytes,
      });
      const label = `predictions@${file.sha256.slice(0, 12)}`;
      return {
        format,
        label,
        features: [],
        score: async (input) =>
          checkScores(
            joinPredictions(file, input.caseIdColumn ?? input.caseIds, new Set(input.droppedCaseIds ?? [])),
            input,
            label,
          ),
        close: async () => {},
      };
    }
  }
}

/** Candidate and incumbent on the very same input object: same rows, same order, same float32 features. */
export async function scorePair(
  candidate: Scorer,
  incumbent: Scorer,
  input: ScoringInput,
): Promise<{ candidate: Float64Array; incumbent: Float64Array }> {
  const [c, i] = await Promise.all([candidate.score(input), incumbent.score(input)]);
  return { candidate: c, incumbent: i };
}

/**
 * A scorer over a model that reads named features: the input checked before scoring, the scores after, labelled
 * `name@version`.
 */
function featureScorer(
  format: ModelFormat,
  model: { name: string; version: string; features: readonly string[] },
  score: (input: ScoringInput, label: string) => Promise<Float64Array>,
  close: () => Promise<void> = async () => {},
): Scorer {
  const label = `${model.name}@${model.version}`;
  return {
    format,
    label,
    features: model.features,
    score: async (input) => {
      checkInput(input);
      return checkScores(await score(input, label), input, label);
    },
    close,
  };
}

function checkInput(input: ScoringInput): void {
  const F = input.featureNames.length;
  if (input.features.length !== input.rows * F) {
    throw new ScoringError(
      `feature matrix has ${input.features.length} values, expected ${input.rows} rows × ${F} features`,
    );
  }
  const ids = input.caseIdColumn?.size ?? input.caseIds.length;
  if (ids !== input.rows) throw new ScoringError(`${ids} case ids for ${input.rows} rows`);
}

/** The model's columns, in the model's order; no copy when the table already matches. */
export function selectColumns(input: ScoringInput, wanted: readonly string[], label: string): Float32Array {
  const names = input.featureNames;
  const at = new Map(names.map((n, i) => [n, i]));
  const missing = wanted.filter((f) => !at.has(f));
  if (missing.length > 0) throw new ModelFormatError(missingFeatures(label, missing, names));
  const index = wanted.map((f) => at.get(f)!);
  if (index.length === names.length && index.every((v, k) => v === k)) return input.features;
  const F = names.length;
  const G = index.length;
  const out = new Float32Array(input.rows * G);
  for (let r = 0; r < input.rows; r++) {
    const src = r * F;
    const dst = r * G;
    for (let k = 0; k < G; k++) out[dst + k] = input.features[src + index[k]!]!;
  }
  return out;
}

/** Spelling-insensitive key: "Mean Radius", "mean_radius" and "mean-radius" meet as "mean_radius". */
const looseName = (s: string) =>
  s
    .trim()
    .toLowerCase()
    .replace(/[\s_\-.]+/g, '_');

/** "needs features the data lacks: "mean radius" (the data has "mean_radius"), …" — all of them at once. */
function missingFeatures(label: string, missing: readonly string[], have: readonly string[]): string {
  const loose = new Map(have.map((h) => [looseName(h), h]));
  const shown = missing.slice(0, 10).map((f) => {
    const near = loose.get(looseName(f));
    return near ? `"${f}" (the data has "${near}")` : `"${f}"`;
  });
  const more = missing.length > 10 ? `, and ${missing.length - 10} more` : '';
  const one = missing.length === 1;
  return `model ${label} needs ${one ? 'feature' : `${missing.length} features`} ${shown.join(', ')}${more}, which the data lacks`;
}

function checkScores(scores: Float64Array, input: ScoringInput, label: string): Float64Array {
  if (scores.length !== input.rows)
    throw new ScoringError(`${label} returned ${scores.length} scores for ${input.rows} rows`);
  for (let r = 0; r < scores.length; r++) {
    const s = scores[r]!;
    if (!(s >= 0 && s <= 1)) {
      const what = Number.isNaN(s) ? 'NaN' : Number.isFinite(s) ? `${s}, outside [0, 1]` : String(s);
      throw new ScoringError(
        `${label} scored row ${r + 1} (case "${input.caseIds[r]}") as ${what}`,
        r + 1,
        input.caseIds[r],
      );
    }
  }
  return scores;
}
