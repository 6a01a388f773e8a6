/**
 * Tensors from stored bytes, for every dtype a safetensors file may hold: DTypes as they are,
 * the others widened exactly (see WIDENED_DTYPES).
 */
import { makeTensor, shapeSize, tensorFromBytes, type Tensor } from '../../tensor.js';
import { float8ToFloat32 } from '../float8.js';
import { isWidenedDtype, storedDtypeSize, type SafetensorsDtype, type WidenedDtype } from './dtypes.js';

/** A typed view of `bytes`, copied first when they are not aligned for it. */
function aligned(bytes: Uint8Array, size: number): Uint8Array {
  return bytes.byteOffset % size === 0 ? bytes : new Uint8Array(bytes);
}

function widen(dtype: WidenedDtype, shape: readonly number[], bytes: Uint8Array): Tensor {
  const n = bytes.byteLength / storedDtypeSize(dtype);
  switch (dtype) {
    case 'float8_e4m3fn':
      return makeTensor('float32', shape, float8ToFloat32(bytes, 'e4m3fn'));
    case 'float8_e5m2':
      return makeTensor('float32', shape, float8ToFloat32(bytes, 'e5m2'));
    case 'int8':
      return makeTensor('int32', shape, Int32Array.from(new Int8Array(bytes.buffer, bytes.byteOffset, n)));
    case 'int16': {
      const a = aligned(bytes, 2);
      return makeTensor('int32', shape, Int32Array.from(new Int16Array(a.buffer, a.byteOffset, n)));
    }
    case 'uint16': {
      const a = aligned(bytes, 2);
      return makeTensor('int32', shape, Int32Array.from(new Uint16Array(a.buffer, a.byteOffset, n)));
    }
    case 'uint32': {
      const a = aligned(bytes, 4);
      return makeTensor(
        'int64',
        shape,
        BigInt64Array.from(new Uint32Array(a.buffer, a.byteOffset, n), (v) => BigInt(v)),
      );
    }
  }
}

/**
 * The tensor stored as `bytes`. DTypes are views of `bytes` where aligned (copied when `copy` is
 * set); widened dtypes always get a buffer of their own.
 */
export function storedTensor(dtype: SafetensorsDtype, shape: readonly number[], bytes: Uint8Array, copy: boolean): Tensor {
  if (!isWidenedDtype(dtype)) return tensorFromBytes(dtype, shape, bytes, copy);
  const expected = shapeSize(shape) * storedDtypeSize(dtype);
  if (bytes.byteLength !== expected) throw new Error(`${dtype} tensor of shape [${shape.join(',')}] needs ${expected} bytes, got ${bytes.byteLength}`);
  return widen(dtype, shape, bytes);
}
