/**
 * Reading a tensor by row blocks, so a comparison holds a few blocks in memory at a time however
 * large the models are. A tensor is viewed as a matrix [rows, rowLength]: a 1-d tensor has one
 * element per row and a 0-d tensor is one row of one element.
 */
import { FormatError } from '../../formats/errors.js';
import type { ModelSource, SourceTensor } from '../../source/types.js';

/**
 * 4 MiB of float32 per block: reads stay few (about 300 per billion parameters per model) and the
 * few blocks held stay small. Before blocks were reused (source/block-buffers.ts), 16 MiB blocks
 * were also about a third slower on bf16 Llama shards: every block was fresh memory to fault in.
 */
export const DEFAULT_BLOCK_BYTES = 4 << 20;

export function rowCount(shape: readonly number[]): number {
  return shape.length === 0 ? 1 : shape[0];
}

export function rowLength(shape: readonly number[]): number {
  let n = 1;
  for (let i = 1; i < shape.length; i++) n *= shape[i];
  return n;
}

/** Rows per block for rows of `length` elements: at least one, and a multiple of `multiple`. */
export function rowsPerBlock(blockBytes: number, length: number, multiple = 1): number {
  const rows = Math.floor(blockBytes / 4 / Math.max(length, 1));
  return Math.max(multiple, rows - (rows % multiple));
}

/** Rows [start, start + count) of `tensor` as float32, checked against what the shape promises. */
export async function readBlock(source: ModelSource, tensor: SourceTensor, start: number, count: number): Promise<Float32Array> {
  const values = tensor.shape.length === 0 ? await source.readFloat32(tensor.name) : await source.readRows(tensor.name, start, count);
  const expected = count * rowLength(tensor.shape);
  if (values.length !== expected) {
    throw new FormatError(source.file, `tensor '${tensor.name}' gave ${values.length} values for rows [${start}, ${start + count}), expected ${expected}`);
  }
  return values;
}
