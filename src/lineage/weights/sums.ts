/**
 * The four float64 sums a pair of tensors reduces to (sum a^2, sum b^2, sum a*b, sum (b - a)^2),
 * accumulated block by block with the pair's transform applied on the fly. Memory: two blocks of
 * `blockBytes` of float32 at a time, whatever the tensors' size.
 *
 * Transposed pairs (a [r, c], b [c, r]) read b in chunks of whole rows and, for each chunk, a by
 * row blocks: a is read once when b fits in one block and ceil(c / chunk rows) times otherwise,
 * which bounds memory at the price of re-reading; Conv1D-sized matrices fit in one chunk.
 */
import { recycleFloat32 } from '../../source/block-buffers.js';
import type { ModelSource } from '../../source/types.js';
import { readBlock, rowCount, rowLength, rowsPerBlock } from './blocks.js';
import type { PairSums, TensorPair } from './types.js';

export type Sums = PairSums;

export function emptySums(): Sums {
  return { aa: 0, bb: 0, ab: 0, dd: 0, zeroed: 0, zeroedEnergy: 0, equal: 0 };
}

/** Adds the sums of two aligned runs of values (the same element order) to `s`. */
export function addAligned(s: Sums, a: Float32Array, b: Float32Array): void {
  let { aa, bb, ab, dd, zeroed, zeroedEnergy, equal } = s;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    const d = y - x;
    aa += x * x;
    bb += y * y;
    ab += x * y;
    dd += d * d;
    // Exact zeros and exact equality are rare in trained weights: these branches cost little outside pruned, merged or copied models.
    if (y === 0) {
      zeroedEnergy += x * x;
      if (x !== 0) zeroed++;
    }
    if (d === 0) equal++;
  }
  Object.assign(s, { aa, bb, ab, dd, zeroed, zeroedEnergy, equal });
}

/**
 * Puts rows stored in llama.cpp's rotary order back in Hugging Face order. convert_hf_to_gguf's
 * permute views each head's 2h rows as [2, h] and swaps the axes, so Hugging Face row (k, j) of a
 * head sits at llama.cpp row (j, k). `block` holds whole heads.
 */
export function unpermuteRopeRows(block: Float32Array, rows: number, cols: number, groupRows: number): Float32Array {
  const out = new Float32Array(block.length);
  const half = groupRows / 2;
  for (let g = 0; g < rows; g += groupRows) {
    for (let k = 0; k < 2; k++) {
      for (let j = 0; j < half; j++) {
        const from = (g + 2 * j + k) * cols;
        out.set(block.subarray(from, from + cols), (g + k * half + j) * cols);
      }
    }
  }
  return out;
}

/** Rows [start, start + count) of both tensors of a pair, in a's layout (Hugging Face row order), `cols` values per row. */
export interface AlignedBlock {
  a: Float32Array;
  b: Float32Array;
  start: number;
  count: number;
  cols: number;
}

/**
 * Row blocks read in step from both tensors of a pair whose transform keeps rows apart (identity,
 * shared rows, rotary unpermute: not transpose), each in a's layout. The caller may recycle each
 * block's arrays (recycleFloat32) once done with them.
 */
export async function* alignedRowBlocks(a: ModelSource, b: ModelSource, pair: TensorPair, blockBytes: number): AsyncGenerator<AlignedBlock> {
  const { transform } = pair;
  if (transform.kind === 'transpose') throw new RangeError(`alignedRowBlocks: pair ${pair.a.name} / ${pair.b.name} is transposed`);
  const rows = transform.kind === 'shared-rows' ? transform.rows : rowCount(pair.a.shape);
  const cols = rowLength(pair.a.shape);
  const group = transform.kind === 'rope-unpermute' ? rows / transform.heads : 1;
  const step = rowsPerBlock(blockBytes, cols, group);
  for (let start = 0; start < rows; start += step) {
    const count = Math.min(step, rows - start);
    const [readA, readB] = await Promise.all([readBlock(a, pair.a, start, count), readBlock(b, pair.b, start, count)]);
    const unpermute = (side: 'a' | 'b', block: Float32Array): Float32Array => {
      if (transform.kind !== 'rope-unpermute' || transform.side !== side) return block;
      const out = unpermuteRopeRows(block, count, cols, group);
      recycleFloat32(block);
      return out;
    };
    yield { a: unpermute('a', readA), b: unpermute('b', readB), start, count, cols };
  }
}

/** Row blocks read in step from both tensors (identity, shared rows, rotary unpermute). */
async function rowwiseSums(a: ModelSource, b: ModelSource, pair: TensorPair, blockBytes: number): Promise<Sums> {
  const sums = emptySums();
  for await (const block of alignedRowBlocks(a, b, pair, blockBytes)) {
    addAligned(sums, block.a, block.b);
    recycleFloat32(block.a);
    recycleFloat32(block.b);
  }
  return sums;
}

/**
 * a [r, c] against b [c, r]: element (i, j) of a meets element (j, i) of b. Each piece of a's block
 * and b's chunk that meet is gathered into two runs in a's order and summed by addAligned, in the
 * same element order as reading element by element.
 */
async function transposedSums(a: ModelSource, b: ModelSource, pair: TensorPair, blockBytes: number): Promise<Sums> {
  const [r, c] = pair.a.shape;
  const chunkRows = rowsPerBlock(blockBytes, r);
  const aStep = rowsPerBlock(blockBytes, c);
  const sums = emptySums();
  for (let j0 = 0; j0 < c; j0 += chunkRows) {
    const jn = Math.min(chunkRows, c - j0);
    const chunk = await readBlock(b, pair.b, j0, jn);
    for (let i0 = 0; i0 < r; i0 += aStep) {
      const block = await readBlock(a, pair.a, i0, Math.min(aStep, r - i0));
      const blockRows = block.length / c;
      const x = new Float32Array(blockRows * jn);
      const y = new Float32Array(blockRows * jn);
      for (let i = 0; i < blockRows; i++) {
        x.set(block.subarray(i * c + j0, i * c + j0 + jn), i * jn);
        for (let j = 0; j < jn; j++) y[i * jn + j] = chunk[j * r + i0 + i];
      }
      addAligned(sums, x, y);
      recycleFloat32(block);
    }
    recycleFloat32(chunk);
  }
  return sums;
}

/** The sums of one matched pair, read from the two models by blocks. */
export function pairSums(a: ModelSource, b: ModelSource, pair: TensorPair, blockBytes: number): Promise<Sums> {
  return pair.transform.kind === 'transpose' ? transposedSums(a, b, pair, blockBytes) : rowwiseSums(a, b, pair, blockBytes);
}
