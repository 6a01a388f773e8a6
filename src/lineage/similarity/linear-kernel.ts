import type { FeatureMatrix } from './types.js';

/**
 * Shared core of the two CKA metrics. With column-centred features X, Y (N x D) and a centred
 * tangent T of X, the linear-kernel inner products are
 *   kl = <XX^T, YY^T> = ||Y^T X||_F^2,  kk = ||X^T X||_F^2,  ll = ||Y^T Y||_F^2
 * and their derivatives along T
 *   dkl = 2 <Y^T X, Y^T T>,  dkk = 4 <X^T X, X^T T>.
 * They can be summed over sample pairs (N x N Gram entries, ~N^2 D work) or over feature pairs
 * (D x D cross-covariance entries, ~2 N D^2 work); either way entries are produced and consumed on the
 * fly, so no N x N or D x D matrix is stored.
 */
export interface LinearKernelStats {
  readonly kl: number;
  readonly kk: number;
  readonly ll: number;
  /** Derivatives along the tangent; 0 when no tangent was given. */
  readonly dkl: number;
  readonly dkk: number;
}

export type KernelSummation = 'auto' | 'samples' | 'features';

/** Copy into float64 with every column's mean (over the N samples) subtracted. */
export function centreColumns(f: FeatureMatrix, n: number, d: number): Float64Array {
  const out = new Float64Array(n * d);
  const mean = new Float64Array(d);
  for (let row = 0; row < n; row++) {
    const base = row * d;
    for (let col = 0; col < d; col++) mean[col] += f[base + col];
  }
  for (let col = 0; col < d; col++) mean[col] /= n;
  for (let row = 0; row < n; row++) {
    const base = row * d;
    for (let col = 0; col < d; col++) out[base + col] = f[base + col] - mean[col];
  }
  return out;
}

/** Per-row inner products a_n . b_n (N values). */
export function rowDots(a: Float64Array, b: Float64Array, n: number, d: number): Float64Array {
  const out = new Float64Array(n);
  for (let row = 0; row < n; row++) {
    let s = 0;
    for (let i = row * d, end = i + d; i < end; i++) s += a[i] * b[i];
    out[row] = s;
  }
  return out;
}

function transpose(m: Float64Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[c * rows + r] = m[r * cols + c];
  }
  return out;
}

/**
 * Which summation is cheaper. By operation count sample pairs cost ~N^2 D and feature pairs ~2 N D^2
 * (crossover D = N/2), but the feature-pair loop shares more loads per multiply; measured with Node 20
 * at N = 512..1024 the two break even near D = 0.7 N.
 */
export function cheaperSummation(n: number, d: number): 'samples' | 'features' {
  return n <= 1.4 * d ? 'samples' : 'features';
}

export function linearKernelStats(
  x: Float64Array,
  y: Float64Array,
  t: Float64Array | null,
  n: number,
  d: number,
  summation: KernelSummation = 'auto',
): LinearKernelStats {
  const mode = summation === 'auto' ? cheaperSummation(n, d) : summation;
  return mode === 'samples' ? overSamplePairs(x, y, t, n, d) : overFeaturePairs(x, y, t, n, d);
}

/** Running sums; pairs are folded in through `add*Pair` so the hot loops stay flat. */
class Sums {
  kl = 0;
  kk = 0;
  ll = 0;
  /** <L, M> over the full matrices (sample pairs) or <C, Q> (feature pairs). */
  cross = 0;
  /** <K, M> (sample pairs) or <A, P> (feature pairs). */
  self = 0;

  /** Sample pair i <= j: K_ij, L_ij and M_ij + M_ji (just M_ii on the diagonal). */
  addSamplePair(diagonal: boolean, k: number, l: number, mSym: number): void {
    const w = diagonal ? 1 : 2;
    this.kl += w * k * l;
    this.kk += w * k * k;
    this.ll += w * l * l;
    this.cross += l * mSym;
    this.self += k * mSym;
  }

  /** Feature pair a <= b: A_ab, B_ab, C_ab, C_ba, P_ab, P_ba, Q_ab, Q_ba. */
  addFeaturePair(diagonal: boolean, aab: number, bab: number, cab: number, cba: number, pab: number, pba: number, qab: number, qba: number): void {
    if (diagonal) {
      this.kk += aab * aab;
      this.ll += bab * bab;
      this.kl += cab * cab;
      this.self += aab * pab;
      this.cross += cab * qab;
    } else {
      this.kk += 2 * aab * aab;
      this.ll += 2 * bab * bab;
      this.kl += cab * cab + cba * cba;
      this.self += aab * (pab + pba);
      this.cross += cab * qab + cba * qba;
    }
  }
}

/*
 * The inner loops below are register-blocked (several dot products share each load), which is what
 * limits plain JavaScript here; blocking roughly halves the time at N = 1024.
 */

