/**
 * Conversions between project tensors and tfjs tensors.
 *
 * tfjs has float32, int32 and bool only. Every float type becomes float32 and every integer type
 * int32; int64 values are clamped to the int32 range, which keeps ONNX's INT64_MAX / INT64_MIN
 * "to the end" sentinels (Slice ends) meaningful, and shapes and indices never need more.
 */
import * as tf from '@tensorflow/tfjs-core';
import { type Tensor, makeTensor, toFloat32 } from '../../tensor.js';

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

function clampedInt32(values: BigInt64Array): Int32Array {
  const out = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    out[i] = v > BigInt(INT32_MAX) ? INT32_MAX : v < BigInt(INT32_MIN) ? INT32_MIN : Number(v);
  }
  return out;
}

/** A tfjs tensor holding the values of `t` (see the module comment for dtype mapping). */
export function toTf(t: Tensor): tf.Tensor {
  const shape = [...t.shape];
  switch (t.dtype) {
    case 'int64':
      return tf.tensor(clampedInt32(t.data as BigInt64Array), shape, 'int32');
    case 'int32':
      return tf.tensor(t.data as Int32Array, shape, 'int32');
    case 'uint8':
      return tf.tensor(Int32Array.from(t.data as Uint8Array), shape, 'int32');
    case 'bool':
      return tf.tensor(
        Uint8Array.from(t.data as Uint8Array, (v) => (v ? 1 : 0)),
        shape,
        'bool',
      );
    default:
      return tf.tensor(toFloat32(t), shape, 'float32');
  }
}

/** A project tensor with the values of a tfjs tensor: float32, int32, or bool. Reads synchronously. */
export function fromTf(t: tf.Tensor): Tensor {
  const shape = [...t.shape];
  switch (t.dtype) {
    case 'float32':
      return makeTensor('float32', shape, Float32Array.from(t.dataSync() as Float32Array));
    case 'int32':
      return makeTensor('int32', shape, Int32Array.from(t.dataSync() as Int32Array));
    case 'bool':
      return makeTensor('bool', shape, Uint8Array.from(t.dataSync() as Uint8Array));
    default:
      throw new Error(`cannot convert a tfjs ${t.dtype} tensor`);
  }
}
