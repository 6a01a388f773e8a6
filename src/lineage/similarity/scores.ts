import { checkTriple } from './checks.js';
import type { FeatureMatrix, MetricParams, ScoreResult, SimilarityMetric } from './types.js';

/**
 * The three ways a metric scores a (parent, child) pair:
 *   direct      finalize(s(F_p, F_c))
 *   taylor      finalize(s(F_p, F_c) + alpha D_T s(F_p, F_c))   (the paper's learning-free score)
 *   linearized  finalize(s(F_p + alpha T, F_c))                (exact score of the linearised child)
 *   fitted      finalize(max over a in [0, 1] of s(F_p + a T, F_c))   (step fitted per pair)
 * finalize clamps l2/lp values to <= 0 before the root. A NaN/Inf approximated score falls back to the
 * direct score, as in the reference code; the result says when that happened.
 */
export function directScore(metric: SimilarityMetric, fp: FeatureMatrix, fc: FeatureMatrix, n: number, d: number, params?: MetricParams): number {
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

/** Golden-section iterations: the bracket [0, 1] shrinks to 0.618^40 ~ 4e-9. */
const FIT_ITERATIONS = 40;

/**
 * The linearised parent moved by the fraction of its weight delta that best explains the child: a
 * line search of s(F_p + a T, F_c) over a in [0, 1], so no alpha has to be tuned on labelled
 * children. a = 1 is the full delta; a = 0 is the direct score, which the result never falls below.
 * Why it discriminates where the first-order Taylor score cannot: when linearisation holds for every
 * candidate, D_T s ~ -s for all of them and s + alpha D_T s ~ (1 - alpha) s keeps the direct ranking;
 * the fitted step instead rewards a tangent by how much of the feature gap it closes, and a
 * candidate's tangent that points elsewhere closes nothing, however large it is.
 * l1, l2, lp, lse and linf are convex in a, so the search finds the maximum; for cka and dc it finds
 * a local one (at least the direct score).
 */
export function fittedScore(
  metric: SimilarityMetric,
  fp: FeatureMatrix,
  fc: FeatureMatrix,
  tangent: FeatureMatrix,
  n: number,
  d: number,
  params?: MetricParams,
): ScoreResult & { alpha: number } {
  checkTriple(fp, fc, tangent, n, d);
  const moved = new Float64Array(fp.length);
  const at = (a: number): number => {
    for (let i = 0; i < fp.length; i++) moved[i] = fp[i] + a * tangent[i];
    const v = metric.raw(moved, fc, n, d, params);
    return Number.isNaN(v) ? Number.NEGATIVE_INFINITY : v;
  };
  const ratio = (Math.sqrt(5) - 1) / 2;
  let lo = 0;
  let hi = 1;
  let x1 = hi - ratio * (hi - lo);
  let x2 = lo + ratio * (hi - lo);
  let f1 = at(x1);
  let f2 = at(x2);
  for (let i = 0; i < FIT_ITERATIONS; i++) {
    if (f1 >= f2) {
      hi = x2;
      x2 = x1;
      f2 = f1;
      x1 = hi - ratio * (hi - lo);
      f1 = at(x1);
    } else {
      lo = x1;
      x1 = x2;
      f1 = f2;
      x2 = lo + ratio * (hi - lo);
      f2 = at(x2);
    }
  }
  let best = { alpha: 0, raw: metric.raw(fp, fc, n, d, params) };
  for (const [a, v] of [
    [x1, f1],
    [x2, f2],
    [1, at(1)],
  ] as const)
    if (v > best.raw || !Number.isFinite(best.raw)) best = { alpha: a, raw: v };
  const score = metric.finalize(best.raw, params);
  if (Number.isFinite(score)) return { score, fellBack: false, alpha: best.alpha };
  return { score: directScore(metric, fp, fc, n, d, params), fellBack: true, alpha: 0 };
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
