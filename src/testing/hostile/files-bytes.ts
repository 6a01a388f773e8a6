/**
 * Byte-level writers for hostile (and large legal) safetensors, ONNX and .npy files. Written from
 * the format specs, independent of the project's own serializers: a bug shared by a reader and its
 * writer must not hide here.
 */

const utf8 = new TextEncoder();

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.byteLength;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

// --- safetensors: u64 little-endian header length, JSON header, data -----------------------------

/** A safetensors file from its header text (not padded) and its data bytes. */
export function safetensorsBytes(headerJson: string, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const json = utf8.encode(headerJson);
  return concatBytes([u64le(BigInt(json.byteLength)), json, data]);
}

/** A safetensors prefix claiming `headerLength` bytes of header, followed by `rest`. */
export function safetensorsPrefix(headerLength: bigint, rest: string): Uint8Array {
  return concatBytes([u64le(headerLength), utf8.encode(rest)]);
}

export function u64le(value: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, value, true);
  return out;
}

// --- protobuf wire format (https://protobuf.dev/programming-guides/encoding/) --------------------

const WIRE_VARINT = 0;
const WIRE_LENGTH = 2;
const WIRE_FIXED32 = 5;

/** A varint; negative values as 64-bit two's complement (10 bytes), as protobuf writes int64. */
export function varint(value: number | bigint): Uint8Array {
  let v = BigInt.asUintN(64, BigInt(value));
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return Uint8Array.from(out);
}

/** A varint (wire type 0) field. */
export function pbVarint(field: number, value: number | bigint): Uint8Array {
  return concatBytes([varint(field * 8 + WIRE_VARINT), varint(value)]);
}

/** A length-delimited (wire type 2) field: a sub-message, string, bytes or packed values. */
export function pbBytes(field: number, payload: Uint8Array): Uint8Array {
  return concatBytes([varint(field * 8 + WIRE_LENGTH), varint(payload.byteLength), payload]);
}

export function pbString(field: number, text: string): Uint8Array {
  return pbBytes(field, utf8.encode(text));
}

/** A sub-message; its fields come as an array (spreading 200k of them into a call would overflow). */
export function pbMessage(field: number, fields: readonly Uint8Array[]): Uint8Array {
  return pbBytes(field, concatBytes(fields));
}

/** A length prefix alone: the bytes it promises are up to the caller (or missing). */
export function pbLengthHeader(field: number, length: number): Uint8Array {
  return concatBytes([varint(field * 8 + WIRE_LENGTH), varint(length)]);
}

export function pbFixed32Tag(field: number): Uint8Array {
  return varint(field * 8 + WIRE_FIXED32);
}

/**
 * ONNX field numbers (onnx.proto), only those the hostile files use. ModelProto: ir_version 1,
 * opset_import 8, graph 7. GraphProto: node 1, name 2, initializer 5. NodeProto: input 1, output 2,
 * op_type 4, attribute 5; input 11 and output 12 are ValueInfoProtos (name 1, type 2: TypeProto
 * tensor_type 1: elem_type 1, shape 2: dim 1: dim_value 1). AttributeProto: name 1, i 3, g 6, ints 8, type 20. TensorProto: dims 1,
 * data_type 2, float_data 4, name 8, raw_data 9, external_data 13, data_location 14.
 */
export const ONNX = {
  model: { irVersion: 1, graph: 7, opsetImport: 8 },
  opset: { version: 2 },
  graph: { node: 1, name: 2, initializer: 5, input: 11, output: 12 },
  valueInfo: { name: 1, type: 2 },
  typeProto: { tensorType: 1 },
  tensorType: { elemType: 1, shape: 2 },
  shape: { dim: 1 },
  dimension: { dimValue: 1 },
  node: { input: 1, output: 2, opType: 4, attribute: 5 },
  attribute: { name: 1, i: 3, g: 6, ints: 8, type: 20 },
  attributeType: { int: 2, graph: 5, ints: 7 },
  tensor: { dims: 1, dataType: 2, floatData: 4, name: 8, rawData: 9, externalData: 13, dataLocation: 14 },
  dataType: { float: 1 },
  entry: { key: 1, value: 2 },
} as const;

/** A ModelProto (IR 8, opset 17) around the given GraphProto fields. */
export function onnxModel(graphFields: readonly Uint8Array[]): Uint8Array {
  return concatBytes([
    pbVarint(ONNX.model.irVersion, 8),
    pbMessage(ONNX.model.opsetImport, [pbVarint(ONNX.opset.version, 17)]),
    pbMessage(ONNX.model.graph, [pbString(ONNX.graph.name, 'hostile'), ...graphFields]),
  ]);
}

/** A float32 initializer with the given dims and raw_data. */
export function onnxInitializer(name: string, dims: readonly (number | bigint)[], raw: Uint8Array): Uint8Array {
  return pbMessage(ONNX.graph.initializer, [
    ...dims.map((d) => pbVarint(ONNX.tensor.dims, d)),
    pbVarint(ONNX.tensor.dataType, ONNX.dataType.float),
    pbString(ONNX.tensor.name, name),
    pbBytes(ONNX.tensor.rawData, raw),
  ]);
}

/** A float32 graph input or output (`field`: ONNX.graph.input or .output) of fixed dims. */
export function onnxValueInfo(field: number, name: string, dims: readonly number[]): Uint8Array {
  const shape = pbMessage(
    ONNX.tensorType.shape,
    dims.map((d) => pbMessage(ONNX.shape.dim, [pbVarint(ONNX.dimension.dimValue, d)])),
  );
  const tensorType = pbMessage(ONNX.typeProto.tensorType, [pbVarint(ONNX.tensorType.elemType, ONNX.dataType.float), shape]);
  return pbMessage(field, [pbString(ONNX.valueInfo.name, name), pbMessage(ONNX.valueInfo.type, [tensorType])]);
}

export function onnxNode(opType: string, inputs: readonly string[], outputs: readonly string[], attributes: readonly Uint8Array[] = []): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const i of inputs) parts.push(pbString(ONNX.node.input, i));
  for (const o of outputs) parts.push(pbString(ONNX.node.output, o));
  parts.push(pbString(ONNX.node.opType, opType));
  for (const a of attributes) parts.push(a);
  return pbMessage(ONNX.graph.node, parts);
}

// --- .npy (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html) ---------------

/** An .npy file: magic, version, header length (u16 for 1.0, u32 for 2.0), header text, data. */
export function npyBytes(header: string, data: Uint8Array, options: { major?: 1 | 2; declaredLength?: number } = {}): Uint8Array {
  const major = options.major ?? 1;
  const text = utf8.encode(header);
  const lengthBytes = major === 1 ? 2 : 4;
  const prefix = new Uint8Array(8 + lengthBytes);
  prefix.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  const view = new DataView(prefix.buffer);
  const declared = options.declaredLength ?? text.byteLength;
  if (major === 1) view.setUint16(8, declared, true);
  else view.setUint32(8, declared, true);
  return concatBytes([prefix, text, data]);
}

/** A version 1.0 header dict, padded with spaces and a newline as numpy pads it. */
export function npyHeader(descr: string, fortranOrder: boolean, shape: string): string {
  const dict = `{'descr': '${descr}', 'fortran_order': ${fortranOrder ? 'True' : 'False'}, 'shape': ${shape}, }`;
  const unpadded = 10 + dict.length + 1;
  return `${dict}${' '.repeat((64 - (unpadded % 64)) % 64)}\n`;
}