/** K_ij = x_i.x_j, L_ij = y_i.y_j, M_ij = x_i.t_j; dkl = 2<L, M>, dkk = 4<K, M> (K, L symmetric). */
function overSamplePairs(x: Float64Array, y: Float64Array, t: Float64Array | null, n: number, d: number): LinearKernelStats {
  const sums = new Sums();
  for (let i = 0; i < n; i++) {
    const bi = i * d;
    let j = i;
    if (t === null) {
      for (; j + 3 < n; j += 4) {
        const b0 = j * d;
        const b1 = b0 + d;
        const b2 = b1 + d;
        const b3 = b2 + d;
        // biome-ignore format: the unrolled accumulators read best on one line
        let k0 = 0, k1 = 0, k2 = 0, k3 = 0, l0 = 0, l1 = 0, l2 = 0, l3 = 0;
        for (let c = 0; c < d; c++) {
          const xi = x[bi + c];
          const yi = y[bi + c];
          k0 += xi * x[b0 + c];
          k1 += xi * x[b1 + c];
          k2 += xi * x[b2 + c];
          k3 += xi * x[b3 + c];
          l0 += yi * y[b0 + c];
          l1 += yi * y[b1 + c];
          l2 += yi * y[b2 + c];
          l3 += yi * y[b3 + c];
        }
        sums.addSamplePair(j === i, k0, l0, 0);
        sums.addSamplePair(false, k1, l1, 0);
        sums.addSamplePair(false, k2, l2, 0);
        sums.addSamplePair(false, k3, l3, 0);
      }
    } else {
      for (; j + 1 < n; j += 2) {
        const b0 = j * d;
        const b1 = b0 + d;
        // biome-ignore format: the unrolled accumulators read best on one line
        let k0 = 0, k1 = 0, l0 = 0, l1 = 0, m0 = 0, m1 = 0, r0 = 0, r1 = 0;
        for (let c = 0; c < d; c++) {
          const xi = x[bi + c];
          const ti = t[bi + c];
          const yi = y[bi + c];
          const x0 = x[b0 + c];
          const x1 = x[b1 + c];
          k0 += xi * x0;
          k1 += xi * x1;
          l0 += yi * y[b0 + c];
          l1 += yi * y[b1 + c];
          m0 += xi * t[b0 + c];
          m1 += xi * t[b1 + c];
          r0 += x0 * ti;
          r1 += x1 * ti;
        }
        sums.addSamplePair(j === i, k0, l0, j === i ? m0 : m0 + r0);
        sums.addSamplePair(false, k1, l1, m1 + r1);
      }
    }
    for (; j < n; j++) {
      const bj = j * d;
      let k = 0;
      let l = 0;
      let m = 0;
      let r = 0;
      for (let c = 0; c < d; c++) {
        k += x[bi + c] * x[bj + c];
        l += y[bi + c] * y[bj + c];
        if (t !== null) {
          m += x[bi + c] * t[bj + c];
          r += x[bj + c] * t[bi + c];
        }
      }
      sums.addSamplePair(j === i, k, l, j === i ? m : m + r);
    }
  }
  return { kl: sums.kl, kk: sums.kk, ll: sums.ll, dkl: 2 * sums.cross, dkk: 4 * sums.self };
}

/** A = X^T X, B = Y^T Y, C = Y^T X, P = X^T T, Q = Y^T T; dkl = 2<C, Q>, dkk = 4<A, P>. */
function overFeaturePairs(x: Float64Array, y: Float64Array, t: Float64Array | null, n: number, d: number): LinearKernelStats {
  // Columns become contiguous rows, so every entry is a stride-1 dot product of length N.
  const xt = transpose(x, n, d);
  const yt = transpose(y, n, d);
  const tt = t === null ? null : transpose(t, n, d);
  const sums = new Sums();
  for (let a = 0; a < d; a++) {
    const ba = a * n;
    let b = a;
    if (tt === null) {
      for (; b + 1 < d; b += 2) {
        const b0 = b * n;
        const b1 = b0 + n;
        // biome-ignore format: the unrolled accumulators read best on one line
        let a0 = 0, a1 = 0, e0 = 0, e1 = 0, c0 = 0, c1 = 0, r0 = 0, r1 = 0;
        for (let s = 0; s < n; s++) {
          const xa = xt[ba + s];
          const ya = yt[ba + s];
          const x0 = xt[b0 + s];
          const x1 = xt[b1 + s];
          const y0 = yt[b0 + s];
          const y1 = yt[b1 + s];
          a0 += xa * x0;
          a1 += xa * x1;
          e0 += ya * y0;
          e1 += ya * y1;
          c0 += ya * x0;
          c1 += ya * x1;
          r0 += y0 * xa;
          r1 += y1 * xa;
        }
        sums.addFeaturePair(b === a, a0, e0, c0, r0, 0, 0, 0, 0);
        sums.addFeaturePair(false, a1, e1, c1, r1, 0, 0, 0, 0);
      }
    }
    for (; b < d; b++) {
      const bb = b * n;
      // biome-ignore format: the unrolled accumulators read best on one line
      let aab = 0, bab = 0, cab = 0, cba = 0, pab = 0, pba = 0, qab = 0, qba = 0;
      if (tt === null) {
        for (let s = 0; s < n; s++) {
          const xa = xt[ba + s];
          const xb = xt[bb + s];
          const ya = yt[ba + s];
          const yb = yt[bb + s];
          aab += xa * xb;
          bab += ya * yb;
          cab += ya * xb;
          cba += yb * xa;
        }
      } else {
        for (let s = 0; s < n; s++) {
          const xa = xt[ba + s];
          const xb = xt[bb + s];
          const ya = yt[ba + s];
          const yb = yt[bb + s];
          const ta = tt[ba + s];
          const tb = tt[bb + s];
          aab += xa * xb;
          bab += ya * yb;
          cab += ya * xb;
          cba += yb * xa;
          pab += xa * tb;
          pba += xb * ta;
          qab += ya * tb;
          qba += yb * ta;
        }
      }
      sums.addFeaturePair(b === a, aab, bab, cab, cba, pab, pba, qab, qba);
    }
  }
  return { kl: sums.kl, kk: sums.kk, ll: sums.ll, dkl: 2 * sums.cross, dkk: 4 * sums.self };
}
