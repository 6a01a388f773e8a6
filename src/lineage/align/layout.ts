/**
 * Reading one side of a matched pair in the layout the comparison uses: a's layout, with rotary
 * Q/K rows in Hugging Face order (sums.ts unpermutes llama.cpp's) and a transposed b put back in
 * a's orientation. Unit axes (types.ts) are axes of this layout.
 */
import { recycleFloat32 } from '../../source/block-buffers.js';
import type { ModelSource } from '../../source/types.js';
import { readBlock, rowCount, rowLength, rowsPerBlock } from '../weights/blocks.js';
import { unpermuteRopeRows } from '../weights/sums.js';
import type { TensorPair } from '../weights/types.js';

/** Rows [start, start + count) of the layout, `cols` values each. The reader may recycle `values` after use. */
export interface LayoutBlock {
  values: Float32Array;
  start: number;
  count: number;
}

/** [rows, cols] of a pair's layout: a's matrix view, shared rows only for an extended embedding. */
export function layoutShape(pair: TensorPair): { rows: number; cols: number } {
  const rows = pair.transform.kind === 'shared-rows' ? pair.transform.rows : rowCount(pair.a.shape);
  return { rows, cols: rowLength(pair.a.shape) };
}

/** Row blocks of `side` of the pair in the layout. A transposed b is read whole (by blocks) and given as one block. */
export async function* layoutBlocks(source: ModelSource, pair: TensorPair, side: 'a' | 'b', blockBytes: number): AsyncGenerator<LayoutBlock> {
  const { transform } = pair;
  const { rows, cols } = layoutShape(pair);
  if (transform.kind === 'transpose' && side === 'b') {
    yield { values: await transposedWhole(source, pair, rows, cols, blockBytes), start: 0, count: rows };
    return;
  }
  const tensor = pair[side];
  const rope = transform.kind === 'rope-unpermute' && transform.side === side;
  const group = rope ? rows / transform.heads : 1;
  const step = rowsPerBlock(blockBytes, cols, group);
  for (let start = 0; start < rows; start += step) {
    const count = Math.min(step, rows - start);
    const read = await readBlock(source, tensor, start, count);
    if (!rope) {
      yield { values: read, start, count };
      continue;
    }
    const values = unpermuteRopeRows(read, count, cols, group);
    recycleFloat32(read);
    yield { values, start, count };
  }
}

/** b stored [cols, rows] (a's transpose), returned as [rows, cols]. */
async function transposedWhole(source: ModelSource, pair: TensorPair, rows: number, cols: number, blockBytes: number): Promise<Float32Array> {
  const out = new Float32Array(rows * cols);
  const step = rowsPerBlock(blockBytes, rows);
  for (let j0 = 0; j0 < cols; j0 += step) {
    const count = Math.min(step, cols - j0);
    const block = await readBlock(source, pair.b, j0, count);
    for (let j = 0; j < count; j++) for (let i = 0; i < rows; i++) out[i * cols + j0 + j] = block[j * rows + i];
    recycleFloat32(block);
  }
  return out;
}

/** The index map of a unit permutation along an axis of `block` indices per unit: map[i * block + t] = perm[i] * block + t. */
export function expandPermutation(perm: Int32Array, block: number): Int32Array {
  const map = new Int32Array(perm.length * block);
  for (let i = 0; i < perm.length; i++) for (let t = 0; t < block; t++) map[i * block + t] = perm[i] * block + t;
  return map;
}

export function inversePermutation(map: Int32Array): Int32Array {
  const inv = new Int32Array(map.length);
  for (let i = 0; i < map.length; i++) inv[map[i]] = i;
  return inv;
}
