/**
 * TensorProto <-> Tensor. Reads every data field the ONNX spec allows for our dtypes (raw_data,
 * float_data, int32_data, int64_data, double_data) and always writes raw_data.
 */
import { type DType, type Tensor, type TensorData, dtypeSize, makeTensor, tensorBytes, tensorFromBytes } from '../../tensor.js';
import { FormatError, check } from '../errors.js';
import { DATA_LOCATION_EXTERNAL, DataType, type TensorProtoMsg, codeName, has, int64ToBigInt, int64ToSafeNumber } from './onnx-proto.js';
import { parseExternalData, type ExternalDataLoader } from './external-data.js';

const ONNX_TO_DTYPE: ReadonlyMap<number, DType> = new Map<number, DType>([
  [DataType.FLOAT, 'float32'],
  [DataType.UINT8, 'uint8'],
  [DataType.INT32, 'int32'],
  [DataType.INT64, 'int64'],
  [DataType.BOOL, 'bool'],
  [DataType.FLOAT16, 'float16'],
  [DataType.DOUBLE, 'float64'],
  [DataType.BFLOAT16, 'bfloat16'],
]);

const DTYPE_TO_ONNX: Record<DType, number> = {
  float32: DataType.FLOAT,
  uint8: DataType.UINT8,
  int32: DataType.INT32,
  int64: DataType.INT64,
  bool: DataType.BOOL,
  float16: DataType.FLOAT16,
  float64: DataType.DOUBLE,
  bfloat16: DataType.BFLOAT16,
};

/** Our dtype for an ONNX data_type / elem_type code, or undefined when we have none. */
export function dtypeFromOnnx(code: number): DType | undefined {
  return ONNX_TO_DTYPE.get(code);
}

export function onnxDataType(dtype: DType): number {
  return DTYPE_TO_ONNX[dtype];
}

export function describeDataType(code: number): string {
  return `${codeName(DataType, code)} (${code})`;
}

const SUPPORTED = [...ONNX_TO_DTYPE.keys()].map((c) => codeName(DataType, c)).join(', ');

/** The typed field (besides raw_data) that ONNX uses for each of our dtypes. */
type TypedField = 'float_data' | 'int32_data' | 'int64_data' | 'double_data';
const TYPED_FIELD: Record<DType, TypedField> = {
  float32: 'float_data',
  float16: 'int32_data',
  bfloat16: 'int32_data',
  uint8: 'int32_data',
  bool: 'int32_data',
  int32: 'int32_data',
  int64: 'int64_data',
  float64: 'double_data',
};
const ALL_DATA_FIELDS = ['float_data', 'int32_data', 'int64_data', 'double_data', 'string_data', 'uint64_data'] as const;

/** Inclusive range of int32_data entries for the dtypes packed into it. */
const INT32_DATA_RANGE: Partial<Record<DType, [number, number]>> = {
  float16: [0, 0xffff],
  bfloat16: [0, 0xffff],
  uint8: [0, 0xff],
  bool: [0, 1],
};

function decodeShape(msg: TensorProtoMsg, file: string, what: string): number[] {
  const shape: number[] = [];
  for (const d of msg.dims ?? []) {
    const n = int64ToSafeNumber(d);
    check(n !== undefined, file, () => `${what} has dimension ${int64ToBigInt(d)}, which is out of range`);
    check(n >= 0, file, () => `${what} has negative dimension ${n}`);
    shape.push(n);
  }
  return shape;
}

function elementCount(shape: readonly number[], file: string, what: string): number {
  let n = 1;
  for (const d of shape) {
    n *= d;
    // Checked at every step: a later 0 would hide an overflow ([2^40, 2^40, 0] has 0 elements).
    check(Number.isSafeInteger(n), file, () => `${what} has too many elements (shape [${shape.join(',')}])`);
  }
  return n;
}

