import { checkedParam, exponentOf } from './checks.js';
import type { FeatureMatrix, MetricParams, SimilarityMetric } from './types.js';

/** lp: s = -(1/M) sum |d|^p (p = 4 by default), reported as -(-s)^(1/p). */
export const lpMetric: SimilarityMetric = {
  name: 'lp',
  raw(fp: FeatureMatrix, fc: FeatureMatrix, n: number, d: number, params?: MetricParams): number {
    const p = checkedParam(exponentOf, params, fp, fc, n, d);
    const power = absPower(p);
    let sum = 0;
    for (let i = 0; i < fp.length; i++) sum += power(Math.abs(fp[i] - fc[i]));
    return 0 - sum / fp.length; // 0 - x: identical features score +0, not -0
  },
  directional(fp: FeatureMatrix, fc: FeatureMatrix, tangent: FeatureMatrix, n: number, d: number, params?: MetricParams): number {
    const p = checkedParam(exponentOf, params, fp, fc, n, d, tangent);
    const power = absPower(p - 1);
    let sum = 0;
    for (let i = 0; i < fp.length; i++) {
      const diff = fp[i] - fc[i];
      const a = Math.abs(diff);
      // d = 0 contributes nothing (and must not: |0|^(p-1) is Infinity for p < 1). Math.sign keeps
      // the unpredictable sign out of the branch structure.
      if (a !== 0) sum += Math.sign(diff) * power(a) * tangent[i];
    }
    return (-p * sum) / fp.length;
  },
  // Same clamp as l2: an overshooting Taylor value becomes distance 0.
  finalize: (s: number, params?: MetricParams): number => 0 - (-Math.min(s, 0)) ** (1 / exponentOf(params)),
};

/** a^q for a >= 0; small integer exponents by multiplication, since Math.pow is ~40x slower. */
function absPower(q: number): (a: number) => number {
  switch (q) {
    case 1:
      return (a) => a;
    case 2:
      return (a) => a * a;
    case 3:
      return (a) => a * a * a;
    case 4:
      return (a) => {
        const s = a * a;
        return s * s;
      };
    default:
      return (a) => a ** q;
  }
}
