import { checkPair, checkTriple } from './checks.js';
import { degenerate } from './cka.js';
import { centreColumns, linearKernelStats, rowDots } from './linear-kernel.js';
import type { FeatureMatrix, SimilarityMetric } from './types.js';

/**
 * Linear CKA with the unbiased HSIC estimator (Song et al. 2012; used for CKA by Nguyen et al. 2021):
 *   HSIC_1(K, L) = [tr(K~L~) + 1'K~1 1'L~1 / ((n-1)(n-2)) - 2/(n-2) 1'K~L~1] / (n(n-3)),
 * K~ = K with its diagonal zeroed. The estimator is invariant to shifting the features, so we centre
 * them; then K1 = 0 and, with k_i = |x_i|^2 and l_i = |y_i|^2, it reduces to
 *   n(n-3) HSIC_1 = <K, L> - n/(n-2) sum k_i l_i + (sum k)(sum l) / ((n-1)(n-2)),
 * which needs only the linear-kernel inner products plus O(N D) row norms.
 * An estimated HSIC_1(K, K) <= 0 (constant features, or tiny N) gives 0, like plain CKA.
 */
export const ckaUnbiasedMetric: SimilarityMetric = {
  name: 'cka-unbiased',
  raw(fp: FeatureMatrix, fc: FeatureMatrix, n: number, d: number): number {
    checkPair(fp, fc, n, d);
    checkSamples(n);
    return evaluate(fp, fc, null, n, d).value;
  },
  directional(fp: FeatureMatrix, fc: FeatureMatrix, tangent: FeatureMatrix, n: number, d: number): number {
    checkTriple(fp, fc, tangent, n, d);
    checkSamples(n);
    return evaluate(fp, fc, tangent, n, d).derivative;
  },
  finalize: (s: number): number => s,
};

function checkSamples(n: number): void {
  if (n < 4) throw new RangeError(`similarity: cka-unbiased needs N >= 4 samples, got N=${n}`);
}

function sum(v: Float64Array): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i];
  return s;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function evaluate(fp: FeatureMatrix, fc: FeatureMatrix, tangent: FeatureMatrix | null, n: number, d: number): { value: number; derivative: number } {
  const x = centreColumns(fp, n, d);
  const y = centreColumns(fc, n, d);
  const t = tangent === null ? null : centreColumns(tangent, n, d);
  const { kl, kk, ll, dkl, dkk } = linearKernelStats(x, y, t, n, d);
  const c1 = n / (n - 2);
  const c2 = 1 / ((n - 1) * (n - 2));
  const k = rowDots(x, x, n, d);
  const l = rowDots(y, y, n, d);
  const sk = sum(k);
  const sl = sum(l);
  const gxy = kl - c1 * dot(k, l) + c2 * sk * sl;
  const gxx = kk - c1 * dot(k, k) + c2 * sk * sk;
  const gyy = ll - c1 * dot(l, l) + c2 * sl * sl;
  if (!(gxx > 0 && gyy > 0)) {
    const zero = degenerate(gxx, gyy, gxy);
    return { value: zero, derivative: zero };
  }
  const norm = Math.sqrt(gxx) * Math.sqrt(gyy);
  const value = gxy / norm;
  if (t === null) return { value, derivative: 0 };
  // d k_i = 2 x_i . t_i
  const dk = rowDots(x, t, n, d);
  const sdk = sum(dk);
  const dgxy = dkl - 2 * c1 * dot(dk, l) + 2 * c2 * sdk * sl;
  const dgxx = dkk - 4 * c1 * dot(k, dk) + 4 * c2 * sk * sdk;
  return { value, derivative: dgxy / norm - (0.5 * value * dgxx) / gxx };
}