function fromTypedField(dtype: DType, shape: number[], n: number, msg: TensorProtoMsg, file: string, what: string): Tensor {
  const field = TYPED_FIELD[dtype];
  const values = (msg[field] ?? []) as unknown[];
  check(values.length === n, file, () => `${what} has shape [${shape.join(',')}] (${n} elements) but ${field} holds ${values.length}`);
  let data: TensorData;
  switch (field) {
    case 'float_data':
      data = Float32Array.from(values as number[]);
      break;
    case 'double_data':
      data = Float64Array.from(values as number[]);
      break;
    case 'int64_data':
      data = BigInt64Array.from(msg.int64_data ?? [], int64ToBigInt);
      break;
    case 'int32_data': {
      const ints = values as number[];
      const range = INT32_DATA_RANGE[dtype];
      if (range) {
        const bad = ints.findIndex((v) => v < range[0] || v > range[1]);
        check(bad < 0, file, () => `${what}: int32_data value ${ints[bad]} is out of range for ${dtype}`);
      }
      data = dtype === 'int32' ? Int32Array.from(ints) : dtype === 'float16' || dtype === 'bfloat16' ? Uint16Array.from(ints) : Uint8Array.from(ints);
      break;
    }
  }
  return makeTensor(dtype, shape, data);
}

/**
 * Decodes a TensorProto. raw_data becomes a view into the protobuf buffer when it is aligned for
 * the dtype (zero copy), else a copy. `what` names the tensor in error messages. A tensor kept in
 * an external file is handed, checked, to `loadExternal`, and refused when there is none.
 */
export function decodeTensorProto(msg: TensorProtoMsg, file: string, what: string, loadExternal?: ExternalDataLoader): Tensor {
  const code = msg.data_type ?? 0;
  const dtype = dtypeFromOnnx(code);
  if (!dtype) throw new FormatError(file, `${what} has data type ${describeDataType(code)}, which is not supported (supported: ${SUPPORTED})`);
  check(!has(msg, 'segment'), file, `${what} is a segment of a larger tensor, which is not supported`);
  const external = msg.data_location === DATA_LOCATION_EXTERNAL || (msg.external_data ?? []).length > 0;
  check(
    !external || loadExternal !== undefined,
    file,
    `${what} keeps its data in an external file; external data not supported (save the model with onnx.save_model(model, path, save_as_external_data=False))`,
  );
  const shape = decodeShape(msg, file, what);
  const n = elementCount(shape, file, what);
  if (external && loadExternal !== undefined) {
    const inline = has(msg, 'raw_data') ? 'raw_data' : ALL_DATA_FIELDS.find((field) => (msg[field] ?? []).length > 0);
    check(inline === undefined, file, () => `${what} keeps its data in an external file but also has ${inline}`);
    return loadExternal(parseExternalData(msg.external_data ?? [], dtype, shape, n * dtypeSize(dtype), file, what), what);
  }
  const typedField = TYPED_FIELD[dtype];
  for (const field of ALL_DATA_FIELDS) {
    const present = (msg[field] ?? []).length > 0;
    check(!present || (field === typedField && !has(msg, 'raw_data')), file, () =>
      has(msg, 'raw_data') ? `${what} has both raw_data and ${field}` : `${what} has ${field}, which does not fit its data type ${dtype}`,
    );
  }
  let tensor: Tensor;
  if (has(msg, 'raw_data')) {
    const raw = msg.raw_data as Uint8Array;
    const expected = n * dtypeSize(dtype);
    check(
      raw.byteLength === expected,
      file,
      () => `${what}: ${dtype} tensor of shape [${shape.join(',')}] needs ${expected} bytes of raw_data, found ${raw.byteLength}`,
    );
    tensor = tensorFromBytes(dtype, shape, raw, false);
  } else {
    tensor = fromTypedField(dtype, shape, n, msg, file, what);
  }
  if (dtype === 'bool') {
    const bad = (tensor.data as Uint8Array).findIndex((v) => v > 1);
    check(bad < 0, file, () => `${what}: bool element ${bad} has byte value ${(tensor.data as Uint8Array)[bad]}, expected 0 or 1`);
  }
  return tensor;
}

/** A TensorProto with raw_data (a view of the tensor's bytes; protobufjs copies it when writing). */
export function encodeTensorProto(name: string, tensor: Tensor): TensorProtoMsg {
  const msg: TensorProtoMsg = { dims: [...tensor.shape], data_type: onnxDataType(tensor.dtype), raw_data: tensorBytes(tensor) };
  if (name !== '') msg.name = name;
  return msg;
}
