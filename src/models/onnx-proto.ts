/**
 * The subset of onnx.proto3 (ONNX IR, onnx/onnx) that Vigil writes and inspects: a model, its graph,
 * nodes, dense tensors, value infos and opset imports. Field numbers are copied from onnx.proto3, so the
 * bytes are ordinary ONNX; fields we do not declare are skipped on decode. Embedded as text so the
 * compiled build needs no extra files.
 */
import protobuf from 'protobufjs';

const ONNX_PROTO_SUBSET = `
syntax = "proto3";
package onnx;

message AttributeProto {
  enum AttributeType { UNDEFINED = 0; FLOAT = 1; INT = 2; STRING = 3; TENSOR = 4; GRAPH = 5; FLOATS = 6; INTS = 7; STRINGS = 8; }
  string name = 1;
  AttributeType type = 20;
  float f = 2;
  int64 i = 3;
  bytes s = 4;
  TensorProto t = 5;
  repeated float floats = 7;
  repeated int64 ints = 8;
  repeated bytes strings = 9;
}

message ValueInfoProto {
  string name = 1;
  TypeProto type = 2;
  string doc_string = 3;
}

message NodeProto {
  repeated string input = 1;
  repeated string output = 2;
  string name = 3;
  string op_type = 4;
  string domain = 7;
  repeated AttributeProto attribute = 5;
  string doc_string = 6;
}

message ModelProto {
  int64 ir_version = 1;
  repeated OperatorSetIdProto opset_import = 8;
  string producer_name = 2;
  string producer_version = 3;
  string domain = 4;
  int64 model_version = 5;
  string doc_string = 6;
  GraphProto graph = 7;
  repeated StringStringEntryProto metadata_props = 14;
}

message StringStringEntryProto {
  string key = 1;
  string value = 2;
}

message GraphProto {
  repeated NodeProto node = 1;
  string name = 2;
  repeated TensorProto initializer = 5;
  string doc_string = 10;
  repeated ValueInfoProto input = 11;
  repeated ValueInfoProto output = 12;
  repeated ValueInfoProto value_info = 13;
}

message TensorProto {
  enum DataType { UNDEFINED = 0; FLOAT = 1; UINT8 = 2; INT8 = 3; UINT16 = 4; INT16 = 5; INT32 = 6; INT64 = 7; STRING = 8; BOOL = 9; FLOAT16 = 10; DOUBLE = 11; }
  repeated int64 dims = 1;
  int32 data_type = 2;
  repeated float float_data = 4 [packed = true];
  repeated int64 int64_data = 7 [packed = true];
  string name = 8;
  string doc_string = 12;
  bytes raw_data = 9;
  repeated double double_data = 10 [packed = true];
}

message TensorShapeProto {
  message Dimension {
    oneof value {
      int64 dim_value = 1;
      string dim_param = 2;
    }
    string denotation = 3;
  }
  repeated Dimension dim = 1;
}

message TypeProto {
  message Tensor {
    int32 elem_type = 1;
    TensorShapeProto shape = 2;
  }
  message Sequence {
    TypeProto elem_type = 1;
  }
  message Map {
    int32 key_type = 1;
    TypeProto value_type = 2;
  }
  oneof value {
    Tensor tensor_type = 1;
    Sequence sequence_type = 4;
    Map map_type = 5;
  }
  string denotation = 6;
}

message OperatorSetIdProto {
  string domain = 1;
  int64 version = 2;
}
`;

const root = protobuf.parse(ONNX_PROTO_SUBSET, { keepCase: true }).root;

export const ModelProto = root.lookupType('onnx.ModelProto');

/** ONNX TensorProto.DataType values used here. */
export const OnnxDataType = { FLOAT: 1, INT64: 7, STRING: 8, DOUBLE: 11 } as const;

/** Plain-object shape of the fields we write (protobufjs accepts numbers for int64). */
export interface OnnxModelObject {
  ir_version: number;
  opset_import: { domain: string; version: number }[];
  producer_name: string;
  producer_version: string;
  doc_string?: string;
  graph: {
    name: string;
    node: { input: string[]; output: string[]; name: string; op_type: string; domain?: string }[];
    initializer: { name: string; dims: number[]; data_type: number; raw_data?: Uint8Array; float_data?: number[] }[];
    input: OnnxValueInfo[];
    output: OnnxValueInfo[];
  };
  metadata_props: { key: string; value: string }[];
}

export interface OnnxValueInfo {
  name: string;
  type: { tensor_type: { elem_type: number; shape: { dim: ({ dim_value: number } | { dim_param: string })[] } } };
}

/** A value's type as the graph declares it: a tensor (with as much shape as is known), or something else. */
export type DecodedType =
  | { kind: 'tensor'; elemType: number; dims: (number | string | null)[] | null }
  | { kind: 'sequence-of-map'; keyType: number; valueType: number | null }
  | { kind: 'other' };

export interface DecodedNode {
  opType: string;
  domain: string;
  name: string;
  input: string[];
  output: string[];
  /** Integer-list and string-list attributes (class labels, post_transform), by attribute name. */
  ints: Map<string, number[]>;
  strings: Map<string, string[]>;
  text: Map<string, string>;
}

