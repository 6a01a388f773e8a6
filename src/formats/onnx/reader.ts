/**
 * ONNX protobuf bytes -> OnnxModel. The file is hostile: every problem becomes a FormatError that
 * names the file and the offending tensor, node or attribute.
 */
import type { Tensor } from '../../tensor.js';
import { FormatError, check } from '../errors.js';
import type { OnnxAttribute, OnnxAttributes, OnnxDim, OnnxGraph, OnnxModel, OnnxNode, OnnxValueInfo } from './model.js';
import {
  AttributeType,
  type AttributeProtoMsg,
  type GraphProtoMsg,
  type Int64,
  type ModelProtoMsg,
  ModelProtoType,
  type NodeProtoMsg,
  type StringStringEntryMsg,
  type ValueInfoProtoMsg,
  codeName,
  has,
  int64ToBigInt,
  int64ToSafeNumber,
} from './onnx-proto.js';
import { decodeTensorProto, describeDataType, dtypeFromOnnx } from './tensor-proto.js';
import type { ExternalDataLoader } from './external-data.js';
import { scanOnnxWire } from './wire-scan.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function safeInt(v: Int64, file: string, what: string): number {
  const n = int64ToSafeNumber(v);
  check(n !== undefined, file, () => `${what} is ${int64ToBigInt(v)}, outside the range this reader supports (|x| < 2^53)`);
  return n;
}

function decodeUtf8(bytes: Uint8Array, file: string, what: string): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new FormatError(file, `${what} is not valid UTF-8`);
  }
}

/** Object.fromEntries defines own properties, so keys such as '__proto__' are stored, not applied. */
function uniqueRecord<T>(entries: [string, T][], file: string, what: string): Record<string, T> {
  const seen = new Set<string>();
  for (const [key] of entries) {
    check(!seen.has(key), file, () => `duplicate ${what} '${key}'`);
    seen.add(key);
  }
  return Object.fromEntries(entries);
}

function attributeType(a: AttributeProtoMsg): number {
  if (has(a, 'type') && a.type !== AttributeType.UNDEFINED) return a.type as number;
  // IR version 1 files carry no type: infer it from the one field that is set.
  if (has(a, 'f')) return AttributeType.FLOAT;
  if (has(a, 'i')) return AttributeType.INT;
  if (has(a, 's')) return AttributeType.STRING;
  if (has(a, 't')) return AttributeType.TENSOR;
  if (has(a, 'g')) return AttributeType.GRAPH;
  if ((a.floats ?? []).length > 0) return AttributeType.FLOATS;
  if ((a.ints ?? []).length > 0) return AttributeType.INTS;
  if ((a.strings ?? []).length > 0) return AttributeType.STRINGS;
  return AttributeType.UNDEFINED;
}

export interface ParseOnnxOptions {
  /** Takes each tensor kept in an external file; without it such a tensor is refused. */
  loadExternal?: ExternalDataLoader;
}

class Reader {
  constructor(
    private readonly file: string,
    private readonly loadExternal: ExternalDataLoader | undefined,
  ) {}

  model(msg: ModelProtoMsg): OnnxModel {
    const { file } = this;
    check(has(msg, 'graph'), file, 'not an ONNX model (no graph in the protobuf)');
    check(has(msg, 'ir_version'), file, 'not an ONNX model (no ir_version in the protobuf)');
    const opsetImports = (msg.opset_import ?? []).map((o) => ({
      domain: o.domain ?? '',
      version: safeInt(o.version ?? 0, file, `opset version of domain '${o.domain ?? ''}'`),
    }));
    return {
      irVersion: safeInt(msg.ir_version as Int64, file, 'ir_version'),
      opsetImports,
      producerName: msg.producer_name ?? '',
      graph: this.graph(msg.graph as GraphProtoMsg, 'main graph'),
      metadata: this.metadata(msg.metadata_props ?? []),
    };
  }

  private metadata(props: StringStringEntryMsg[]): Record<string, string> {
    return uniqueRecord(
      props.map((p) => [p.key ?? '', p.value ?? '']),
      this.file,
      'metadata key',
    );
  }

  private graph(msg: GraphProtoMsg, where: string): OnnxGraph {
    const { file } = this;
    check((msg.sparse_initializer ?? []).length === 0, file, `${where} has sparse initializers, which are not supported`);
    const initializers = new Map<string, Tensor>();
    for (const [i, t] of (msg.initializer ?? []).entries()) {
      const name = t.name ?? '';
      check(name !== '', file, `initializer #${i} of the ${where} has no name`);
      check(!initializers.has(name), file, `duplicate initializer '${name}' in the ${where}`);
      initializers.set(name, decodeTensorProto(t, file, `initializer '${name}'`, this.loadExternal));
    }
    return {
      name: msg.name ?? '',
      nodes: (msg.node ?? []).map((n, i) => this.node(n, i, where)),
      initializers,
      inputs: (msg.input ?? []).map((v) => this.valueInfo(v, `input of the ${where}`)),
      outputs: (msg.output ?? []).map((v) => this.valueInfo(v, `output of the ${where}`)),
      valueInfo: (msg.value_info ?? []).map((v) => this.valueInfo(v, `value_info of the ${where}`)),
    };
  }

