/**
 * Copies contiguous blocks of elements between tensors. On the wasm backend this works on the heap
 * directly: its Slice kernel first copies the WHOLE source tensor out of the heap (readSync), which
 * made a loop of per-matrix slices quadratic. Other backends use Slice / Concat kernels.
 */
import type { DataType, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendKernels } from './backend-kernels.js';

interface HeapBackend {
  typedArrayFromHeap(info: TensorInfo): Float32Array | Int32Array | Uint8Array;
  makeOutput(shape: number[], dtype: DataType): TensorInfo;
}

function heapBackend(k: BackendKernels): HeapBackend | null {
  const b = k.backend as unknown as Partial<HeapBackend>;
  return typeof b.typedArrayFromHeap === 'function' && typeof b.makeOutput === 'function' ? (b as HeapBackend) : null;
}

/** Elements [offset, offset + size(shape)) of the flat `x`, as a new tensor of `shape`. */
export function takeBlock(k: BackendKernels, x: TensorInfo, offset: number, shape: number[]): TensorInfo {
  const size = shape.reduce((p, d) => p * d, 1);
  const heap = heapBackend(k);
  if (heap !== null) {
    const out = heap.makeOutput(shape, x.dtype);
    // Views are taken after the allocation: growing wasm memory detaches older views.
    heap.typedArrayFromHeap(out).set(heap.typedArrayFromHeap(x).subarray(offset, offset + size));
    return out;
  }
  const flat = k.reshape(x, [x.shape.reduce((p, d) => p * d, 1)]);
  try {
    const block = k.slice(flat, [offset], [size]);
    try {
      return k.reshape(block, shape);
    } finally {
      k.release(block);
    }
  } finally {
    k.release(flat);
  }
}

/** Stacks equally shaped blocks into one tensor of `shape` (their flat concatenation). */
export function stackBlocks(k: BackendKernels, blocks: TensorInfo[], shape: number[], dtype: DataType): TensorInfo {
  const heap = heapBackend(k);
  if (heap !== null) {
    const out = heap.makeOutput(shape, dtype);
    const view = heap.typedArrayFromHeap(out);
    let offset = 0;
    for (const block of blocks) {
      const src = heap.typedArrayFromHeap(block);
      view.set(src, offset);
      offset += src.length;
    }
    return out;
  }
  const flats = blocks.map((b) => k.reshape(b, [b.shape.reduce((p, d) => p * d, 1)]));
  try {
    const joined = k.concat(flats, 0);
    try {
      return k.reshape(joined, shape);
    } finally {
      k.release(joined);
    }
  } finally {
    k.release(...flats);
  }
}
