/**
 * Similarity of a's units with b's: the inner product of their weight slices. Maximising the
 * summed inner product of matched units is minimising the summed squared distance, since
 * ||a - b||^2 = ||a||^2 + ||b||^2 - 2 a.b and the norms do not depend on the matching.
 */

/** Multiply-adds above which a dense n x n similarity is left to the sketch (about a second in V8). */
export const EXACT_WORK_LIMIT = 2 ** 30;

/** a.b of row i of `fa` and row j of `fb`, rows of `length` values. */
export function rowDot(fa: Float32Array, i: number, fb: Float32Array, j: number, length: number): number {
  const oa = i * length;
  const ob = j * length;
  let s0 = 0;
  let s1 = 0;
  let k = 0;
  for (; k + 1 < length; k += 2) {
    s0 += fa[oa + k] * fb[ob + k];
    s1 += fa[oa + k + 1] * fb[ob + k + 1];
  }
  if (k < length) s0 += fa[oa + k] * fb[ob + k];
  return s0 + s1;
}

/** score[i * n + j] = a's unit i . b's unit j, for n units of `length` values each (row-major). */
export function denseScores(fa: Float32Array, fb: Float32Array, n: number, length: number): Float64Array {
  const score = new Float64Array(n * n);
  let i = 0;
  // Four of a's rows at a time: each of b's rows is read once per four rows of a.
  for (; i + 3 < n; i += 4) {
    const o0 = i * length;
    const o1 = o0 + length;
    const o2 = o1 + length;
    const o3 = o2 + length;
    for (let j = 0; j < n; j++) {
      const ob = j * length;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let k = 0; k < length; k++) {
        const y = fb[ob + k];
        s0 += fa[o0 + k] * y;
        s1 += fa[o1 + k] * y;
        s2 += fa[o2 + k] * y;
        s3 += fa[o3 + k] * y;
      }
      score[i * n + j] = s0;
      score[(i + 1) * n + j] = s1;
      score[(i + 2) * n + j] = s2;
      score[(i + 3) * n + j] = s3;
    }
  }
  for (; i < n; i++) for (let j = 0; j < n; j++) score[i * n + j] = rowDot(fa, i, fb, j, length);
  return score;
}
