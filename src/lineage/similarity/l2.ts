import { checkPair, checkTriple } from './checks.js';
import type { FeatureMatrix, SimilarityMetric } from './types.js';

/** l2: s = -(1/M) sum d^2, reported as the negative RMS distance -sqrt(-s). */
export const l2Metric: SimilarityMetric = {
  name: 'l2',
  raw(fp: FeatureMatrix, fc: FeatureMatrix, n: number, d: number): number {
    checkPair(fp, fc, n, d);
    let sum = 0;
    for (let i = 0; i < fp.length; i++) {
      const diff = fp[i] - fc[i];
      sum += diff * diff;
    }
    return 0 - sum / fp.length; // 0 - x: identical features score +0, not -0
  },
  directional(fp: FeatureMatrix, fc: FeatureMatrix, tangent: FeatureMatrix, n: number, d: number): number {
    checkTriple(fp, fc, tangent, n, d);
    let sum = 0;
    for (let i = 0; i < fp.length; i++) sum += (fp[i] - fc[i]) * tangent[i];
    return (-2 * sum) / fp.length;
  },
  // A Taylor value can overshoot above 0 (the linearisation "passes" the child); clamping makes it
  // distance 0 instead of NaN. Raw values are never positive, so the clamp is a no-op for them.
  finalize: (s: number): number => 0 - Math.sqrt(-Math.min(s, 0)),
};
