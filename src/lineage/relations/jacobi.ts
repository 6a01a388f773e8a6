/**
 * Eigenvalues of a small symmetric matrix by cyclic Jacobi rotations (Golub & Van Loan, Matrix
 * Computations, 4th ed., section 8.5). The sketches of low-rank.ts are at most a few hundred wide,
 * where Jacobi's O(n^3) per sweep is cheap, it needs no tridiagonal reduction, and it computes small
 * eigenvalues to high relative accuracy.
 */

/** Sweeps after which the iteration stops even if not converged; Jacobi converges quadratically, in well under 20 sweeps in practice. */
const MAX_SWEEPS = 64;

/** Rotates rows and columns p and q of the symmetric n x n matrix `m` (row-major) so that m[p][q] becomes 0. */
function rotate(m: Float64Array, n: number, p: number, q: number): void {
  const apq = m[p * n + q];
  if (apq === 0) return;
  const tau = (m[q * n + q] - m[p * n + p]) / (2 * apq);
  // The smaller root of t^2 + 2 tau t - 1 = 0 keeps the rotation angle under pi/4 (hypot: no overflow for huge tau).
  const t = (tau >= 0 ? 1 : -1) / (Math.abs(tau) + Math.hypot(1, tau));
  const c = 1 / Math.hypot(1, t);
  const s = t * c;
  for (let k = 0; k < n; k++) {
    const kp = m[k * n + p];
    const kq = m[k * n + q];
    m[k * n + p] = c * kp - s * kq;
    m[k * n + q] = s * kp + c * kq;
  }
  for (let k = 0; k < n; k++) {
    const pk = m[p * n + k];
    const qk = m[q * n + k];
    m[p * n + k] = c * pk - s * qk;
    m[q * n + k] = s * pk + c * qk;
  }
  m[p * n + q] = 0;
  m[q * n + p] = 0;
}

/** Sum of squares of the entries above the diagonal, and of all entries. */
function offDiagonal(m: Float64Array, n: number): { off: number; total: number } {
  let off = 0;
  let total = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const v = m[i * n + j] * m[i * n + j];
      total += v;
      if (j > i) off += v;
    }
  }
  return { off, total };
}

/**
 * The eigenvalues of the symmetric n x n matrix `matrix` (row-major), in descending order. The input
 * is not modified. Throws a RangeError when the matrix is not n x n, not symmetric or not finite.
 */
export function symmetricEigenvalues(matrix: ArrayLike<number>, n: number): number[] {
  if (!Number.isSafeInteger(n) || n < 0 || matrix.length !== n * n)
    throw new RangeError(`symmetricEigenvalues: expected ${n} x ${n} values, got ${matrix.length}`);
  const m = Float64Array.from(matrix);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      if (!Number.isFinite(m[i * n + j])) throw new RangeError(`symmetricEigenvalues: entry (${i}, ${j}) is not finite`);
      if (m[i * n + j] !== m[j * n + i]) throw new RangeError(`symmetricEigenvalues: matrix is not symmetric at (${i}, ${j})`);
    }
  }
  for (let sweep = 0; sweep < MAX_SWEEPS; sweep++) {
    const { off, total } = offDiagonal(m, n);
    // Off-diagonal mass at rounding level of the whole: the diagonal holds the eigenvalues to within eps * ||m||_F.
    if (off <= Number.EPSILON * Number.EPSILON * total) break;
    for (let p = 0; p < n - 1; p++) for (let q = p + 1; q < n; q++) rotate(m, n, p, q);
  }
  const values: number[] = [];
  for (let i = 0; i < n; i++) values.push(m[i * n + i]);
  return values.sort((x, y) => y - x);
}