/** The parts of a model's graph that say how to feed it and read it: inputs, outputs, nodes and metadata. */
export interface DecodedGraph {
  producer: string;
  metadata: Map<string, string>;
  /** Graph inputs that are not initializers (older IR versions list initializers as inputs too). */
  inputs: { name: string; type: DecodedType }[];
  outputs: { name: string; type: DecodedType }[];
  nodes: DecodedNode[];
}

export function encodeModel(model: OnnxModelObject): Uint8Array {
  const err = ModelProto.verify(model);
  if (err) throw new Error(`invalid ONNX model object: ${err}`);
  return ModelProto.encode(ModelProto.fromObject(model)).finish();
}

/** Decoded model metadata (metadata_props) and producer; throws on bytes that are not a ModelProto. */
export function decodeModelHeader(bytes: Uint8Array): {
  producer: string;
  irVersion: number;
  metadata: Map<string, string>;
} {
  const decoded = ModelProto.toObject(ModelProto.decode(bytes), { longs: Number, defaults: true }) as {
    producer_name: string;
    ir_version: number;
    metadata_props: { key: string; value: string }[];
  };
  return {
    producer: decoded.producer_name,
    irVersion: decoded.ir_version,
    metadata: new Map(decoded.metadata_props.map((p) => [p.key, p.value])),
  };
}

interface RawType {
  tensor_type?: { elem_type: number; shape?: { dim: { dim_value?: number; dim_param?: string }[] } };
  sequence_type?: { elem_type?: RawType };
  map_type?: { key_type: number; value_type?: RawType };
}

function decodeType(t: RawType | undefined): DecodedType {
  if (t?.tensor_type) {
    const dims = t.tensor_type.shape
      ? t.tensor_type.shape.dim.map((d) => (d.dim_value !== undefined ? d.dim_value : (d.dim_param ?? null)))
      : null;
    return { kind: 'tensor', elemType: t.tensor_type.elem_type, dims };
  }
  const map = t?.sequence_type?.elem_type?.map_type;
  if (map)
    return {
      kind: 'sequence-of-map',
      keyType: map.key_type,
      valueType: map.value_type?.tensor_type?.elem_type ?? null,
    };
  return { kind: 'other' };
}

/** Decode the graph's interface and nodes (initializer contents are not kept); throws on bytes that are not a ModelProto. */
export function decodeGraph(bytes: Uint8Array): DecodedGraph {
  const m = ModelProto.toObject(ModelProto.decode(bytes), {
    longs: Number,
    bytes: String,
    defaults: false,
    oneofs: false,
  }) as {
    producer_name?: string;
    metadata_props?: { key?: string; value?: string }[];
    graph?: {
      node?: {
        input?: string[];
        output?: string[];
        name?: string;
        op_type?: string;
        domain?: string;
        attribute?: { name?: string; ints?: number[]; strings?: string[]; s?: string }[];
      }[];
      initializer?: { name?: string }[];
      input?: { name?: string; type?: RawType }[];
      output?: { name?: string; type?: RawType }[];
    };
  };
  const g = m.graph ?? {};
  const initialised = new Set((g.initializer ?? []).map((i) => i.name ?? ''));
  const b64 = (s: string) => Buffer.from(s, 'base64').toString('utf8');
  return {
    producer: m.producer_name ?? '',
    metadata: new Map((m.metadata_props ?? []).map((p) => [p.key ?? '', p.value ?? ''])),
    inputs: (g.input ?? [])
      .filter((v) => !initialised.has(v.name ?? ''))
      .map((v) => ({ name: v.name ?? '', type: decodeType(v.type) })),
    outputs: (g.output ?? []).map((v) => ({ name: v.name ?? '', type: decodeType(v.type) })),
    nodes: (g.node ?? []).map((n) => {
      const attrs = n.attribute ?? [];
      return {
        opType: n.op_type ?? '',
        domain: n.domain ?? '',
        name: n.name ?? '',
        input: n.input ?? [],
        output: n.output ?? [],
        ints: new Map(attrs.filter((a) => a.ints?.length).map((a) => [a.name ?? '', a.ints!.map(Number)])),
        strings: new Map(attrs.filter((a) => a.strings?.length).map((a) => [a.name ?? '', a.strings!.map(b64)])),
        text: new Map(attrs.filter((a) => a.s).map((a) => [a.name ?? '', b64(a.s!)])),
      };
    }),
  };
}

/**
 * Bytes that, appended to a serialized model, add graph outputs: protobuf merges a repeated message field
 * that occurs twice, so `model ‖ extra` parses as the model with these outputs added. Used to fetch the
 * probability tensor that feeds a ZipMap (onnxruntime-node cannot return sequences of maps) without
 * re-encoding, and so without dropping any field this subset does not declare.
 */
export function extraGraphOutputs(outputs: OnnxValueInfo[]): Uint8Array {
  return ModelProto.encode(ModelProto.fromObject({ graph: { output: outputs } })).finish();
}
