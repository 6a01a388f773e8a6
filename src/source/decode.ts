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

/** Float32 values of `bytes`, whole elements of `dtype`; never a view of a buffer larger than the result. */
export function decodeFloat32(dtype: ElementDtype, bytes: Uint8Array): Float32Array {
  const n = bytes.byteLength / storedDtypeSize(dtype);
  const values = toFloat32(storedTensor(dtype, [n], bytes, false));
  // float32 data comes back as a view of `bytes`: keep it only when it spans its whole buffer,
  // so that a few rows cut from a tensor read whole do not keep the whole tensor alive.
  const whole = values.byteOffset === 0 && values.byteLength === values.buffer.byteLength;
  return whole ? values : values.slice();
}

/** Bytes per stored element. */
export function elementSize(dtype: ElementDtype): number {
  return storedDtypeSize(dtype);
}
