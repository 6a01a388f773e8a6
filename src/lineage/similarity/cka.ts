import { checkPair, checkTriple } from './checks.js';
import { centreColumns, linearKernelStats } from './linear-kernel.js';
import type { FeatureMatrix, SimilarityMetric } from './types.js';

/**
 * Linear CKA (Kornblith et al. 2019) with samples centred:
 *   CKA = ||Y^T X||_F^2 / (||X^T X||_F ||Y^T Y||_F),  X = centred F_p, Y = centred F_c.
 * Derivative: dCKA = dkl / (|K| |L|) - CKA dkk / (2 kk). Centring is linear, so the tangent is centred
 * the same way. A constant representation (zero kernel) has no defined CKA; we report 0 (and
 * derivative 0) so that such a candidate ranks as unrelated instead of poisoning an argmax with NaN.
 */
export const ckaMetric: SimilarityMetric = {
  name: 'cka',
  raw(fp: FeatureMatrix, fc: FeatureMatrix, n: number, d: number): number {
    checkPair(fp, fc, n, d);
    const { kl, kk, ll } = linearKernelStats(centreColumns(fp, n, d), centreColumns(fc, n, d), null, n, d);
    if (!(kk > 0 && ll > 0)) return degenerate(kk, ll);
    return kl / (Math.sqrt(kk) * Math.sqrt(ll));
  },
  directional(fp: FeatureMatrix, fc: FeatureMatrix, tangent: FeatureMatrix, n: number, d: number): number {
    checkTriple(fp, fc, tangent, n, d);
    const x = centreColumns(fp, n, d);
    const { kl, kk, ll, dkl, dkk } = linearKernelStats(x, centreColumns(fc, n, d), centreColumns(tangent, n, d), n, d);
    if (!(kk > 0 && ll > 0)) return degenerate(kk, ll);
    const norm = Math.sqrt(kk) * Math.sqrt(ll);
    return dkl / norm - (0.5 * (kl / norm) * dkk) / kk;
  },
  finalize: (s: number): number => s,
};

/** 0 for a zero kernel, but NaN stays NaN so that bad features are noticed by the fallback. */
export function degenerate(...values: number[]): number {
  return values.some((v) => Number.isNaN(v)) ? NaN : 0;
}
