/**
 * Orthonormal columns by Gram-Schmidt with re-orthogonalisation ("twice is enough": Kahan and
 * Parlett, as in Parlett, The Symmetric Eigenvalue Problem, section 6.9; Giraud et al. 2005). One
 * modified Gram-Schmidt pass loses orthogonality in proportion to the columns' condition number,
 * and a sketch of a low-rank matrix is as ill-conditioned as can be: its columns beyond the rank
 * are rounding noise. A second pass, taken when the first cancelled most of a column, restores
 * orthogonality to working precision; a column that cancels again lies in the span of the columns
 * before it and is set to zero.
 */

/** A pass that keeps at least this share of a (unit) column's norm cancelled little: the column is orthogonal to working precision. */
const KEPT_SHARE = Math.SQRT1_2;

function norm(x: Float64Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * x[i];
  return Math.sqrt(s);
}

function scale(x: Float64Array, factor: number): void {
  for (let i = 0; i < x.length; i++) x[i] *= factor;
}

/** Subtracts from `x` its components along the (orthonormal or zero) columns `basis`, one after another (modified Gram-Schmidt). */
function projectOut(x: Float64Array, basis: readonly Float64Array[]): void {
  for (const q of basis) {
    let r = 0;
    for (let i = 0; i < x.length; i++) r += q[i] * x[i];
    if (r === 0) continue;
    for (let i = 0; i < x.length; i++) x[i] -= r * q[i];
  }
}

/** Makes column `x` a unit vector orthogonal to `basis`, or zero when it lies in their span to rounding; true when kept. */
function orthonormaliseOne(x: Float64Array, basis: readonly Float64Array[]): boolean {
  let n = norm(x);
  if (n === 0 || !Number.isFinite(n)) return false;
  scale(x, 1 / n); // unit length before projecting: no overflow or underflow whatever the column's scale
  for (let pass = 0; pass < 2; pass++) {
    projectOut(x, basis);
    n = norm(x);
    if (n === 0) return false;
    scale(x, 1 / n);
    if (n >= KEPT_SHARE) return true;
  }
  return false;
}

/**
 * Orthonormalises, in place and in order, `count` columns of `length` values stored one after
 * another in `columns`. Columns in the span of those before them come out zero, so the non-zero
 * columns are orthonormal and span what the input spanned. Returns how many columns are non-zero.
 */
export function orthonormaliseColumns(columns: Float64Array, length: number, count: number): number {
  if (columns.length !== length * count) throw new RangeError(`orthonormaliseColumns: ${columns.length} values are not ${count} columns of ${length}`);
  const basis: Float64Array[] = [];
  for (let j = 0; j < count; j++) {
    const x = columns.subarray(j * length, (j + 1) * length);
    if (orthonormaliseOne(x, basis)) basis.push(x);
    else x.fill(0);
  }
  return basis.length;
}
