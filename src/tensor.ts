/**
 * The one tensor type of the project: a dtype, a shape and a flat, C-ordered, little-endian buffer.
 *
 * float16 and bfloat16 are kept as their raw 16-bit patterns (Uint16Array) so that a file read and
 * written again is byte-identical; `toFloat32` converts them exactly (every half and bfloat value is
 * representable in float32).
 */
import { endianness } from 'node:os';

export const DTYPES = ['float32', 'float16', 'bfloat16', 'float64', 'int64', 'int32', 'uint8', 'bool'] as const;
export type DType = (typeof DTYPES)[number];

export interface TensorDataMap {
  float32: Float32Array;
  float16: Uint16Array;
  bfloat16: Uint16Array;
  float64: Float64Array;
  int64: BigInt64Array;
  int32: Int32Array;
  uint8: Uint8Array;
  bool: Uint8Array;
}
export type TensorData = TensorDataMap[DType];

export interface Tensor<D extends DType = DType> {
  readonly dtype: D;
  readonly shape: readonly number[];
  readonly data: TensorDataMap[D];
}

if (endianness() !== 'LE') {
  // Every format we read stores little-endian data and we view file bytes directly as typed arrays.
  throw new Error('neural-lineage needs a little-endian machine');
}

const BYTES_PER_ELEMENT: Record<DType, number> = {
  float32: 4,
  float16: 2,
  bfloat16: 2,
  float64: 8,
  int64: 8,
  int32: 4,
  uint8: 1,
  bool: 1,
};

export function isDType(name: string): name is DType {
  return (DTYPES as readonly string[]).includes(name);
}

export function dtypeSize(dtype: DType): number {
  return BYTES_PER_ELEMENT[dtype];
}

/** Product of the dimensions; throws on a negative or non-integer dimension. */
export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) throw new Error(`invalid dimension ${String(d)} in shape [${shape.join(',')}]`);
    n *= d;
  }
  if (!Number.isSafeInteger(n)) throw new Error(`shape [${shape.join(',')}] has too many elements`);
  return n;
}

export function tensorByteLength(t: Tensor): number {
  return shapeSize(t.shape) * dtypeSize(t.dtype);
}

function allocate<D extends DType>(dtype: D, buffer: ArrayBuffer, byteOffset: number, length: number): TensorDataMap[D] {
  switch (dtype) {
    case 'float32':
      return new Float32Array(buffer, byteOffset, length) as TensorDataMap[D];
    case 'float16':
    case 'bfloat16':
      return new Uint16Array(buffer, byteOffset, length) as TensorDataMap[D];
    case 'float64':
      return new Float64Array(buffer, byteOffset, length) as TensorDataMap[D];
    case 'int64':
      return new BigInt64Array(buffer, byteOffset, length) as TensorDataMap[D];
    case 'int32':
      return new Int32Array(buffer, byteOffset, length) as TensorDataMap[D];
    case 'uint8':
    case 'bool':
      return new Uint8Array(buffer, byteOffset, length) as TensorDataMap[D];
    default:
      throw new Error(`unknown dtype ${String(dtype)}`);
  }
}

/**
 * Builds a tensor from raw little-endian bytes. The bytes are copied when they are not aligned for
 * the element type (typed arrays need aligned offsets) or when `copy` is set, so the result never
 * aliases a buffer the caller may reuse unless asked to.
 */
export function tensorFromBytes<D extends DType>(dtype: D, shape: readonly number[], bytes: Uint8Array, copy = true): Tensor<D> {
  const n = shapeSize(shape);
  const size = dtypeSize(dtype);
  if (bytes.byteLength !== n * size) {
    throw new Error(`${dtype} tensor of shape [${shape.join(',')}] needs ${n * size} bytes, got ${bytes.byteLength}`);
  }
  let source = bytes;
  if (copy || source.byteOffset % size !== 0) source = new Uint8Array(bytes);
  return { dtype, shape: [...shape], data: allocate(dtype, source.buffer as ArrayBuffer, source.byteOffset, n) };
}

/** The tensor's little-endian bytes as a view (no copy). */
export function tensorBytes(t: Tensor): Uint8Array {
  const d = t.data;
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}

export function makeTensor<D extends DType>(dtype: D, shape: readonly number[], data: TensorDataMap[D]): Tensor<D> {
  const n = shapeSize(shape);
  if (data.length !== n) throw new Error(`tensor of shape [${shape.join(',')}] needs ${n} elements, got ${data.length}`);
  return { dtype, shape: [...shape], data };
}

