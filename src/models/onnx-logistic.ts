/**
 * Express a vigil.logistic/v1 model as a standard ONNX graph: MatMul + Add + Sigmoid over a float32
 * input [N, F], giving a probability [N, 1]. Used to produce the demo .onnx artifacts and the benchmark
 * model without Python tooling; the bytes are deterministic for a given model.
 */
import type { LogisticModel } from './logistic';
import { encodeModel, OnnxDataType } from './onnx-proto';

/** Names every Vigil-run ONNX model uses; foreign models must match them too (checked at load). */
export const ONNX_INPUT = 'features';
export const ONNX_OUTPUT = 'probability';
/** metadata_props keys: the feature order of the input's second axis, and the model identity. */
export const META_FEATURES = 'vigil.features';
export const META_NAME = 'vigil.name';
export const META_VERSION = 'vigil.version';

const OPSET = 13;
const IR_VERSION = 8;

function float32Raw(values: readonly number[]): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setFloat32(i * 4, v, true)); // ONNX raw_data is little-endian
  return out;
}

export function logisticToOnnx(
  model: Pick<LogisticModel, 'name' | 'version' | 'features' | 'weights' | 'bias'>,
): Uint8Array {
  const f = model.features.length;
  if (f === 0 || model.weights.length !== f)
    throw new Error(`logistic model needs one weight per feature (${model.weights.length} vs ${f})`);
  return encodeModel({
    ir_version: IR_VERSION,
    opset_import: [{ domain: '', version: OPSET }],
    producer_name: 'vigil',
    producer_version: 'onnx-logistic/1',
    doc_string: `logistic model ${model.name}@${model.version}: sigmoid(features · w + b)`,
    graph: {
      name: `${model.name}-${model.version}`,
      node: [
        { input: [ONNX_INPUT, 'w'], output: ['xw'], name: 'matmul', op_type: 'MatMul' },
        { input: ['xw', 'b'], output: ['logit'], name: 'add_bias', op_type: 'Add' },
        { input: ['logit'], output: [ONNX_OUTPUT], name: 'sigmoid', op_type: 'Sigmoid' },
      ],
      initializer: [
        { name: 'w', dims: [f, 1], data_type: OnnxDataType.FLOAT, raw_data: float32Raw(model.weights) },
        { name: 'b', dims: [1], data_type: OnnxDataType.FLOAT, raw_data: float32Raw([model.bias]) },
      ],
      input: [tensorInfo(ONNX_INPUT, [{ dim_param: 'N' }, { dim_value: f }])],
      output: [tensorInfo(ONNX_OUTPUT, [{ dim_param: 'N' }, { dim_value: 1 }])],
    },
    metadata_props: [
      { key: META_FEATURES, value: JSON.stringify(model.features) },
      { key: META_NAME, value: model.name },
      { key: META_VERSION, value: model.version },
    ],
  });
}

function tensorInfo(name: string, dim: ({ dim_value: number } | { dim_param: string })[]) {
  return { name, type: { tensor_type: { elem_type: OnnxDataType.FLOAT, shape: { dim } } } };
}
