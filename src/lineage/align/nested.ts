/**
 * Assignment for grouped-query attention: query heads come in runs of r = n / m, run g reading
 * key/value head g. Key/value heads are permuted as wholes, and each run moves with its key/value
 * head while its query heads permute among themselves. Exact: the best value of sending run g to
 * run h is the key/value score of (g, h) plus the best assignment of g's query heads to h's, so an
 * m x m assignment over those values solves the whole.
 */
import { maxAssignment } from './hungarian.js';

export interface NestedPermutation {
  /** Query heads: b's head matched to a's head i. */
  inner: Int32Array;
  /** Key/value heads. */
  outer: Int32Array;
}

/** inner: n x n query-head scores; outer: m x m key/value-head scores (row-major, a's units by b's). */
export function nestedAssignment(inner: Float64Array, n: number, outer: Float64Array, m: number): NestedPermutation {
  const r = n / m;
  if (!Number.isInteger(r)) throw new RangeError(`nestedAssignment: ${n} query heads are not a multiple of ${m} key/value heads`);
  const runs: Int32Array[] = [];
  const total = new Float64Array(m * m);
  const sub = new Float64Array(r * r);
  for (let g = 0; g < m; g++) {
    for (let h = 0; h < m; h++) {
      for (let x = 0; x < r; x++) for (let y = 0; y < r; y++) sub[x * r + y] = inner[(g * r + x) * n + h * r + y];
      const run = maxAssignment(sub, r);
      let value = outer[g * m + h];
      for (let x = 0; x < r; x++) value += sub[x * r + run[x]];
      total[g * m + h] = value;
      runs.push(run);
    }
  }
  const outerPerm = maxAssignment(total, m);
  const innerPerm = new Int32Array(n);
  for (let g = 0; g < m; g++) {
    const h = outerPerm[g];
    const run = runs[g * m + h];
    for (let x = 0; x < r; x++) innerPerm[g * r + x] = h * r + run[x];
  }
  return { inner: innerPerm, outer: outerPerm };
}
