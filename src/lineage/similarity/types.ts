/**
 * Shared types of the similarity-metric registry. Every metric is a similarity (higher = more alike)
 * over two N x D row-major feature matrices: F_p (candidate parent) and F_c (child).
 */

export const METRIC_NAMES = ['l1', 'l2', 'lp', 'lse', 'linf', 'cka', 'cka-unbiased', 'dc'] as const;
export type MetricName = (typeof METRIC_NAMES)[number];

/**
 * Row-major N x D features. Float64Array is accepted so that shifted matrices (F_p + alpha T, finite
 * differences) keep full precision; every sum is accumulated in float64 either way.
 */
export type FeatureMatrix = Float32Array | Float64Array;

export interface MetricParams {
  /** Exponent of `lp` (default 4). Must be finite and > 0. */
  readonly p?: number;
  /** Temperature of `lse` (default 0.01). Must be finite and > 0. */
  readonly t?: number;
}

export interface SimilarityMetric {
  readonly name: MetricName;
  /**
   * The raw similarity s(F_p, F_c) of the metric table of the learning-free method in Yu & Wang,
   * "Neural Lineage" (CVPR 2024), before post-processing.
   */
  raw(fp: FeatureMatrix, fc: FeatureMatrix, n: number, d: number, params?: MetricParams): number;
  /**
   * Analytic derivative of `raw` along a feature tangent: d/de s(F_p + e T, F_c) at e = 0, where
   * T = J_p Delta is how the parent's features move under the weight delta.
   */
  directional(fp: FeatureMatrix, fc: FeatureMatrix, tangent: FeatureMatrix, n: number, d: number, params?: MetricParams): number;
  /** Post-processing of a raw (or Taylor-approximated) value into the reported score. */
  finalize(s: number, params?: MetricParams): number;
}

export interface ScoreResult {
  readonly score: number;
  /** True when the approximated value was NaN/Inf and `score` is the direct score instead. */
  readonly fellBack: boolean;
}
