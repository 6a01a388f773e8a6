/**
 * Stored little-endian elements to float32, the same way reading a file whole and calling
 * toFloat32 does (exact for the 8- and 16-bit floats and the small integers; float64 and 64-bit
 * integers rounded).
 */
import { toFloat32 } from '../tensor.js';
import { storedDtypeSize, type SafetensorsDtype } from '../formats/safetensors/dtypes.js';
import { storedTensor } from '../formats/safetensors/widen.js';

/** A dtype a model source can decode element by element: every DType, plus float8 and the small integers. */
export type ElementDtype = SafetensorsDtype;

/**
 * bfloat16 is the upper half of a float32, so shifting the 16 bits up is exact. Compared streams
 * of bf16 weights spend most of their time here: one tight loop into a fresh buffer, without the
 * generic Tensor path (which costs about twice as much per element).
 */
function bfloat16ToFloat32(bytes: Uint8Array): Float32Array {
  const n = bytes.byteLength >>> 1;
  const src = bytes.byteOffset % 2 === 0 ? new Uint16Array(bytes.buffer, bytes.byteOffset, n) : new Uint16Array(bytes.slice().buffer, 0, n);
  const bits = new Int32Array(n);
  for (let i = 0; i < n; i++) bits[i] = src[i] << 16;
  return new Float32Array(bits.buffer);
}

/** Float32 values of `bytes`, whole elements of `dtype`; never a view of a buffer larger than the result. */
export function decodeFloat32(dtype: ElementDtype, bytes: Uint8Array): Float32Array {
  if (dtype === 'bfloat16' && bytes.byteLength % 2 === 0) return bfloat16ToFloat32(bytes);
  const n = bytes.byteLength / storedDtypeSize(dtype);
  const values = toFloat32(storedTensor(dtype, [n], bytes, false));
  // float32 data comes back as a view of `bytes`: keep it only when it spans its whole buffer,
  // so that a few rows cut from a tensor read whole do not keep the whole tensor alive.
  const whole = values.byteOffset === 0 && values.byteLength === values.buffer.byteLength;
  return whole ? values : values.slice();
}

/**
 * The bf16 elements stored in the upper half of `buffer`, widened in place to float32 filling all
 * of it. Going forward is safe: element i is read (at byte 2n + 2i) before float i is written (at
 * bytes 4i..4i+3), and every later element lies above the floats written so far.
 */
export function widenBfloat16InPlace(buffer: ArrayBuffer): Float32Array {
  const n = buffer.byteLength >>> 2;
  const src = new Uint16Array(buffer, 2 * n, n);
  const bits = new Int32Array(buffer, 0, n);
  for (let i = 0; i < n; i++) bits[i] = src[i] << 16;
  return new Float32Array(buffer, 0, n);
}

/** Bytes per stored element. */
export function elementSize(dtype: ElementDtype): number {
  return storedDtypeSize(dtype);
}