export function float32Tensor(shape: readonly number[], data?: ArrayLike<number>): Tensor<'float32'> {
  const n = shapeSize(shape);
  const arr = data ? Float32Array.from(data) : new Float32Array(n);
  return makeTensor('float32', shape, arr);
}

// --- half-precision conversions -------------------------------------------------------------

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Exact value of an IEEE 754 binary16 bit pattern. */
export function float16BitsToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24; // zero and subnormals
  if (exp === 0x1f) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** Exact value of a bfloat16 bit pattern (the upper half of a float32). */
export function bfloat16BitsToNumber(b: number): number {
  u32[0] = (b & 0xffff) << 16;
  return f32[0];
}

/** Nearest binary16 (round half to even), with overflow to infinity; NaN stays NaN. */
export function numberToFloat16Bits(x: number): number {
  f32[0] = x;
  const bits = u32[0];
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  const mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign; // underflows to signed zero
    const m = mant | 0x800000;
    const shift = 14 - e;
    let half = m >>> shift;
    const rest = m & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rest > mid || (rest === mid && half & 1)) half += 1;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half += 1; // may carry into the exponent: correct
  return sign | half;
}

/** Nearest bfloat16 (round half to even); NaN stays a quiet NaN. */
export function numberToBfloat16Bits(x: number): number {
  f32[0] = x;
  const bits = u32[0];
  if ((bits & 0x7f800000) === 0x7f800000 && bits & 0x7fffff) return ((bits >>> 16) | 0x40) & 0xffff;
  const rounded = bits + 0x7fff + ((bits >>> 16) & 1);
  return (rounded >>> 16) & 0xffff;
}

/** The tensor's values as float32 (exact for float16/bfloat16/int32/uint8; rounded for float64/int64). */
export function toFloat32(t: Tensor): Float32Array {
  const n = t.data.length;
  switch (t.dtype) {
    case 'float32':
      return t.data as Float32Array;
    case 'float16': {
      const src = t.data as Uint16Array;
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = float16BitsToNumber(src[i]);
      return out;
    }
    case 'bfloat16': {
      const src = t.data as Uint16Array;
      const out = new Float32Array(n);
      const outBits = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) outBits[i] = src[i] << 16;
      return out;
    }
    case 'int64': {
      const src = t.data as BigInt64Array;
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = Number(src[i]);
      return out;
    }
    default:
      return Float32Array.from(t.data as Float64Array | Int32Array | Uint8Array);
  }
}

/** A float32 tensor with the same shape and values (see `toFloat32`). */
export function asFloat32(t: Tensor): Tensor<'float32'> {
  return t.dtype === 'float32' ? (t as Tensor<'float32'>) : makeTensor('float32', t.shape, toFloat32(t));
}

/** Converts float32 values into a tensor of the requested dtype (rounding to nearest for halves). */
export function fromFloat32<D extends DType>(dtype: D, shape: readonly number[], values: Float32Array): Tensor<D> {
  const n = values.length;
  let data: TensorData;
  switch (dtype) {
    case 'float32':
      data = values;
      break;
    case 'float16':
      data = Uint16Array.from(values, numberToFloat16Bits);
      break;
    case 'bfloat16':
      data = Uint16Array.from(values, numberToBfloat16Bits);
      break;
    case 'float64':
      data = Float64Array.from(values);
      break;
    case 'int64': {
      const out = new BigInt64Array(n);
      for (let i = 0; i < n; i++) out[i] = BigInt(Math.trunc(values[i]));
      data = out;
      break;
    }
    case 'int32':
      data = Int32Array.from(values);
      break;
    case 'uint8':
      data = Uint8Array.from(values);
      break;
    case 'bool':
      data = Uint8Array.from(values, (v) => (v !== 0 ? 1 : 0));
      break;
    default:
      throw new Error(`unknown dtype ${String(dtype)}`);
  }
  return makeTensor(dtype, shape, data as TensorDataMap[D]);
}

/** True when both tensors have the same dtype, shape and bytes (NaN payloads compared bitwise). */
export function tensorsIdentical(a: Tensor, b: Tensor): boolean {
  if (a.dtype !== b.dtype || a.shape.length !== b.shape.length) return false;
  for (let i = 0; i < a.shape.length; i++) if (a.shape[i] !== b.shape[i]) return false;
  return Buffer.compare(Buffer.from(tensorBytes(a)), Buffer.from(tensorBytes(b))) === 0;
}

/** Ordered map from tensor name to tensor, the shape of every weight file in this project. */
export type Weights = Map<string, Tensor>;
