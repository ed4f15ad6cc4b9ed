/**
 * Work out how to feed an ONNX graph and read its score from the graph alone plus what the model card says
 * (a ModelInterface): the input tensor, the feature order, the output holding the positive class, which
 * column of it, and whether it is a probability or a logit. Pure: it reads a DecodedGraph and never runs the
 * model. Anything the graph leaves open and the card does not settle is a ModelFormatError that names the
 * choice and the field that settles it (docs/models.md lists the accepted shapes).
 */
import type { ModelInterface, ModelOutputSpec } from '../domain/model-interface';
import { ModelFormatError } from './logistic';
import { META_FEATURES } from './onnx-logistic';
import { OnnxDataType, type DecodedGraph, type DecodedNode, type DecodedType, type OnnxValueInfo } from './onnx-proto';

/** How the loader runs one model: everything OnnxModel needs besides the session. */
export interface OnnxPlan {
  input: string;
  inputType: 'float32' | 'float64';
  /** Rows per run when the graph fixes the batch axis (torch.onnx without dynamic_axes: 1); null if free. */
  fixedBatch: number | null;
  features: string[];
  /** Output fetched from the session (for a ZipMap, the probability tensor that feeds it). */
  fetch: string;
  /** Appended as a graph output before the session is created (the ZipMap's input), or null. */
  addOutput: OnnxValueInfo | null;
  /** Column of the fetched [N, C] tensor that is the positive class; null for a single value per row. */
  column: number | null;
  /** Values per row of the fetched tensor when known from the graph (1 for [N] or [N, 1]). */
  width: number | null;
  /** For a single value per row: the value is the complement's score (positiveClass 0). */
  complement: boolean;
  scale: 'probability' | 'logit';
  /** Class labels of the fetched columns as the exporter names them (indices when the graph names none). */
  classes: (number | string)[] | null;
  /** One line for logs and errors: "probabilities[:, 1] (class 1 of TreeEnsembleClassifier)". */
  describe: string;
}

const ELEM_NAME: Record<number, string> = {
  1: 'float32',
  6: 'int32',
  7: 'int64',
  8: 'string',
  9: 'bool',
  11: 'float64',
};
/** Ops that pass a probability (or a logit) through unchanged in meaning. */
const PASS_THROUGH = new Set(['Identity', 'Cast', 'Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Slice', 'Gather']);
/** ai.onnx.ml classifiers: output 0 is the label, output 1 the class scores the exporter calls probabilities. */
const ML_CLASSIFIERS = new Set(['LinearClassifier', 'TreeEnsembleClassifier', 'SVMClassifier']);

export function typeText(t: DecodedType): string {
  if (t.kind === 'tensor') {
    const dims = t.dims ? `[${t.dims.map((d) => (d === null ? '?' : String(d))).join(', ')}]` : '[?]';
    return `${ELEM_NAME[t.elemType] ?? `type ${t.elemType}`}${dims}`;
  }
  if (t.kind === 'sequence-of-map')
    return `seq(map(${ELEM_NAME[t.keyType] ?? t.keyType}, ${ELEM_NAME[t.valueType ?? 0] ?? '?'}))`;
  return 'a non-tensor value';
}

const list = (xs: readonly (string | number)[], max = 8) =>
  xs.length <= max
    ? xs.map((x) => JSON.stringify(x)).join(', ')
    : `${xs
        .slice(0, max)
        .map((x) => JSON.stringify(x))
        .join(', ')}, … (${xs.length} in all)`;

/** Decide input, features and score output; throws ModelFormatError naming what was expected and found. */
export function planOnnxInterface(graph: DecodedGraph, spec: ModelInterface = {}): OnnxPlan {
  const producers = new Map<string, DecodedNode>();
  for (const n of graph.nodes) for (const o of n.output) producers.set(o, n);

  // --- input
  const inputs = graph.inputs;
  let input = inputs[0];
  if (spec.input !== undefined) {
    input = inputs.find((i) => i.name === spec.input);
    if (!input)
      throw new ModelFormatError(
        `the model card names input "${spec.input}", but the model's inputs are [${list(inputs.map((i) => i.name))}]`,
      );
  } else if (inputs.length !== 1) {
    throw new ModelFormatError(
      inputs.length === 0
        ? 'the model has no inputs'
        : `the model has ${inputs.length} inputs [${list(inputs.map((i) => `${i.name}: ${typeText(i.type)}`))}]; ` +
            'Vigil feeds one [N, F] float tensor: name it in the model card (interface.input), or export the model with a single input',
    );
  }
  const it = input!.type;
  if (
    it.kind !== 'tensor' ||
    (it.elemType !== OnnxDataType.FLOAT && it.elemType !== OnnxDataType.DOUBLE) ||
    !it.dims ||
    it.dims.length !== 2
  ) {
    throw new ModelFormatError(
      `input "${input!.name}" must be a float32 (or float64) tensor [N, F], found ${typeText(it)}`,
    );
  }
  const width = typeof it.dims[1] === 'number' ? it.dims[1] : null;
  const fixedBatch = typeof it.dims[0] === 'number' && it.dims[0] > 0 ? it.dims[0] : null;

  // --- features: the model card (or caller) and "vigil.features" must agree where both exist
  const features = resolveFeatures(graph.metadata.get(META_FEATURES), spec.features);
  if (!features) {
    throw new ModelFormatError(
      `the model carries no feature names: its input "${input!.name}" takes ${width ?? 'F'} features; ` +
        "list them in the model card (interface.features) in the order of the input's columns",
    );
  }
  if (width !== null && width !== features.length) {
    const diff = width > features.length ? `${width - features.length} too few` : `${features.length - width} too many`;
    throw new ModelFormatError(
      `model input "${input!.name}" takes ${width} features; the model card lists ${features.length} (${diff}): [${list(features)}]`,
    );
  }

  // --- output
  const out = chooseOutput(graph, producers, spec.output);
  return {
    input: input!.name,
    inputType: it.elemType === OnnxDataType.DOUBLE ? 'float64' : 'float32',
    fixedBatch,
    features,
    ...out,
  };
}

