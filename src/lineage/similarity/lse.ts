import { checkedParam, temperatureOf } from './checks.js';
import type { FeatureMatrix, MetricParams, SimilarityMetric } from './types.js';

/** t*|d| is clamped here (as in the reference code) so one outlier cannot dominate a row. */
export const LSE_CLAMP = 10;

/**
 * lse: s = -(1/N) sum_n (1/t) log sum_j exp(min(t |d_nj|, 10)), t = 0.01 by default.
 *
 * Derivative (of exactly this formula): ds/dF_p[n,j] = -(1/N) softmax_j(u_n.) sign(d_nj) where
 * u = min(t|d|, 10), and 0 where the clamp is active (t|d| >= 10). The paper (Yu & Wang, "Neural
 * Lineage", CVPR 2024, the metric table of its learning-free method) writes the factor as 1/M;
 * with the 1/N normalisation of the value the true derivative carries 1/N (softmax already sums to
 * 1 over j), so we use 1/N to keep value and derivative consistent.
 * The clamp bounds every exponent to [0, 10], so the plain sum of exponentials cannot overflow.
 */
export const lseMetric: SimilarityMetric = {
  name: 'lse',
  raw(fp: FeatureMatrix, fc: FeatureMatrix, n: number, d: number, params?: MetricParams): number {
    const t = checkedParam(temperatureOf, params, fp, fc, n, d);
    let total = 0;
    for (let row = 0; row < n; row++) {
      let z = 0;
      for (let i = row * d, end = i + d; i < end; i++) {
        z += Math.exp(Math.min(t * Math.abs(fp[i] - fc[i]), LSE_CLAMP));
      }
      total += Math.log(z);
    }
    return 0 - total / (t * n);
  },
  directional(fp: FeatureMatrix, fc: FeatureMatrix, tangent: FeatureMatrix, n: number, d: number, params?: MetricParams): number {
    const t = checkedParam(temperatureOf, params, fp, fc, n, d, tangent);
    let total = 0;
    for (let row = 0; row < n; row++) {
      let z = 0;
      let weighted = 0;
      for (let i = row * d, end = i + d; i < end; i++) {
        const diff = fp[i] - fc[i];
        const u = t * Math.abs(diff);
        if (u >= LSE_CLAMP) {
          z += Math.exp(LSE_CLAMP);
          continue;
        }
        const e = Math.exp(u);
        z += e;
        weighted += Math.sign(diff) * e * tangent[i];
      }
      total += weighted / z;
    }
    return -total / n;
  },
  finalize: (s: number): number => s,
};
