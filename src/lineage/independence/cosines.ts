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
  const even = n - (n % 2);
  const block = new Float64Array(4);
  for (let i = 0; i < even; i += 2) {
    for (let j = 0; j < even; j += 2) {
      dots2x2(a, b, i * cols, j * cols, cols, block);
      s[i * n + j] = cosine(block[0], na[i], nb[j]);
      s[i * n + j + 1] = cosine(block[1], na[i], nb[j + 1]);
      s[(i + 1) * n + j] = cosine(block[2], na[i + 1], nb[j]);
      s[(i + 1) * n + j + 1] = cosine(block[3], na[i + 1], nb[j + 1]);
    }
  }
  // An odd n leaves the last row and column.
  for (let i = 0; i < n; i++) {
    for (let j = i < even ? even : 0; j < n; j++) s[i * n + j] = cosine(dot(a, b, i * cols, j * cols, cols), na[i], nb[j]);
  }
  return s;
}

/** The four dot products of rows a_i, a_(i+1) with b_j, b_(j+1) in one pass: each value loaded feeds two products. */
function dots2x2(a: Float32Array, b: Float32Array, ai: number, bj: number, cols: number, out: Float64Array): void {
  let s00 = 0;
  let s01 = 0;
  let s10 = 0;
  let s11 = 0;
  const ai1 = ai + cols;
  const bj1 = bj + cols;
  for (let k = 0; k < cols; k++) {
    const x0 = a[ai + k];
    const x1 = a[ai1 + k];
    const y0 = b[bj + k];
    const y1 = b[bj1 + k];
    s00 += x0 * y0;
    s01 += x0 * y1;
    s10 += x1 * y0;
    s11 += x1 * y1;
  }
  out[0] = s00;
  out[1] = s01;
  out[2] = s10;
  out[3] = s11;
}

function cosine(d: number, normA: number, normB: number): number {
  const denom = normA * normB;
  return denom > 0 ? d / denom : 0;
}

/** a[ai..ai+cols) . b[bj..bj+cols), in four float64 partial sums: independent additions run in parallel. */
function dot(a: Float32Array, b: Float32Array, ai: number, bj: number, cols: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let k = 0;
  for (; k + 4 <= cols; k += 4) {
    s0 += a[ai + k] * b[bj + k];
    s1 += a[ai + k + 1] * b[bj + k + 1];
    s2 += a[ai + k + 2] * b[bj + k + 2];
    s3 += a[ai + k + 3] * b[bj + k + 3];
  }
  for (; k < cols; k++) s0 += a[ai + k] * b[bj + k];
  return s0 + s1 + (s2 + s3);
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
