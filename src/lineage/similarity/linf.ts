import { checkPair, checkTriple } from './checks.js';
import type { FeatureMatrix, SimilarityMetric } from './types.js';

/**
 * linf: s = -(1/N) sum_n max_j |d_nj|. The derivative goes through the first argmax of each row
 * (a subgradient where several entries tie for the maximum, or where the maximum is 0).
 */
export const linfMetric: SimilarityMetric = {
  name: 'linf',
  raw(fp: FeatureMatrix, fc: FeatureMatrix, n: number, d: number): number {
    checkPair(fp, fc, n, d);
    let total = 0;
    for (let row = 0; row < n; row++) {
      let best = 0;
      for (let i = row * d, end = i + d; i < end; i++) {
        const a = Math.abs(fp[i] - fc[i]);
        // A NaN must stay visible instead of silently losing to the comparison.
        if (a > best || Number.isNaN(a)) best = a;
      }
      total += best;
    }
    return 0 - total / n; // 0 - x: identical features score +0, not -0
  },
  directional(fp: FeatureMatrix, fc: FeatureMatrix, tangent: FeatureMatrix, n: number, d: number): number {
    checkTriple(fp, fc, tangent, n, d);
    let total = 0;
    for (let row = 0; row < n; row++) {
      let best = -1;
      let at = row * d;
      for (let i = row * d, end = i + d; i < end; i++) {
        const a = Math.abs(fp[i] - fc[i]);
        if (a > best) {
          best = a;
          at = i;
        }
      }
      const diff = fp[at] - fc[at];
      if (diff > 0) total += tangent[at];
      else if (diff < 0) total -= tangent[at];
      else if (Number.isNaN(diff)) total += Number.NaN;
    }
    return -total / n;
  },
  finalize: (s: number): number => s,
};
