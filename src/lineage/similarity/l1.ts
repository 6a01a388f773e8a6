import { checkPair, checkTriple } from './checks.js';
import type { FeatureMatrix, SimilarityMetric } from './types.js';

/** l1: s = -(1/M) sum |d|, d = F_p - F_c, M = N*D. */
export const l1Metric: SimilarityMetric = {
  name: 'l1',
  raw(fp: FeatureMatrix, fc: FeatureMatrix, n: number, d: number): number {
    checkPair(fp, fc, n, d);
    let sum = 0;
    for (let i = 0; i < fp.length; i++) sum += Math.abs(fp[i] - fc[i]);
    return 0 - sum / fp.length; // 0 - x: identical features score +0, not -0
  },
  directional(fp: FeatureMatrix, fc: FeatureMatrix, tangent: FeatureMatrix, n: number, d: number): number {
    checkTriple(fp, fc, tangent, n, d);
    let sum = 0;
    for (let i = 0; i < fp.length; i++) {
      // Subgradient 0 at d = 0 (the kink), matching torch's sign(0) = 0. Math.sign instead of an
      // if/else: signs of real feature differences are unpredictable branches (7x slower).
      sum += Math.sign(fp[i] - fc[i]) * tangent[i];
    }
    return -sum / fp.length;
  },
  finalize: (s: number): number => s,
};
