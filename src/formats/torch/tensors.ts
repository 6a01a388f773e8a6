/**
 * Turns a tensor reference (storage, offset, shape, stride) into a C-ordered Tensor, gathering
 * strided views element by element and checking that every element lies inside its storage.
 *
 * A view can hold more elements than its storage (stride 0, as expand() makes) and several
 * tensors can view one storage, so what the tensors take in memory is bounded against what the
 * file's storages hold: a 409-byte file may not make us write out a 30000 x 30000 expansion.
 */
import { DTYPES, dtypeSize, shapeSize, tensorFromBytes, type DType, type Tensor } from '../../tensor.js';
import { FormatError } from '../errors.js';
import type { StorageRef, TensorRef } from './globals.js';

/**
 * Loaded tensors may take this many times the bytes of the storages they view, plus the
 * allowance. Real checkpoints stay near 1x: tied weights repeat one storage two to four times.
 */
export const MAX_VIEW_AMPLIFICATION = 8;
export const VIEW_ALLOWANCE_BYTES = 64 * 1024 * 1024;

function describe(name: string, ref: TensorRef): string {
  return `tensor '${name}' (offset ${ref.offset}, shape [${ref.shape.join(',')}], stride [${ref.stride.join(',')}])`;
}

/** What the tensors of one file may take in memory, spent as each is read. */
export class ViewBudget {
  private readonly allowed: number;
  private spent = 0;

  constructor(
    private readonly file: string,
    private readonly storageBytes: number,
  ) {
    this.allowed = storageBytes * MAX_VIEW_AMPLIFICATION + VIEW_ALLOWANCE_BYTES;
  }

  spend(name: string, ref: TensorRef, count: number, elementSize: number): void {
    const bytes = count * elementSize;
    this.spent += bytes;
    if (this.spent <= this.allowed) return;
    const limit = `more than the ${this.allowed} bytes allowed for the ${this.storageBytes} bytes of storage in the file (${MAX_VIEW_AMPLIFICATION} times, plus ${VIEW_ALLOWANCE_BYTES})`;
    if (count > ref.storage.numel) {
      throw new FormatError(
        this.file,
        `${describe(name, ref)} repeats elements of its ${ref.storage.numel}-element storage (a stride-0 or overlapping view, as expand() makes): its ${count} elements would take ${bytes} bytes, ${limit}; save it with .contiguous() or .clone()`,
      );
    }
    throw new FormatError(
      this.file,
      `tensors viewing the same storages would take ${this.spent} bytes once loaded, ${limit}; refusing at ${describe(name, ref)}`,
    );
  }
}

/**
 * Checks a storage record against the storage's dtype and size before any tensor is read, so
 * the budget above counts only bytes the file really holds. Returns the storage's byte length.
 */
export function checkStorage(tensorName: string, storage: StorageRef, recordName: string, record: { length: number } | undefined, file: string): number {
  const dtype = storage.type.dtype;
  if (!dtype) {
    throw new FormatError(
      file,
      `tensor '${tensorName}' is stored as torch.${storage.type.className} (${storage.type.torchDtype}), which is not supported (supported: ${DTYPES.join(', ')})`,
    );
  }
  if (!record) throw new FormatError(file, `missing record ${recordName} (the storage of tensor '${tensorName}')`);
  const bytes = storage.numel * dtypeSize(dtype);
  if (record.length < bytes) {
    throw new FormatError(file, `record ${recordName} has ${record.length} bytes, but its ${storage.numel}-element ${dtype} storage needs ${bytes}`);
  }
  return bytes;
}

/** True when the view's elements lie in C order with no gaps, so its bytes are one range of the storage. */
export function isCContiguous(shape: readonly number[], stride: readonly number[]): boolean {
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
  // Size-1 dimensions never move the position; dropping them keeps the carry loop below short
  // however many of them a shape lists.
  const shape: number[] = [];
  const stride: number[] = [];
  for (let d = 0; d < ref.shape.length; d++) {
    if (ref.shape[d] === 1) continue;
    shape.push(ref.shape[d]);
    stride.push(ref.stride[d]);
  }
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
 * The number of elements of a view, once every element it reaches is known to lie inside its
 * storage (a FormatError naming the tensor otherwise).
 */
export function checkView(name: string, ref: TensorRef, file: string): number {
  const { storage } = ref;
  let count: number;
  try {
    count = shapeSize(ref.shape);
  } catch (err) {
    throw new FormatError(file, `tensor '${name}': ${(err as Error).message}`);
  }
  const outOfBounds = (): never => {
    throw new FormatError(file, `${describe(name, ref)} reaches past the end of its ${storage.numel}-element storage`);
  };
  if (count === 0) {
    if (ref.offset > storage.numel) outOfBounds();
    return 0;
  }
  // Largest element index the view touches, built so no intermediate can overflow.
  let last = ref.offset;
  if (last >= storage.numel) outOfBounds();
  for (let d = 0; d < ref.shape.length; d++) {
    const steps = ref.shape[d] - 1;
    if (steps > 0 && ref.stride[d] > (storage.numel - 1 - last) / steps) outOfBounds();
    last += steps * ref.stride[d];
  }
  return count;
}

/**
 * Reads one state-dict tensor from its storage's record, already checked by checkStorage.
 * `exclusive` says no other tensor uses that storage, so a tensor covering all of it may view
 * the record without a copy.
 */
export function materializeTensor(name: string, ref: TensorRef, record: Uint8Array, exclusive: boolean, budget: ViewBudget, file: string): Tensor {
  const dtype = ref.storage.type.dtype as DType;
  const elementSize = dtypeSize(dtype);
  const count = checkView(name, ref, file);
  if (count === 0) return tensorFromBytes(dtype, ref.shape, new Uint8Array(0));
  budget.spend(name, ref, count, elementSize);
  try {
    if (isCContiguous(ref.shape, ref.stride)) {
      const bytes = record.subarray(ref.offset * elementSize, (ref.offset + count) * elementSize);
      const whole = exclusive && bytes.length === record.length;
      return tensorFromBytes(dtype, ref.shape, bytes, !whole);
    }
    return tensorFromBytes(dtype, ref.shape, gather(record, elementSize, ref, count), false);
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    throw new FormatError(file, `${describe(name, ref)} needs ${count * elementSize} bytes, more memory than can be allocated`);
  }
}