function resolveFeatures(fromMetadata: string | undefined, given: readonly string[] | undefined): string[] | null {
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
  const features = declared ?? (given ? [...given] : null);
  if (features && new Set(features).size !== features.length) {
    const dup = features.filter((f, i) => features.indexOf(f) !== i);
    throw new ModelFormatError(`feature names repeat: ${list([...new Set(dup)])}`);
  }
  return features;
}

type OutputChoice = Pick<
  OnnxPlan,
  'fetch' | 'addOutput' | 'column' | 'width' | 'complement' | 'scale' | 'classes' | 'describe'
>;

type GraphOutput = DecodedGraph['outputs'][number];

const isFloat = (t: DecodedType) =>
  t.kind === 'tensor' && (t.elemType === OnnxDataType.FLOAT || t.elemType === OnnxDataType.DOUBLE);

/** The output the card names, else the one float tensor or ZipMap the graph has. */
function pickOutput(outputs: readonly GraphOutput[], spec: ModelOutputSpec): GraphOutput {
  const shown = () => `[${outputs.map((o) => `${o.name}: ${typeText(o.type)}`).join(', ')}]`;
  if (spec.name !== undefined) {
    const named = outputs.find((o) => o.name === spec.name);
    if (!named)
      throw new ModelFormatError(`the model card names output "${spec.name}", but the model's outputs are ${shown()}`);
    return named;
  }
  const floats = outputs.filter((o) => isFloat(o.type));
  const zipmaps = outputs.filter((o) => o.type.kind === 'sequence-of-map');
  const found = [...floats, ...zipmaps];
  if (found.length !== 1) {
    throw new ModelFormatError(
      found.length === 0
        ? `no output holds scores: expected one float tensor or one ZipMap output, found ${shown()}`
        : `several outputs could hold the score: ${shown()}; name one in the model card (interface.output.name)`,
    );
  }
  return found[0]!;
}

/** Which column (or, for one value per row, whether its complement) is the positive class's score. */
function columnChoice(
  where: string,
  width: number,
  classes: (number | string)[] | null,
  spec: ModelOutputSpec,
  scale: 'probability' | 'logit',
): Pick<OnnxPlan, 'column' | 'complement' | 'classes' | 'describe'> {
  if (width === 1) {
    const p = spec.positiveClass;
    const labels = classes && classes.length === 2 ? classes : [0, 1];
    let complement = false;
    if (p !== undefined) {
      const k = labels.findIndex((c) => sameClass(c, p));
      if (k < 0)
        throw new ModelFormatError(
          `${where} is one value per row, the score of class ${JSON.stringify(labels[1])}; positiveClass ${JSON.stringify(p)} is not one of [${list(labels)}]`,
        );
      complement = k === 0;
    }
    return { column: null, complement, classes, describe: `${where}${complement ? ' (complement)' : ''}, ${scale}` };
  }
  const labels = classes ?? Array.from({ length: width }, (_, i) => i);
  if (labels.length !== width) {
    throw new ModelFormatError(
      `${where} has ${width} columns but the graph names ${labels.length} classes [${list(labels)}]`,
    );
  }
  let column: number;
  if (spec.positiveClass !== undefined) {
    column = labels.findIndex((c) => sameClass(c, spec.positiveClass!));
    if (column < 0) {
      throw new ModelFormatError(
        `the model card's positiveClass ${JSON.stringify(spec.positiveClass)} is not a class of ${where}: its classes are [${list(labels)}]`,
      );
    }
  } else if (width === 2 && labels.every((c, i) => typeof c === 'number' && c === i)) {
    column = 1; // classes 0 and 1: class 1 is the positive one, as every binary exporter labels it
  } else {
    throw new ModelFormatError(
      `${where} has classes [${list(labels)}]; say which is positive in the model card (interface.output.positiveClass)`,
    );
  }
  return {
    column,
    complement: false,
    classes: labels,
    describe: `${where}[:, ${column}] (class ${JSON.stringify(labels[column])}), ${scale}`,
  };
}

