import { checkTriple } from './checks.js';
import type { FeatureMatrix, MetricParams, ScoreResult, SimilarityMetric } from './types.js';

/**
 * The three ways a metric scores a (parent, child) pair:
 *   direct      finalize(s(F_p, F_c))
 *   taylor      finalize(s(F_p, F_c) + alpha D_T s(F_p, F_c))   (the paper's learning-free score)
 *   linearized  finalize(s(F_p + alpha T, F_c))                (exact score of the linearised child)
 * finalize clamps l2/lp values to <= 0 before the root. A NaN/Inf approximated score falls back to the
 * direct score, as in the reference code; the result says when that happened.
 */
export function directScore(
  metric: SimilarityMetric,
  fp: FeatureMatrix,
  fc: FeatureMatrix,
  n: number,
  d: number,
  params?: MetricParams,
): number {
  return metric.finalize(metric.raw(fp, fc, n, d, params), params);
}

export function taylorScore(
  metric: SimilarityMetric,
  fp: FeatureMatrix,
  fc: FeatureMatrix,
  tangent: FeatureMatrix,
  alpha: number,
  n: number,
  d: number,
  params?: MetricParams,
): ScoreResult {
  checkAlpha(alpha);
  const raw = metric.raw(fp, fc, n, d, params);
  const approx = raw + alpha * metric.directional(fp, fc, tangent, n, d, params);
  const score = metric.finalize(approx, params);
  if (Number.isFinite(score)) return { score, fellBack: false };
  return { score: metric.finalize(raw, params), fellBack: true };
}

export function linearizedScore(
  metric: SimilarityMetric,
  fp: FeatureMatrix,
  fc: FeatureMatrix,
  tangent: FeatureMatrix,
  alpha: number,
  n: number,
  d: number,
  params?: MetricParams,
): ScoreResult {
  checkAlpha(alpha);
  checkTriple(fp, fc, tangent, n, d);
  const moved = shiftAlongTangent(fp, tangent, alpha);
  const score = metric.finalize(metric.raw(moved, fc, n, d, params), params);
  if (Number.isFinite(score)) return { score, fellBack: false };
  return { score: directScore(metric, fp, fc, n, d, params), fellBack: true };
}

/** F_p + alpha T in float64, so small alpha is not lost to float32 rounding. */
export function shiftAlongTangent(fp: FeatureMatrix, tangent: FeatureMatrix, alpha: number): Float64Array {
  if (fp.length !== tangent.length) {
    throw new RangeError(`similarity: tangent has ${tangent.length} values, features have ${fp.length}`);
  }
  const out = new Float64Array(fp.length);
  for (let i = 0; i < fp.length; i++) out[i] = fp[i] + alpha * tangent[i];
  return out;
}

function checkAlpha(alpha: number): void {
  if (!Number.isFinite(alpha)) throw new RangeError(`similarity: alpha must be a finite number, got ${alpha}`);
}
