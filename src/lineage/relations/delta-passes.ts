/**
 * Streamed passes over the delta (b - a) of a tensor pair, as low-rank.ts needs them. Each pass
 * reads both tensors once, by row blocks in a's layout (weights/sums.ts alignedRowBlocks), and
 * forms each delta row in float64: the difference of two float32 values is exact there, so the
 * merge's own rounding is all the noise the spectrum sees. Memory: two blocks and one delta row
 * besides what each pass accumulates.
 */
import { Rng, deriveSeed } from '../../base/random.js';
import { recycleFloat32 } from '../../source/block-buffers.js';
import type { ModelSource } from '../../source/types.js';
import { type AlignedBlock, alignedRowBlocks } from '../weights/sums.js';
import type { TensorPair } from '../weights/types.js';

/** The delta of a pair viewed as a rows x cols matrix. */
export interface DeltaMatrix {
  a: ModelSource;
  b: ModelSource;
  pair: TensorPair;
  rows: number;
  cols: number;
  blockBytes: number;
}

/** Fills `d` with row r of the block's delta and returns the row's sum of squares. */
function deltaRow(block: AlignedBlock, r: number, d: Float64Array): number {
  const offset = r * block.cols;
  let energy = 0;
  for (let j = 0; j < d.length; j++) {
    const x = block.b[offset + j] - block.a[offset + j];
    d[j] = x;
    energy += x * x;
  }
  return energy;
}

/** Calls `visit` with each non-zero delta row and its index; returns ||delta||_F^2. Throws a RangeError at the first non-finite row. */
async function forEachDeltaRow(m: DeltaMatrix, visit: (d: Float64Array, row: number) => void): Promise<number> {
  const d = new Float64Array(m.cols);
  let energy = 0;
  for await (const block of alignedRowBlocks(m.a, m.b, m.pair, m.blockBytes)) {
    for (let r = 0; r < block.count; r++) {
      const e = deltaRow(block, r, d);
      if (!Number.isFinite(e)) throw new RangeError(`${m.pair.a.name} / ${m.pair.b.name}: row ${block.start + r} of the delta holds NaN or infinite values`);
      energy += e;
      if (e !== 0) visit(d, block.start + r);
    }
    recycleFloat32(block.a);
    recycleFloat32(block.b);
  }
  return energy;
}

/** Omega^T for the range finder: k rows of `cols` standard normal values, reproducible from `seed`. */
export function gaussianTest(cols: number, k: number, seed: number): Float64Array {
  const rng = new Rng(deriveSeed(seed, 'low-rank:omega'));
  const omega = new Float64Array(k * cols);
  for (let i = 0; i < omega.length; i++) omega[i] = rng.normal();
  return omega;
}

/** y[t * rows + i] = d . omega_t for every t: row i of delta * Omega, four columns at a time so each d[j] is loaded once per four. */
function sketchRow(d: Float64Array, omega: Float64Array, k: number, y: Float64Array, rows: number, i: number): void {
  const cols = d.length;
  let t = 0;
  for (; t + 4 <= k; t += 4) {
    const o = t * cols;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    for (let j = 0; j < cols; j++) {
      const x = d[j];
      s0 += x * omega[o + j];
      s1 += x * omega[o + cols + j];
      s2 += x * omega[o + 2 * cols + j];
      s3 += x * omega[o + 3 * cols + j];
    }
    y[t * rows + i] = s0;
    y[(t + 1) * rows + i] = s1;
    y[(t + 2) * rows + i] = s2;
    y[(t + 3) * rows + i] = s3;
  }
  for (; t < k; t++) {
    let s = 0;
    for (let j = 0; j < cols; j++) s += d[j] * omega[t * cols + j];
    y[t * rows + i] = s;
  }
}

/** Pass 1 of the range finder: Y = delta * Omega, stored as k columns of `rows` values (Omega^T given as k rows of `cols`). */
export async function sketchColumns(m: DeltaMatrix, omegaT: Float64Array, k: number): Promise<Float64Array> {
  const y = new Float64Array(k * m.rows);
  await forEachDeltaRow(m, (d, i) => sketchRow(d, omegaT, k, y, m.rows, i));
  return y;
}

/** Delta rows projected together in pass 2: each row of B is then read and written once per four delta rows, not once per row. */
const PROJECT_ROWS = 4;

/** out_t += sum_r q[r][t] * d_r over the `count` buffered rows (q: PROJECT_ROWS x k, rows: PROJECT_ROWS x cols). */
function addProjected(rows: Float64Array, q: Float64Array, count: number, k: number, out: Float64Array): void {
  const cols = out.length / k;
  for (let r = count; r < PROJECT_ROWS; r++) q.fill(0, r * k, (r + 1) * k); // rows past `count` weigh nothing
  for (let t = 0; t < k; t++) {
    const w0 = q[t];
    const w1 = q[k + t];
    const w2 = q[2 * k + t];
    const w3 = q[3 * k + t];
    if (w0 === 0 && w1 === 0 && w2 === 0 && w3 === 0) continue;
    const o = t * cols;
    for (let j = 0; j < cols; j++) out[o + j] += w0 * rows[j] + w1 * rows[cols + j] + w2 * rows[2 * cols + j] + w3 * rows[3 * cols + j];
  }
}

/**
 * Pass 2: B = Q^T * delta (k rows of `cols` values), Q given as k columns of `rows` values, and
 * ||delta||_F^2 read on the way.
 */
export async function projectRows(m: DeltaMatrix, basis: Float64Array, k: number): Promise<{ projected: Float64Array; energy: number }> {
  const projected = new Float64Array(k * m.cols);
  const buffered = new Float64Array(PROJECT_ROWS * m.cols);
  const q = new Float64Array(PROJECT_ROWS * k);
  let count = 0;
  const energy = await forEachDeltaRow(m, (d, i) => {
    buffered.set(d, count * m.cols);
    for (let t = 0; t < k; t++) q[count * k + t] = basis[t * m.rows + i];
    if (++count === PROJECT_ROWS) {
      addProjected(buffered, q, count, k, projected);
      count = 0;
    }
  });
  if (count > 0) addProjected(buffered, q, count, k, projected);
  return { projected, energy };
}

/** delta^T * delta (cols x cols, row-major, upper triangle mirrored) in one pass, and ||delta||_F^2. */
export async function columnGram(m: DeltaMatrix): Promise<{ gram: Float64Array; energy: number }> {
  const n = m.cols;
  const gram = new Float64Array(n * n);
  const energy = await forEachDeltaRow(m, (d) => {
    for (let i = 0; i < n; i++) {
      const x = d[i];
      if (x === 0) continue;
      for (let j = i; j < n; j++) gram[i * n + j] += x * d[j];
    }
  });
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) gram[i * n + j] = gram[j * n + i];
  return { gram, energy };
}

/** B * B^T for B of k rows of `cols` values: k x k, row-major, exactly symmetric. */
export function rowGram(rowsOf: Float64Array, k: number, cols: number): Float64Array {
  const gram = new Float64Array(k * k);
  for (let s = 0; s < k; s++) {
    for (let t = s; t < k; t++) {
      let dot = 0;
      for (let j = 0; j < cols; j++) dot += rowsOf[s * cols + j] * rowsOf[t * cols + j];
      gram[s * k + t] = dot;
      gram[t * k + s] = dot;
    }
  }
  return gram;
}
