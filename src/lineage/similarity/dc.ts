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
  let p = 0;
  for (let i = 0; i < n; i++) {
    const bi = i * d;
    let j = i + 1;
    if (t === null) {
      // Four rows j at a time share each load of row i (the loop is load-bound).
      for (; j + 3 < n; j += 4, p += 4) {
        const b0 = j * d;
        const b1 = b0 + d;
        const b2 = b1 + d;
        const b3 = b2 + d;
        // biome-ignore format: the unrolled accumulators read best on one line
        let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (let c = 0; c < d; c++) {
          const fi = f[bi + c];
          const e0 = fi - f[b0 + c];
          const e1 = fi - f[b1 + c];
          const e2 = fi - f[b2 + c];
          const e3 = fi - f[b3 + c];
          s0 += e0 * e0;
          s1 += e1 * e1;
          s2 += e2 * e2;
          s3 += e3 * e3;
        }
        dist[p] = Math.sqrt(s0);
        dist[p + 1] = Math.sqrt(s1);
        dist[p + 2] = Math.sqrt(s2);
        dist[p + 3] = Math.sqrt(s3);
      }
    } else if (ddist !== null) {
      for (; j + 1 < n; j += 2, p += 2) {
        const b0 = j * d;
        const b1 = b0 + d;
        // biome-ignore format: the unrolled accumulators read best on one line
        let s0 = 0, s1 = 0, g0 = 0, g1 = 0;
        for (let c = 0; c < d; c++) {
          const fi = f[bi + c];
          const ti = t[bi + c];
          const e0 = fi - f[b0 + c];
          const e1 = fi - f[b1 + c];
          s0 += e0 * e0;
          s1 += e1 * e1;
          g0 += e0 * (ti - t[b0 + c]);
          g1 += e1 * (ti - t[b1 + c]);
        }
        const a0 = Math.sqrt(s0);
        const a1 = Math.sqrt(s1);
        dist[p] = a0;
        dist[p + 1] = a1;
        // Equal rows: the distance has a kink; take the zero subgradient.
        ddist[p] = a0 > 0 ? g0 / a0 : 0;
        ddist[p + 1] = a1 > 0 ? g1 / a1 : 0;
      }
    }
    for (; j < n; j++, p++) {
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
      if (ddist !== null) ddist[p] = a > 0 ? along / a : 0;
    }
  }
  const rowMean = new Float64Array(n);
  p = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++, p++) {
      rowMean[i] += dist[p];
      rowMean[j] += dist[p];
    }
  }
  let total = 0;
  for (let i = 0; i < n; i++) {
    total += rowMean[i];
    rowMean[i] /= n;
  }
  return { dist, ddist, rowMean, grandMean: total / (n * n) };
}

function evaluate(fp: FeatureMatrix, fc: FeatureMatrix, tangent: FeatureMatrix | null, n: number, d: number): { value: number; derivative: number } {
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
