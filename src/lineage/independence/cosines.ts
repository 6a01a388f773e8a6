/**
 * The unit-matching statistic of one matrix pair and its permutation null. S[i][j] is the cosine of
 * unit i of a and unit j of b; the statistic is the mean of S's diagonal (each unit against the
 * unit with the same index), and a null draw is the mean of S[i][sigma(i)] for a uniform random
 * permutation sigma: under independence b's units have no preferred order, so the diagonal is one
 * of the n! matchings, no better than the others.
 */
import { InputError } from '../../base/errors.js';
import type { Rng } from '../../base/random.js';

/** Where a tensor's rows came from, for error messages. */
export interface RowsOrigin {
  file: string;
  tensor: string;
}

function rowNorms(rows: Float32Array, n: number, cols: number, origin: RowsOrigin): Float64Array {
  const norms = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = i * cols, end = k + cols; k < end; k++) s += rows[k] * rows[k];
    if (!Number.isFinite(s)) throw new InputError(origin.file, `tensor '${origin.tensor}': sampled unit ${i} holds a non-finite value`);
    norms[i] = Math.sqrt(s);
  }
  return norms;
}

/**
 * S[i * n + j] = cos(a_i, b_j) for n rows of `cols` values each, float64 accumulation; 0 where a
 * row is all zeros (a convention the statistic and every null draw share, so it cannot bias p).
 */
export function cosineMatrix(a: Float32Array, b: Float32Array, n: number, cols: number, origin: { a: RowsOrigin; b: RowsOrigin }): Float64Array {
  const na = rowNorms(a, n, cols, origin.a);
  const nb = rowNorms(b, n, cols, origin.b);
  const s = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const ai = i * cols;
    for (let j = 0; j < n; j++) {
      const bj = j * cols;
      let dot = 0;
      for (let k = 0; k < cols; k++) dot += a[ai + k] * b[bj + k];
      const denom = na[i] * nb[j];
      s[i * n + j] = denom > 0 ? dot / denom : 0;
    }
  }
  return s;
}

/** Mean of S's diagonal, summed in the same order as `addNullDraws` sums a permutation's entries. */
export function diagonalMean(s: Float64Array, n: number): number {
  let sum = 0;
  for (let i = 0; i < n; i++) sum += s[i * n + i];
  return sum / n;
}

/**
 * Adds to `draws[t]`, for each t, mean_i S[i][sigma_t(i)] with sigma_t a uniform random permutation
 * (Fisher-Yates from `rng`; shuffling the previous permutation again gives a uniform one too).
 */
export function addNullDraws(s: Float64Array, n: number, draws: Float64Array, rng: Rng): void {
  const sigma = new Int32Array(n);
  for (let i = 0; i < n; i++) sigma[i] = i;
  for (let t = 0; t < draws.length; t++) {
    rng.shuffle(sigma);
    let sum = 0;
    for (let i = 0; i < n; i++) sum += s[i * n + sigma[i]];
    draws[t] += sum / n;
  }
}
