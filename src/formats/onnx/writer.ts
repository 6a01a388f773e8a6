/**
 * OnnxModel -> ONNX protobuf bytes. Tensors are written as raw_data; the output loads in ONNX
 * Runtime and in the Python onnx package.
 */
import type { OnnxAttribute, OnnxGraph, OnnxModel, OnnxNode, OnnxValueInfo } from './model.js';
import {
  AttributeType,
  type AttributeProtoMsg,
  type DimensionMsg,
  type GraphProtoMsg,
  type ModelProtoMsg,
  ModelProtoType,
  type NodeProtoMsg,
  type ValueInfoProtoMsg,
} from './onnx-proto.js';
import { encodeTensorProto, onnxDataType } from './tensor-proto.js';

const utf8 = new TextEncoder();

function safeInt(value: number, what: string): number {
  if (!Number.isSafeInteger(value)) throw new RangeError(`${what}: ${value} is not a safe integer`);
  return value;
}

function encodeAttribute(name: string, attr: OnnxAttribute, where: string): AttributeProtoMsg {
  const what = `attribute '${name}' of ${where}`;
  switch (attr.type) {
    case 'float':
      return { name, type: AttributeType.FLOAT, f: attr.value };
    case 'int':
      return { name, type: AttributeType.INT, i: safeInt(attr.value, what) };
    case 'string':
      return { name, type: AttributeType.STRING, s: utf8.encode(attr.value) };
    case 'tensor':
      return { name, type: AttributeType.TENSOR, t: encodeTensorProto('', attr.value) };
    case 'graph':
      return { name, type: AttributeType.GRAPH, g: encodeGraph(attr.value) };
    case 'floats':
      return { name, type: AttributeType.FLOATS, floats: [...attr.value] };
    case 'ints':
      return { name, type: AttributeType.INTS, ints: attr.value.map((v) => safeInt(v, what)) };
    case 'strings':
      return { name, type: AttributeType.STRINGS, strings: attr.value.map((s) => utf8.encode(s)) };
    default:
      throw new TypeError(`${what} has unknown type ${String((attr as { type: unknown }).type)}`);
  }
}

function encodeNode(node: OnnxNode): NodeProtoMsg {
  const where = `node '${node.name}' (${node.opType})`;
  const msg: NodeProtoMsg = {
    input: [...node.inputs],
    output: [...node.outputs],
    op_type: node.opType,
    attribute: Object.entries(node.attributes).map(([name, attr]) => encodeAttribute(name, attr, where)),
  };
  if (node.name !== '') msg.name = node.name;
  if (node.domain !== '') msg.domain = node.domain;
  return msg;
}

function encodeValueInfo(info: OnnxValueInfo): ValueInfoProtoMsg {
  if (info.elemType === undefined && info.shape === undefined) return { name: info.name };
  const tensorType: NonNullable<NonNullable<ValueInfoProtoMsg['type']>['tensor_type']> = {};
  if (info.elemType !== undefined) tensorType.elem_type = onnxDataType(info.elemType);
  if (info.shape !== undefined) {
    tensorType.shape = {
      dim: info.shape.map((d): DimensionMsg => {
        if (typeof d === 'number') return { dim_value: safeInt(d, `a dimension of '${info.name}'`) };
        if (typeof d === 'string') return { dim_param: d };
        return {};
      }),
    };
  }
  return { name: info.name, type: { tensor_type: tensorType } };
}

function encodeGraph(graph: OnnxGraph): GraphProtoMsg {
  return {
    node: graph.nodes.map(encodeNode),
    name: graph.name,
    initializer: [...graph.initializers].map(([name, t]) => encodeTensorProto(name, t)),
    input: graph.inputs.map(encodeValueInfo),
    output: graph.outputs.map(encodeValueInfo),
    value_info: graph.valueInfo.map(encodeValueInfo),
  };
}

export function serializeOnnxModel(model: OnnxModel): Uint8Array {
  const msg: ModelProtoMsg = {
    ir_version: safeInt(model.irVersion, 'irVersion'),
    opset_import: model.opsetImports.map((o) => {
      const version = safeInt(o.version, `opset version of '${o.domain}'`);
      return o.domain === '' ? { version } : { domain: o.domain, version };
    }),
    producer_name: model.producerName,
    graph: encodeGraph(model.graph),
    metadata_props: Object.entries(model.metadata).map(([key, value]) => ({ key, value })),
  };
  const buf = ModelProtoType.encode(msg).finish();
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}