function chooseOutput(
  graph: DecodedGraph,
  producers: Map<string, DecodedNode>,
  spec: ModelOutputSpec = {},
): OutputChoice {
  const chosen = pickOutput(graph.outputs, spec);

  let fetch = chosen.name;
  let tensorType = chosen.type;
  let addOutput: OnnxValueInfo | null = null;
  let classes: (number | string)[] | null = null;
  let origin = '';
  if (chosen.type.kind === 'sequence-of-map') {
    // A ZipMap turns the probability tensor into one {class: p} map per row; read the tensor instead.
    const zip = producers.get(chosen.name);
    if (!zip || zip.opType !== 'ZipMap') {
      throw new ModelFormatError(
        `output "${chosen.name}" is a ${typeText(chosen.type)} not made by a ZipMap; Vigil reads tensors and ZipMaps`,
      );
    }
    fetch = zip.input[0]!;
    classes = classLabels(zip);
    tensorType = { kind: 'tensor', elemType: OnnxDataType.FLOAT, dims: [null, classes?.length ?? null] };
    addOutput = {
      name: fetch,
      type: {
        tensor_type: {
          elem_type: OnnxDataType.FLOAT,
          shape: { dim: [{ dim_param: 'N' }, ...(classes ? [{ dim_value: classes.length }] : [])] },
        },
      },
    };
    origin = `the probabilities behind ZipMap "${chosen.name}"`;
  } else if (!isFloat(chosen.type)) {
    throw new ModelFormatError(
      `output "${chosen.name}" is ${typeText(chosen.type)}; the score must be a float tensor [N], [N, 1] or [N, C]`,
    );
  }
  const dims = tensorType.kind === 'tensor' ? tensorType.dims : null;
  if (dims && (dims.length < 1 || dims.length > 2)) {
    throw new ModelFormatError(
      `output "${chosen.name}" is ${typeText(tensorType)}; the score must be a float tensor [N], [N, 1] or [N, C]`,
    );
  }
  const source = traceSource(fetch, producers);
  classes ??= source.classes;
  const width = !dims
    ? (classes?.length ?? null)
    : dims.length === 1
      ? 1
      : typeof dims[1] === 'number'
        ? dims[1]
        : (classes?.length ?? null);
  if (width === null) {
    throw new ModelFormatError(
      `output "${chosen.name}" (${typeText(tensorType)}) has an unknown number of columns; Vigil needs [N], [N, 1] or [N, C] with C known`,
    );
  }

  // Probability or logit: what the card says, else what the producing op shows.
  const scale = spec.scale ?? source.scale ?? (addOutput ? 'probability' : null); // exporters ZipMap probabilities
  if (!scale) {
    throw new ModelFormatError(
      `cannot tell whether output "${chosen.name}" (made by ${source.op ?? 'no op: a graph input passed through'}) is a probability or a logit; ` +
        'say interface.output.scale: probability or logit in the model card',
    );
  }

  const where = origin || `output "${chosen.name}"`;
  return { fetch, addOutput, scale, width, ...columnChoice(where, width, classes, spec, scale) };
}

/** A numeric class label matches its decimal string too: ZipMap key 1 is the card's 1 or "1". */
function sameClass(label: number | string, wanted: number | string): boolean {
  return label === wanted || String(label) === String(wanted);
}

function classLabels(node: DecodedNode): (number | string)[] | null {
  return (
    node.ints.get('classlabels_int64s') ??
    node.ints.get('classlabels_ints') ??
    node.strings.get('classlabels_strings') ??
    null
  );
}

/** Walk back through pass-through ops to the op that makes the value: it tells probability from logit. */
function traceSource(
  name: string,
  producers: Map<string, DecodedNode>,
): { op: string | null; scale: 'probability' | 'logit' | null; classes: (number | string)[] | null } {
  let current = name;
  for (let hops = 0; hops < 64; hops++) {
    const node = producers.get(current);
    if (!node) return { op: null, scale: null, classes: null };
    if (PASS_THROUGH.has(node.opType) && node.input[0]) {
      current = node.input[0];
      continue;
    }
    if (node.opType === 'Sigmoid' || node.opType === 'Softmax')
      return { op: node.opType, scale: 'probability', classes: null };
    if (ML_CLASSIFIERS.has(node.opType) && node.output[1] === current)
      return { op: node.opType, scale: 'probability', classes: classLabels(node) };
    return { op: node.opType, scale: null, classes: null };
  }
  return { op: null, scale: null, classes: null };
}
