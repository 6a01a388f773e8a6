/**
 * Exact linear assignment: the permutation of a square score matrix with the largest total score.
 * Shortest augmenting paths with dual potentials (Kuhn-Munkres as refined by Jonker and Volgenant),
 * O(n^3) at worst; when each row has a clear best column the paths are short and it is nearer n^2.
 */

/**
 * perm[i] = the column given to row i, maximising the sum of score[i * n + perm[i]]. Non-finite
 * scores are treated as worse than any finite one.
 */
export function maxAssignment(score: Float64Array, n: number): Int32Array {
  if (score.length !== n * n) throw new RangeError(`maxAssignment: ${score.length} scores for a ${n} x ${n} matrix`);
  const cost = negatedCost(score);
  // 1-based as in the textbook statement: column 0 and row 0 are the virtual start of each path.
  const u = new Float64Array(n + 1);
  const v = new Float64Array(n + 1);
  const rowOf = new Int32Array(n + 1);
  const way = new Int32Array(n + 1);
  const minv = new Float64Array(n + 1);
  const used = new Uint8Array(n + 1);
  for (let i = 1; i <= n; i++) {
    rowOf[0] = i;
    let j0 = 0;
    minv.fill(Number.POSITIVE_INFINITY);
    used.fill(0);
    do {
      used[j0] = 1;
      const i0 = rowOf[j0];
      const base = (i0 - 1) * n - 1;
      const ui = u[i0];
      let delta = Number.POSITIVE_INFINITY;
      let j1 = 0;
      for (let j = 1; j <= n; j++) {
        if (used[j]) continue;
        const cur = cost[base + j] - ui - v[j];
        if (cur < minv[j]) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j] < delta) {
          delta = minv[j];
          j1 = j;
        }
      }
      for (let j = 0; j <= n; j++) {
        if (used[j]) {
          u[rowOf[j]] += delta;
          v[j] -= delta;
        } else minv[j] -= delta;
      }
      j0 = j1;
    } while (rowOf[j0] !== 0);
    do {
      const j1 = way[j0];
      rowOf[j0] = rowOf[j1];
      j0 = j1;
    } while (j0 !== 0);
  }
  const perm = new Int32Array(n);
  for (let j = 1; j <= n; j++) perm[rowOf[j] - 1] = j - 1;
  return perm;
}

/** -score, with non-finite scores replaced by a cost above every finite one (infinities would stall the potentials). */
function negatedCost(score: Float64Array): Float64Array {
  let worst = 0;
  for (const s of score) if (Number.isFinite(s)) worst = Math.max(worst, Math.abs(s));
  const cost = new Float64Array(score.length);
  for (let k = 0; k < score.length; k++) cost[k] = Number.isFinite(score[k]) ? -score[k] : 2 * worst + 1;
  return cost;
}
