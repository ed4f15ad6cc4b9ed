/**
 * Run an ONNX model with onnxruntime-node on the CPU. One session per loaded model, reused for every batch;
 * the input is a row-major float32 matrix whose column order is the model's feature order. Which input,
 * which output and which class come from onnx-interface.ts (the graph, plus the model card's interface).
 */
import * as ort from 'onnxruntime-node';
import type { ModelInterface } from '../domain/model-interface';
import { ModelFormatError } from './logistic';
import { planOnnxInterface, type OnnxPlan } from './onnx-interface';
import { META_NAME, META_VERSION } from './onnx-logistic';
import { decodeGraph, extraGraphOutputs } from './onnx-proto';

export interface OnnxOptions extends ModelInterface {
  /** Rows per session.run call. Large enough to amortise the call, small enough to bound memory. */
  batchSize?: number;
  /** Threads inside one operator (MatMul). Default 2, the cores of the reference machine. */
  intraOpNumThreads?: number;
}

export const DEFAULT_BATCH_SIZE = 65_536;

export class OnnxModel {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly features: readonly string[],
    readonly name: string,
    readonly version: string,
    /** How the model is fed and read (input, output, class, scale): for logs and error messages. */
    readonly plan: OnnxPlan,
    private readonly batchSize: number,
  ) {}

  /** Parse, work out the graph's interface and create the session; every problem is a ModelFormatError. */
  static async load(bytes: Uint8Array, options: OnnxOptions = {}): Promise<OnnxModel> {
    const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
    if (!Number.isInteger(batchSize) || batchSize < 1)
      throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
    const threads = options.intraOpNumThreads ?? 2;
    if (!Number.isInteger(threads) || threads < 1)
      throw new RangeError(`intraOpNumThreads must be a positive integer, got ${threads}`);

    let graph: ReturnType<typeof decodeGraph>;
    try {
      graph = decodeGraph(bytes);
    } catch (e) {
      throw new ModelFormatError(`not an ONNX model (protobuf decode failed: ${(e as Error).message})`);
    }
    const plan = planOnnxInterface(graph, { features: options.features, input: options.input, output: options.output });
    // A ZipMap's probability tensor is made a graph output so the session can return it (see extraGraphOutputs).
    const runBytes = plan.addOutput ? Buffer.concat([bytes, extraGraphOutputs([plan.addOutput])]) : bytes;

    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(runBytes, {
        executionProviders: ['cpu'],
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
      });
    } catch (e) {
      throw new ModelFormatError(`onnxruntime rejected the model: ${(e as Error).message}`);
    }
    if (!session.inputNames.includes(plan.input) || !session.outputNames.includes(plan.fetch)) {
      await session.release();
      throw new ModelFormatError(
        `onnxruntime sees inputs [${session.inputNames.join(', ')}] and outputs [${session.outputNames.join(', ')}], not "${plan.input}" → "${plan.fetch}"`,
      );
    }
    const name = graph.metadata.get(META_NAME) ?? 'onnx-model';
    const version = graph.metadata.get(META_VERSION) ?? 'unversioned';
    // A graph with a fixed batch axis (torch.onnx without dynamic_axes) takes exactly that many rows per run.
    return new OnnxModel(session, plan.features, name, version, plan, plan.fixedBatch ?? batchSize);
  }

  /**
   * Score `rows` rows of a row-major [rows, cols] float32 matrix, `batchSize` rows per run. Returns the
   * positive class's probability per row (a logit output through the sigmoid or softmax, in float64);
   * finiteness and range are checked by the caller (see models/index.ts).
   */
  async score(features: Float32Array, rows: number, cols: number): Promise<Float64Array> {
    if (cols !== this.features.length)
      throw new RangeError(
        `model ${this.name}@${this.version} takes ${this.features.length} features, got ${cols} columns`,
      );
    if (features.length !== rows * cols)
      throw new RangeError(`feature matrix has ${features.length} values, expected rows × cols = ${rows} × ${cols}`);
    const { plan } = this;
    const out = new Float64Array(rows);
    for (let start = 0; start < rows; start += this.batchSize) {
      const n = Math.min(this.batchSize, rows - start);
      // A fixed batch axis takes exactly batchSize rows: the last run is padded with zero rows, whose scores are dropped.
      const m = plan.fixedBatch ?? n;
      let x: Float32Array | Float64Array = features.subarray(start * cols, (start + n) * cols);
      if (m !== n || plan.inputType === 'float64') {
        const padded = plan.inputType === 'float64' ? new Float64Array(m * cols) : new Float32Array(m * cols);
        padded.set(x);
        x = padded;
      }
      const input = new ort.Tensor(plan.inputType, x, [m, cols]);
      const result = await this.session.run({ [plan.input]: input }, [plan.fetch]);
      const y = result[plan.fetch]!;
      const width = plan.width ?? y.data.length / m;
      if ((y.type !== 'float32' && y.type !== 'float64') || y.data.length !== m * width) {
        throw new ModelFormatError(
          `model ${this.name}@${this.version} returned ${y.type}[${y.dims.join(', ')}] from "${plan.fetch}" for ${m} rows; expected ${width} float value(s) per row`,
        );
      }
      readScores(y.data as Float32Array | Float64Array, n, width, plan, out, start);
      y.dispose();
      input.dispose();
    }
    return out;
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

/** The positive class's probability from one run's output: pick the column, undo a logit. */
function readScores(
  data: Float32Array | Float64Array,
  n: number,
  width: number,
  plan: OnnxPlan,
  out: Float64Array,
  offset: number,
): void {
  const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
  for (let r = 0; r < n; r++) {
    let p: number;
    if (plan.column === null) {
      const v = data[r]!;
      p = plan.scale === 'logit' ? sigmoid(plan.complement ? -v : v) : plan.complement ? 1 - v : v;
    } else if (plan.scale === 'probability') {
      p = data[r * width + plan.column]!;
    } else {
      // softmax of the row at the positive column, shifted by the row's maximum so exp cannot overflow
      let max = -Infinity;
      for (let k = 0; k < width; k++) max = Math.max(max, data[r * width + k]!);
      let sum = 0;
      for (let k = 0; k < width; k++) sum += Math.exp(data[r * width + k]! - max);
      p = Math.exp(data[r * width + plan.column]! - max) / sum;
    }
    out[offset + r] = p;
  }
}
