/**
 * The sums of one matched pair (weights/sums.ts) with b's rows and columns reordered onto a's units:
 * b'[r, c] = b[rows[r], cols[c]] in the comparison's layout. b' is built whole (one tensor, read by
 * blocks), then a is read by row blocks against it.
 */
import { recycleFloat32 } from '../../source/block-buffers.js';
import type { ModelSource } from '../../source/types.js';
import { addAligned, type Sums, emptySums } from '../weights/sums.js';
import type { TensorPair } from '../weights/types.js';
import { inversePermutation, layoutBlocks, layoutShape } from './layout.js';

export interface AxisMaps {
  rows?: Int32Array;
  cols?: Int32Array;
}

export async function permutedPairSums(a: ModelSource, b: ModelSource, pair: TensorPair, maps: AxisMaps, blockBytes: number): Promise<Sums> {
  const permuted = await permutedB(b, pair, maps, blockBytes);
  const { cols } = layoutShape(pair);
  const sums = emptySums();
  for await (const block of layoutBlocks(a, pair, 'a', blockBytes)) {
    addAligned(sums, block.values, permuted.subarray(block.start * cols, (block.start + block.count) * cols));
    recycleFloat32(block.values);
  }
  return sums;
}

async function permutedB(b: ModelSource, pair: TensorPair, maps: AxisMaps, blockBytes: number): Promise<Float32Array> {
  const { rows, cols } = layoutShape(pair);
  const out = new Float32Array(rows * cols);
  const rowTo = maps.rows === undefined ? undefined : inversePermutation(maps.rows);
  const colMap = maps.cols;
  for await (const block of layoutBlocks(b, pair, 'b', blockBytes)) {
    for (let x = 0; x < block.count; x++) {
      const src = block.values.subarray(x * cols, (x + 1) * cols);
      const r = rowTo === undefined ? block.start + x : rowTo[block.start + x];
      if (colMap === undefined) out.set(src, r * cols);
      else for (let c = 0; c < cols; c++) out[r * cols + c] = src[colMap[c]];
    }
    recycleFloat32(block.values);
  }
  return out;
}
