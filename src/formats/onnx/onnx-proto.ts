/**
 * The protobufjs codec for ModelProto plus TypeScript shapes of the messages as protobufjs decodes
 * them. Internal to src/formats/onnx/: nothing here leaks into the public OnnxModel types.
 *
 * Decoded messages keep present fields as own properties and absent optional fields as prototype
 * defaults, so presence is tested with `has`, never by comparing against a default value.
 */
import protobuf from 'protobufjs';
import { ONNX_SCHEMA } from './onnx-schema.js';

const root = protobuf.Root.fromJSON(ONNX_SCHEMA);

export const ModelProtoType: protobuf.Type = root.lookupType('onnx.ModelProto');

/** An int64 as protobufjs hands it out: a long.js Long (when loaded) or a number. */
export interface LongLike {
  readonly low: number;
  readonly high: number;
}
export type Int64 = number | LongLike;

export interface StringStringEntryMsg {
  key?: string;
  value?: string;
}

export interface TensorProtoMsg {
  dims?: Int64[];
  data_type?: number;
  segment?: object;
  float_data?: number[];
  int32_data?: number[];
  string_data?: Uint8Array[];
  int64_data?: Int64[];
  name?: string;
  doc_string?: string;
  raw_data?: Uint8Array;
  external_data?: StringStringEntryMsg[];
  data_location?: number;
  double_data?: number[];
  uint64_data?: Int64[];
}

export interface DimensionMsg {
  dim_value?: Int64;
  dim_param?: string;
}

export interface TypeProtoMsg {
  tensor_type?: { elem_type?: number; shape?: { dim?: DimensionMsg[] } };
  sequence_type?: object;
  map_type?: object;
  optional_type?: object;
  sparse_tensor_type?: object;
}

export interface ValueInfoProtoMsg {
  name?: string;
  type?: TypeProtoMsg;
}

export interface AttributeProtoMsg {
  name?: string;
  type?: number;
  f?: number;
  i?: Int64;
  s?: Uint8Array;
  t?: TensorProtoMsg;
  g?: GraphProtoMsg;
  floats?: number[];
  ints?: Int64[];
  strings?: Uint8Array[];
  tensors?: TensorProtoMsg[];
  graphs?: GraphProtoMsg[];
  sparse_tensors?: object[];
  type_protos?: object[];
}

export interface NodeProtoMsg {
  input?: string[];
  output?: string[];
  name?: string;
  op_type?: string;
  domain?: string;
  attribute?: AttributeProtoMsg[];
}

export interface GraphProtoMsg {
  node?: NodeProtoMsg[];
  name?: string;
  initializer?: TensorProtoMsg[];
  sparse_initializer?: object[];
  input?: ValueInfoProtoMsg[];
  output?: ValueInfoProtoMsg[];
  value_info?: ValueInfoProtoMsg[];
}

export interface OperatorSetIdProtoMsg {
  domain?: string;
  version?: Int64;
}

export interface ModelProtoMsg {
  ir_version?: Int64;
  opset_import?: OperatorSetIdProtoMsg[];
  producer_name?: string;
  producer_version?: string;
  graph?: GraphProtoMsg;
  metadata_props?: StringStringEntryMsg[];
}

/** TensorProto.DataType codes. */
export const DataType = {
  UNDEFINED: 0,
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
  COMPLEX64: 14,
  COMPLEX128: 15,
  BFLOAT16: 16,
} as const;

/** AttributeProto.AttributeType codes. */
export const AttributeType = {
  UNDEFINED: 0,
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  GRAPH: 5,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
  TENSORS: 9,
  GRAPHS: 10,
  SPARSE_TENSORS: 12,
  SPARSE_TENSOR: 11,
  TYPE_PROTO: 13,
  TYPE_PROTOS: 14,
} as const;

export const DATA_LOCATION_EXTERNAL = 1;

/** True when the decoded message carries `field` (absent optional fields live on the prototype). */
export function has<T extends object>(message: T, field: keyof T & string): boolean {
  return Object.hasOwn(message, field) && message[field] !== undefined && message[field] !== null;
}

/** The name of an enum code for messages (e.g. 'COMPLEX64'), or the bare number when unknown. */
export function codeName(codes: Record<string, number>, code: number): string {
  const name = Object.keys(codes).find((k) => codes[k] === code);
  return name ?? String(code);
}

/** The exact value of a decoded int64, or undefined when it lies outside the safe-integer range. */
export function int64ToSafeNumber(v: Int64): number | undefined {
  const n = typeof v === 'number' ? v : v.high * 2 ** 32 + (v.low >>> 0);
  return Number.isSafeInteger(n) ? n : undefined;
}

export function int64ToBigInt(v: Int64): bigint {
  if (typeof v === 'number') return BigInt(v);
  return BigInt.asIntN(64, (BigInt(v.high) << 32n) | BigInt(v.low >>> 0));
}
