/**
 * Turns a tensor reference (storage, offset, shape, stride) into a C-ordered Tensor, gathering
 * strided views element by element and checking that every element lies inside its storage.
 */
import { DTYPES, dtypeSize, shapeSize, tensorFromBytes, type Tensor } from '../../tensor.js';
import { FormatError } from '../errors.js';
import type { TensorRef } from './globals.js';

function isCContiguous(shape: readonly number[], stride: readonly number[]): boolean {
  let expected = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d] !== 1 && stride[d] !== expected) return false;
    expected *= shape[d];
  }
  return true;
}

/** Copies elements of `elementSize` bytes from a strided view into a new C-ordered buffer. */
function gather(source: Uint8Array, elementSize: number, ref: TensorRef, count: number): Uint8Array {
  const out = new Uint8Array(count * elementSize);
  // Typed views need aligned offsets; records come from fresh buffers, but do not rely on it.
  const src = source.byteOffset % 8 === 0 ? source : new Uint8Array(source);
  const words = elementSize === 8 ? 2 : 1;
  const unit = elementSize === 8 ? 4 : elementSize;
  const make = (bytes: Uint8Array): Uint8Array | Uint16Array | Uint32Array => {
    const length = bytes.byteLength / unit;
    if (unit === 4) return new Uint32Array(bytes.buffer, bytes.byteOffset, Math.floor(length));
    if (unit === 2) return new Uint16Array(bytes.buffer, bytes.byteOffset, Math.floor(length));
    return bytes;
  };
  const from = make(src);
  const to = make(out);
  const { shape, stride } = ref;
  const rank = shape.length;
  const index = new Array<number>(rank).fill(0);
  let position = ref.offset;
  for (let i = 0; i < count; i++) {
    for (let w = 0; w < words; w++) to[i * words + w] = from[position * words + w];
    for (let d = rank - 1; d >= 0; d--) {
      index[d]++;
      position += stride[d];
      if (index[d] < shape[d]) break;
      position -= stride[d] * shape[d];
      index[d] = 0;
    }
  }
  return out;
}

/**
 * Reads one state-dict tensor. `record` holds its storage's bytes; `exclusive` says no other
 * tensor uses that storage, so a tensor covering all of it may view the record without a copy.
 */
export function materializeTensor(name: string, ref: TensorRef, recordName: string, record: Uint8Array | undefined, exclusive: boolean, file: string): Tensor {
  const { storage } = ref;
  const dtype = storage.type.dtype;
  if (!dtype) {
    throw new FormatError(file, `tensor '${name}' is stored as torch.${storage.type.className} (${storage.type.torchDtype}), which is not supported (supported: ${DTYPES.join(', ')})`);
  }
  if (!record) throw new FormatError(file, `missing record ${recordName} (the storage of tensor '${name}')`);
  const elementSize = dtypeSize(dtype);
  if (record.length < storage.numel * elementSize) {
    throw new FormatError(file, `record ${recordName} has ${record.length} bytes, but its ${storage.numel}-element ${dtype} storage needs ${storage.numel * elementSize}`);
  }
  let count: number;
  try {
    count = shapeSize(ref.shape);
  } catch (err) {
    throw new FormatError(file, `tensor '${name}': ${(err as Error).message}`);
  }
  const outOfBounds = (): never => {
    throw new FormatError(file, `tensor '${name}' (offset ${ref.offset}, shape [${ref.shape.join(',')}], stride [${ref.stride.join(',')}]) reaches past the end of its ${storage.numel}-element storage`);
  };
  if (count === 0) {
    if (ref.offset > storage.numel) outOfBounds();
    return tensorFromBytes(dtype, ref.shape, new Uint8Array(0));
  }
  // Largest element index the view touches, built so no intermediate can overflow.
  let last = ref.offset;
  if (last >= storage.numel) outOfBounds();
  for (let d = 0; d < ref.shape.length; d++) {
    const steps = ref.shape[d] - 1;
    if (steps > 0 && ref.stride[d] > (storage.numel - 1 - last) / steps) outOfBounds();
    last += steps * ref.stride[d];
  }
  if (isCContiguous(ref.shape, ref.stride)) {
    const bytes = record.subarray(ref.offset * elementSize, (ref.offset + count) * elementSize);
    const whole = exclusive && bytes.length === record.length;
    return tensorFromBytes(dtype, ref.shape, bytes, !whole);
  }
  return tensorFromBytes(dtype, ref.shape, gather(record, elementSize, ref, count), false);
}
