/**
 * Feature-method scores of one (candidate, child) pair, from the pair's features on the probe.
 */
import type { FeatureMode } from './methods.js';
import { getMetric } from './similarity/index.js';
import { directScore, fittedScore, linearizedScore, taylorScore } from './similarity/scores.js';
import type { FeatureMatrix, MetricName, MetricParams, SimilarityMetric } from './similarity/types.js';

/** One pair's features: F_p (candidate), F_c (child) and T = J_p Delta, each N x D row-major. */
export interface FeatureBatch {
  fp: Float32Array;
  fc: Float32Array;
  /** Absent when only direct scores are asked for. */
  tangent?: Float32Array;
  n: number;
  d: number;
}

/**
 * Scores a batch with any number of (mode, metric, alpha). Within one batch the raw similarity
 * s(F_p, F_c) and its directional derivative D_T s do not depend on alpha: each is computed once per
 * metric and serves the direct score and the Taylor score at every alpha.
 */
export class BatchScorer {
  private readonly metrics = new Map<MetricName, SimilarityMetric>();

  constructor(
    private readonly batch: FeatureBatch,
    private readonly params?: MetricParams,
  ) {}

  score(mode: FeatureMode, metricName: MetricName, alpha: number): number {
    const { fp, fc, n, d } = this.batch;
    const metric = this.metric(metricName);
    if (mode === 'direct') return directScore(metric, fp, fc, n, d, this.params);
    const tangent = this.batch.tangent;
    if (!tangent) throw new Error(`${mode} scores need the tangent of the pair`);
    if (mode === 'taylor') return taylorScore(metric, fp, fc, tangent, alpha, n, d, this.params).score;
    if (mode === 'fitted') return fittedScore(metric, fp, fc, tangent, n, d, this.params).score;
    return linearizedScore(metric, fp, fc, tangent, alpha, n, d, this.params).score;
  }

  private metric(name: MetricName): SimilarityMetric {
    let metric = this.metrics.get(name);
    if (!metric) this.metrics.set(name, (metric = onceForBatch(getMetric(name), this.batch, this.params)));
    return metric;
  }
}

/**
 * `base` with `raw(F_p, F_c)` and `directional(F_p, F_c, T)` remembered for this batch's own
 * matrices and params; calls on other matrices (the moved features of the linearised and fitted
 * scores) go to `base` every time.
 */
function onceForBatch(base: SimilarityMetric, batch: FeatureBatch, params: MetricParams | undefined): SimilarityMetric {
  let raw: number | undefined;
  let directional: number | undefined;
  const ofBatch = (fp: FeatureMatrix, fc: FeatureMatrix, n: number, d: number, p: MetricParams | undefined): boolean =>
    fp === batch.fp && fc === batch.fc && n === batch.n && d === batch.d && p === params;
  return {
    name: base.name,
    finalize: (s, p) => base.finalize(s, p),
    raw: (fp, fc, n, d, p) => (ofBatch(fp, fc, n, d, p) ? (raw ??= base.raw(fp, fc, n, d, p)) : base.raw(fp, fc, n, d, p)),
    directional: (fp, fc, t, n, d, p) =>
      ofBatch(fp, fc, n, d, p) && t === batch.tangent ? (directional ??= base.directional(fp, fc, t, n, d, p)) : base.directional(fp, fc, t, n, d, p),
  };
}
