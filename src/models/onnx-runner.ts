/**
 * Run an ONNX model with onnxruntime-node on the CPU. One session per loaded model, reused for every
 * batch; the input is a row-major float32 matrix whose column order is the model's declared feature
 * order (metadata_props "vigil.features", or given by the caller for foreign models).
 */
import * as ort from 'onnxruntime-node';
import { ModelFormatError } from './logistic';
import { META_FEATURES, META_NAME, META_VERSION, ONNX_INPUT, ONNX_OUTPUT } from './onnx-logistic';
import { decodeModelHeader } from './onnx-proto';

export interface OnnxOptions {
  /** Rows per session.run call. Large enough to amortise the call, small enough to bound memory. */
  batchSize?: number;
  /** Threads inside one operator (MatMul). Default 2, the cores of the reference machine. */
  intraOpNumThreads?: number;
  /** Feature order for models that do not carry "vigil.features"; must agree with it if both exist. */
  features?: readonly string[];
  inputName?: string;
  outputName?: string;
}

export const DEFAULT_BATCH_SIZE = 65_536;

export class OnnxModel {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly features: readonly string[],
    readonly name: string,
    readonly version: string,
    private readonly inputName: string,
    private readonly outputName: string,
    private readonly batchSize: number,
  ) {}

  /** Parse, check the graph's interface and create the session; every problem is a ModelFormatError. */
  static async load(bytes: Uint8Array, options: OnnxOptions = {}): Promise<OnnxModel> {
    const inputName = options.inputName ?? ONNX_INPUT;
    const outputName = options.outputName ?? ONNX_OUTPUT;
    const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
    if (!Number.isInteger(batchSize) || batchSize < 1)
      throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
    const threads = options.intraOpNumThreads ?? 2;
    if (!Number.isInteger(threads) || threads < 1)
      throw new RangeError(`intraOpNumThreads must be a positive integer, got ${threads}`);

    let header: ReturnType<typeof decodeModelHeader>;
    try {
      header = decodeModelHeader(bytes);
    } catch (e) {
      throw new ModelFormatError(`not an ONNX model (protobuf decode failed: ${(e as Error).message})`);
    }
    const features = resolveFeatures(header.metadata.get(META_FEATURES), options.features);

    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(bytes, {
        executionProviders: ['cpu'],
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
      });
    } catch (e) {
      throw new ModelFormatError(`onnxruntime rejected the model: ${(e as Error).message}`);
    }
    try {
      checkInterface(session, inputName, outputName, features.length);
    } catch (e) {
      await session.release();
      throw e;
    }
    const name = header.metadata.get(META_NAME) ?? 'onnx-model';
    const version = header.metadata.get(META_VERSION) ?? 'unversioned';
    return new OnnxModel(session, features, name, version, inputName, outputName, batchSize);
  }

  /**
   * Score `rows` rows of a row-major [rows, cols] float32 matrix, `batchSize` rows per run. Returns one
   * float32 score per row; finiteness and range are checked by the caller (see models/index.ts).
   */
  async score(features: Float32Array, rows: number, cols: number): Promise<Float32Array> {
    if (cols !== this.features.length)
      throw new RangeError(
        `model ${this.name}@${this.version} takes ${this.features.length} features, got ${cols} columns`,
      );
    if (features.length !== rows * cols)
      throw new RangeError(`feature matrix has ${features.length} values, expected rows × cols = ${rows} × ${cols}`);
    const out = new Float32Array(rows);
    for (let start = 0; start < rows; start += this.batchSize) {
      const n = Math.min(this.batchSize, rows - start);
      const input = new ort.Tensor('float32', features.subarray(start * cols, (start + n) * cols), [n, cols]);
      const result = await this.session.run({ [this.inputName]: input }, [this.outputName]);
      const y = result[this.outputName]!;
      if (y.type !== 'float32' || y.data.length !== n) {
        throw new ModelFormatError(
          `model ${this.name}@${this.version} returned ${y.type}[${y.dims.join(', ')}] for ${n} rows; expected float32 with one value per row`,
        );
      }
      out.set(y.data as Float32Array, start);
      y.dispose();
      input.dispose();
    }
    return out;
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

function resolveFeatures(fromMetadata: string | undefined, given: readonly string[] | undefined): string[] {
  let declared: string[] | undefined;
  if (fromMetadata !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(fromMetadata);
    } catch {
      parsed = undefined;
    }
    if (!Array.isArray(parsed) || parsed.length === 0 || !parsed.every((f) => typeof f === 'string' && f.length > 0)) {
      throw new ModelFormatError(`metadata "${META_FEATURES}" must be a JSON array of non-empty feature names`);
    }
    declared = parsed as string[];
  }
  if (declared && given && (declared.length !== given.length || declared.some((f, i) => f !== given[i]))) {
    throw new ModelFormatError(
      `the model declares features [${declared.join(', ')}] but [${given.join(', ')}] were given`,
    );
  }
  const features = declared ?? (given ? [...given] : undefined);
  if (!features)
    throw new ModelFormatError(`the model has no "${META_FEATURES}" metadata; its feature order must be given`);
  if (new Set(features).size !== features.length)
    throw new ModelFormatError(`feature names repeat: [${features.join(', ')}]`);
  return features;
}

function checkInterface(session: ort.InferenceSession, inputName: string, outputName: string, nFeatures: number): void {
  if (session.inputNames.length !== 1 || session.inputNames[0] !== inputName) {
    throw new ModelFormatError(`expected exactly one input "${inputName}", found [${session.inputNames.join(', ')}]`);
  }
  if (!session.outputNames.includes(outputName)) {
    throw new ModelFormatError(`expected an output "${outputName}", found [${session.outputNames.join(', ')}]`);
  }
  const input = session.inputMetadata[0]!;
  if (!input.isTensor || input.type !== 'float32' || input.shape.length !== 2) {
    throw new ModelFormatError(
      `input "${inputName}" must be a float32 tensor [N, ${nFeatures}], found ${describe(input)}`,
    );
  }
  const width = input.shape[1];
  if (typeof width === 'number' && width !== nFeatures) {
    throw new ModelFormatError(
      `input "${inputName}" has ${width} columns but the model declares ${nFeatures} features`,
    );
  }
  const output = session.outputMetadata[session.outputNames.indexOf(outputName)]!;
  const okShape =
    output.isTensor && (output.shape.length === 1 || (output.shape.length === 2 && output.shape[1] === 1));
  if (!output.isTensor || output.type !== 'float32' || !okShape) {
    throw new ModelFormatError(
      `output "${outputName}" must be a float32 tensor [N] or [N, 1], found ${describe(output)}`,
    );
  }
}

function describe(m: ort.InferenceSession.ValueMetadata): string {
  return m.isTensor ? `${m.type}[${m.shape.join(', ')}]` : 'a non-tensor value';
}
