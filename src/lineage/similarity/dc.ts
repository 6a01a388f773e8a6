import { checkPair, checkTriple } from './checks.js';
import type { FeatureMatrix, SimilarityMetric } from './types.js';

/**
 * Distance correlation (Szekely, Rizzo & Bakirov 2007), samples = rows:
 *   a_ij = |x_i - x_j|, A = double-centred a (likewise b, B for the child),
 *   S = <A, B>, U = <A, A>, V = <B, B>,  R = sqrt(S / sqrt(U V))   (R = 0 when U V = 0, as Szekely).
 * Double centring is a projection (A = H a H), so S = <a, B> and U = <a, A>, giving
 *   dS = <da, B>, dU = 2 <da, A>, da_ij = (x_i - x_j).(t_i - t_j) / a_ij (0 when a_ij = 0),
 *   dR = dS / (2 sqrt(S) (U V)^(1/4)) - R dU / (4 U).
 * Cost: one pass over the N(N-1)/2 sample pairs per matrix, O(N^2 D) time, with the pairwise
 * distances kept as packed upper triangles (3 x 4 MB at N = 1024 with a tangent).
 */
export const dcMetric: SimilarityMetric = {
  name: 'dc',
  raw(fp: FeatureMatrix, fc: FeatureMatrix, n: number, d: number): number {
    checkPair(fp, fc, n, d);
    return evaluate(fp, fc, null, n, d).value;
  },
  directional(fp: FeatureMatrix, fc: FeatureMatrix, tangent: FeatureMatrix, n: number, d: number): number {
    checkTriple(fp, fc, tangent, n, d);
    return evaluate(fp, fc, tangent, n, d).derivative;
  },
  finalize: (s: number): number => s,
};

interface PairDistances {
  /** Strict upper triangle, row by row: (0,1), (0,2), ..., (1,2), ... */
  readonly dist: Float64Array;
  /** Directional derivative of each distance along the tangent, same layout (null without one). */
  readonly ddist: Float64Array | null;
  /** Row means of the full symmetric distance matrix (diagonal zeros included). */
  readonly rowMean: Float64Array;
  readonly grandMean: number;
}

function pairDistances(f: FeatureMatrix, t: FeatureMatrix | null, n: number, d: number): PairDistances {
  const dist = new Float64Array((n * (n - 1)) / 2);
  const ddist = t === null ? null : new Float64Array(dist.length);
  const rowSum = new Float64Array(n);
  let p = 0;
  for (let i = 0; i < n; i++) {
    const bi = i * d;
    for (let j = i + 1; j < n; j++, p++) {
      const bj = j * d;
      let sq = 0;
      let along = 0;
      if (t === null) {
        for (let c = 0; c < d; c++) {
          const diff = f[bi + c] - f[bj + c];
          sq += diff * diff;
        }
      } else {
        for (let c = 0; c < d; c++) {
          const diff = f[bi + c] - f[bj + c];
          sq += diff * diff;
          along += diff * (t[bi + c] - t[bj + c]);
        }
      }
      const a = Math.sqrt(sq);
      dist[p] = a;
      // Equal rows: the distance has a kink; take the zero subgradient.
      if (ddist !== null) ddist[p] = a > 0 ? along / a : 0;
      rowSum[i] += a;
      rowSum[j] += a;
    }
  }
  let total = 0;
  for (let i = 0; i < n; i++) {
    total += rowSum[i];
    rowSum[i] /= n;
  }
  return { dist, ddist, rowMean: rowSum, grandMean: total / (n * n) };
}

function evaluate(
  fp: FeatureMatrix,
  fc: FeatureMatrix,
  tangent: FeatureMatrix | null,
  n: number,
  d: number,
): { value: number; derivative: number } {
  const x = pairDistances(fp, tangent, n, d);
  const y = pairDistances(fc, null, n, d);
  const ga = x.grandMean;
  const gb = y.grandMean;
  // Diagonal entries: a_ii = 0, so A_ii = -2 mean_i + grand mean (and da_ii = 0).
  let s = 0;
  let u = 0;
  let v = 0;
  for (let i = 0; i < n; i++) {
    const aii = ga - 2 * x.rowMean[i];
    const bii = gb - 2 * y.rowMean[i];
    s += aii * bii;
    u += aii * aii;
    v += bii * bii;
  }
  let sOff = 0;
  let uOff = 0;
  let vOff = 0;
  let dsOff = 0;
  let duOff = 0;
  const dd = x.ddist;
  let p = 0;
  for (let i = 0; i < n; i++) {
    const ai = ga - x.rowMean[i];
    const bi = gb - y.rowMean[i];
    for (let j = i + 1; j < n; j++, p++) {
      const aij = x.dist[p] + ai - x.rowMean[j];
      const bij = y.dist[p] + bi - y.rowMean[j];
      sOff += aij * bij;
      uOff += aij * aij;
      vOff += bij * bij;
      if (dd !== null) {
        dsOff += dd[p] * bij;
        duOff += dd[p] * aij;
      }
    }
  }
  // Off-diagonal pairs appear twice in the full symmetric sums.
  s += 2 * sOff;
  u += 2 * uOff;
  v += 2 * vOff;
  const ds = 2 * dsOff;
  const du = 4 * duOff;
  if (Number.isNaN(s) || Number.isNaN(u) || Number.isNaN(v)) return { value: NaN, derivative: NaN };
  if (!(u > 0 && v > 0 && s > 0)) return { value: 0, derivative: 0 };
  const quarter = Math.sqrt(Math.sqrt(u) * Math.sqrt(v));
  const root = Math.sqrt(s);
  const value = root / quarter;
  return { value, derivative: ds / (2 * root * quarter) - (value * du) / (4 * u) };
}
