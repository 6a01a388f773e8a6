import { checkPair, checkTriple, exponentOf } from './checks.js';
import type { FeatureMatrix, MetricParams, SimilarityMetric } from './types.js';

/** lp: s = -(1/M) sum |d|^p (p = 4 by default), reported as -(-s)^(1/p). */
export const lpMetric: SimilarityMetric = {
  name: 'lp',
  raw(fp: FeatureMatrix, fc: FeatureMatrix, n: number, d: number, params?: MetricParams): number {
    checkPair(fp, fc, n, d);
    const p = exponentOf(params);
    let sum = 0;
    for (let i = 0; i < fp.length; i++) sum += Math.abs(fp[i] - fc[i]) ** p;
    return 0 - sum / fp.length; // 0 - x: identical features score +0, not -0
  },
  directional(
    fp: FeatureMatrix,
    fc: FeatureMatrix,
    tangent: FeatureMatrix,
    n: number,
    d: number,
    params?: MetricParams,
  ): number {
    checkTriple(fp, fc, tangent, n, d);
    const p = exponentOf(params);
    let sum = 0;
    for (let i = 0; i < fp.length; i++) {
      const diff = fp[i] - fc[i];
      // d = 0 contributes nothing (and must not: |0|^(p-1) is Infinity for p < 1).
      if (diff > 0) sum += diff ** (p - 1) * tangent[i];
      else if (diff < 0) sum -= (-diff) ** (p - 1) * tangent[i];
    }
    return (-p * sum) / fp.length;
  },
  // Same clamp as l2: an overshooting Taylor value becomes distance 0.
  finalize: (s: number, params?: MetricParams): number => 0 - (-Math.min(s, 0)) ** (1 / exponentOf(params)),
};
