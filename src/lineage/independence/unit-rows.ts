/**
 * The rows of a chosen set of units, read from both tensors of a pair so that unit k of one side
 * and unit k of the other are the same row in a's Hugging Face layout. Only those rows are read
 * (runs of consecutive rows in one read), so memory is |U| rows per side whatever the tensor's size.
 *
 *   identity:       row u of each.
 *   rope-unpermute: the llama.cpp side stores Hugging Face row u at another index (ropeFileRow).
 *   transpose:      b is a's transpose: unit u of b is column u, gathered from b's row blocks.
 */
import type { ModelSource, SourceTensor } from '../../source/types.js';
import { readBlock, rowCount, rowLength, rowsPerBlock } from '../weights/blocks.js';
import type { TensorPair } from '../weights/types.js';

/**
 * The stored row of Hugging Face row `row` in llama.cpp's rotary order. convert_hf_to_gguf's
 * permute views each head's `group` rows as [2, group / 2] and swaps the axes, so Hugging Face
 * row (k, j) of a head sits at stored row (j, k); the inverse of sums.ts unpermuteRopeRows.
 */
export function ropeFileRow(row: number, group: number): number {
  const start = row - (row % group);
  const within = row - start;
  const half = group / 2;
  const k = Math.floor(within / half);
  const j = within % half;
  return start + 2 * j + k;
}

/** Rows `fileRows[k]` of `tensor`, as unit k of the result ([fileRows.length, cols], row-major). */
export async function readRowsAt(source: ModelSource, tensor: SourceTensor, fileRows: Int32Array, blockBytes: number): Promise<Float32Array> {
  const cols = rowLength(tensor.shape);
  const out = new Float32Array(fileRows.length * cols);
  const order = Array.from(fileRows.keys()).sort((x, y) => fileRows[x] - fileRows[y]);
  const maxRun = rowsPerBlock(blockBytes, cols);
  let i = 0;
  while (i < order.length) {
    const start = fileRows[order[i]];
    let end = i + 1;
    while (end < order.length && end - i < maxRun && fileRows[order[end]] === start + (end - i)) end++;
    const block = await readBlock(source, tensor, start, end - i);
    for (let r = i; r < end; r++) out.set(block.subarray((r - i) * cols, (r - i + 1) * cols), order[r] * cols);
    i = end;
  }
  return out;
}

/** Columns `units[k]` of the 2-d `tensor` [c, r], as unit k of the result ([units.length, c]), read by row blocks. */
export async function readColumnsAt(source: ModelSource, tensor: SourceTensor, units: Int32Array, blockBytes: number): Promise<Float32Array> {
  const [c, r] = tensor.shape;
  const out = new Float32Array(units.length * c);
  const step = rowsPerBlock(blockBytes, r);
  for (let j0 = 0; j0 < c; j0 += step) {
    const count = Math.min(step, c - j0);
    const block = await readBlock(source, tensor, j0, count);
    for (let k = 0; k < units.length; k++) {
      const u = units[k];
      for (let j = 0; j < count; j++) out[k * c + j0 + j] = block[j * r + u];
    }
  }
  return out;
}

/** The stored rows of `side`'s tensor that hold Hugging Face rows `units`. */
function fileRowsOf(pair: TensorPair, side: 'a' | 'b', units: Int32Array): Int32Array {
  const { transform } = pair;
  if (transform.kind !== 'rope-unpermute' || transform.side !== side) return units;
  const group = rowCount(pair.a.shape) / transform.heads;
  return units.map((u) => ropeFileRow(u, group));
}

/** Unit rows of both tensors of `pair` (not a shared-rows pair), [units.length, rowLength(a)] each, in a's layout. */
export async function readUnitRows(
  a: ModelSource,
  b: ModelSource,
  pair: TensorPair,
  units: Int32Array,
  blockBytes: number,
): Promise<{ a: Float32Array; b: Float32Array }> {
  const rowsA = await readRowsAt(a, pair.a, fileRowsOf(pair, 'a', units), blockBytes);
  const rowsB =
    pair.transform.kind === 'transpose'
      ? await readColumnsAt(b, pair.b, units, blockBytes)
      : await readRowsAt(b, pair.b, fileRowsOf(pair, 'b', units), blockBytes);
  return { a: rowsA, b: rowsB };
}
