/**
 * Registry of feature-space similarity metrics for learning-free lineage detection. Every metric
 * gives its value and its analytic derivative along a feature tangent, so each one gets the direct,
 * Taylor and exact-linearised scores from scores.ts.
 */
import { ckaUnbiasedMetric } from './cka-unbiased.js';
import { ckaMetric } from './cka.js';
import { dcMetric } from './dc.js';
import { l1Metric } from './l1.js';
import { l2Metric } from './l2.js';
import { linfMetric } from './linf.js';
import { lpMetric } from './lp.js';
import { lseMetric } from './lse.js';
import { METRIC_NAMES, type MetricName, type SimilarityMetric } from './types.js';

const REGISTRY: Readonly<Record<MetricName, SimilarityMetric>> = {
  l1: l1Metric,
  l2: l2Metric,
  lp: lpMetric,
  lse: lseMetric,
  linf: linfMetric,
  cka: ckaMetric,
  'cka-unbiased': ckaUnbiasedMetric,
  dc: dcMetric,
};

export function isMetricName(name: string): name is MetricName {
  return (METRIC_NAMES as readonly string[]).includes(name);
}

export function getMetric(name: string): SimilarityMetric {
  if (!isMetricName(name)) {
    throw new RangeError(`unknown similarity metric "${name}" (known: ${METRIC_NAMES.join(', ')})`);
  }
  return REGISTRY[name];
}

export { METRIC_NAMES };
export type { FeatureMatrix, MetricName, MetricParams, ScoreResult, SimilarityMetric } from './types.js';
export { directScore, fittedScore, linearizedScore, shiftAlongTangent, taylorScore } from './scores.js';
export { DEFAULT_P, DEFAULT_T } from './checks.js';
export { LSE_CLAMP } from './lse.js';