  private valueInfo(msg: ValueInfoProtoMsg, where: string): OnnxValueInfo {
    const { file } = this;
    const name = msg.name ?? '';
    check(name !== '', file, `an ${where} has no name`);
    const info: OnnxValueInfo = { name };
    const type = msg.type;
    if (!type || !has(msg, 'type')) return info;
    const nonTensor = (['sequence_type', 'map_type', 'optional_type', 'sparse_tensor_type'] as const).find((f) => has(type, f));
    check(!nonTensor, file, () => `${where} '${name}' has a ${String(nonTensor).replace('_type', '')} type; only tensors are supported`);
    const tensorType = type.tensor_type;
    if (!tensorType || !has(type, 'tensor_type')) return info;
    if (has(tensorType, 'elem_type') && tensorType.elem_type !== 0) {
      const code = tensorType.elem_type as number;
      const dtype = dtypeFromOnnx(code);
      check(dtype, file, () => `${where} '${name}' has element type ${describeDataType(code)}, which is not supported`);
      info.elemType = dtype;
    }
    const shape = tensorType.shape;
    if (shape && has(tensorType, 'shape')) {
      info.shape = (shape.dim ?? []).map((d): OnnxDim => {
        if (has(d, 'dim_value')) {
          const n = safeInt(d.dim_value as Int64, file, `a dimension of ${where} '${name}'`);
          check(n >= 0, file, () => `${where} '${name}' has negative dimension ${n}`);
          return n;
        }
        if (has(d, 'dim_param')) return d.dim_param as string;
        return null;
      });
    }
    return info;
  }

  private node(msg: NodeProtoMsg, index: number, where: string): OnnxNode {
    const name = msg.name ?? '';
    const opType = msg.op_type ?? '';
    const label = `node '${name || `#${index}`}' (${opType || 'no op_type'}) of the ${where}`;
    check(opType !== '', this.file, `${label} has no op_type`);
    const attributes: OnnxAttributes = uniqueRecord(
      (msg.attribute ?? []).map((a) => [a.name ?? '', this.attribute(a, label)]),
      this.file,
      `attribute in ${label}:`,
    );
    return {
      name,
      opType,
      domain: msg.domain ?? '',
      inputs: [...(msg.input ?? [])],
      outputs: [...(msg.output ?? [])],
      attributes,
    };
  }

  private attribute(a: AttributeProtoMsg, nodeLabel: string): OnnxAttribute {
    const { file } = this;
    const name = a.name ?? '';
    check(name !== '', file, `an attribute of ${nodeLabel} has no name`);
    const what = `attribute '${name}' of ${nodeLabel}`;
    const type = attributeType(a);
    switch (type) {
      case AttributeType.FLOAT:
        return { type: 'float', value: a.f ?? 0 };
      case AttributeType.INT:
        return { type: 'int', value: safeInt(a.i ?? 0, file, what) };
      case AttributeType.STRING:
        return { type: 'string', value: decodeUtf8(a.s ?? new Uint8Array(0), file, what) };
      case AttributeType.TENSOR:
        check(a.t && has(a, 't'), file, `${what} has type TENSOR but no tensor`);
        return { type: 'tensor', value: decodeTensorProto(a.t, file, `tensor of ${what}`, this.loadExternal) };
      case AttributeType.GRAPH:
        check(a.g && has(a, 'g'), file, `${what} has type GRAPH but no graph`);
        return { type: 'graph', value: this.graph(a.g, `subgraph in ${what}`) };
      case AttributeType.FLOATS:
        return { type: 'floats', value: [...(a.floats ?? [])] };
      case AttributeType.INTS:
        return { type: 'ints', value: (a.ints ?? []).map((v) => safeInt(v, file, `an element of ${what}`)) };
      case AttributeType.STRINGS:
        return { type: 'strings', value: (a.strings ?? []).map((s) => decodeUtf8(s, file, `an element of ${what}`)) };
      case AttributeType.UNDEFINED:
        throw new FormatError(file, `${what} has no type and no value`);
      default:
        throw new FormatError(file, `${what} has type ${codeName(AttributeType, type)}, which is not supported`);
    }
  }
}

/**
 * Parses an ONNX model. Tensors read from raw_data may be views into `bytes` (no copy), so do not
 * reuse that buffer while the model is alive. `file` only names the source in error messages.
 */
export function parseOnnxModel(bytes: Uint8Array, file = '<buffer>', options: ParseOnnxOptions = {}): OnnxModel {
  // Bounds what protobufjs may allocate before it allocates anything (see wire-scan.ts).
  scanOnnxWire(bytes, file);
  let msg: ModelProtoMsg;
  try {
    msg = ModelProtoType.decode(bytes) as ModelProtoMsg;
  } catch (err) {
    throw new FormatError(file, `not a valid ONNX protobuf (${message(err)})`);
  }
  try {
    return new Reader(file, options.loadExternal).model(msg);
  } catch (err) {
    if (err instanceof FormatError) throw err;
    throw new FormatError(file, `invalid ONNX model (${message(err)})`);
  }
}
