/**
 * The `auto` method: the best evidence available, by default. Weight evidence decides whenever the
 * child's weights are comparable with a candidate's (any architecture, no probe needed; on models
 * fine-tuned from a shared base it separates siblings that feature scores confuse). When a probe is
 * given, feature evidence (the paper's taylor-l1) breaks ties the weights leave: candidates whose
 * weight distance 1 - cos is within TIE_SHARE of the best one's are ranked by their feature score.
 * Feature evidence alone decides when no weight comparison was possible (an ONNX export with
 * BatchNorm folded into its convolutions, say). Each child's result says which evidence decided.
 */
import type { CandidateScore, ChildResult, MethodResult } from './results.js';

export const AUTO_METHOD = 'auto';
export const AUTO_WEIGHT_METHOD = 'weights-cos';
export const AUTO_FEATURE_METHOD = 'taylor-l1';
/** Weight distances (1 - cos) within this share of the best one's count as a tie. */
export const TIE_SHARE = 0.05;

export type Evidence = 'weights' | 'features' | 'combined';

/** The methods to compute for `auto`: its weight method, and its feature method when a probe is given. */
export function autoComponents(hasProbe: boolean): string[] {
  return hasProbe ? [AUTO_WEIGHT_METHOD, AUTO_FEATURE_METHOD] : [AUTO_WEIGHT_METHOD];
}

function tiedWithBest(scores: readonly CandidateScore[]): CandidateScore[] {
  const finite = scores.filter((s) => Number.isFinite(s.score));
  if (finite.length === 0) return [];
  const best = Math.max(...finite.map((s) => s.score));
  const bestDistance = 1 - best;
  return finite.filter((s) => 1 - s.score <= bestDistance * (1 + TIE_SHARE) + Number.EPSILON);
}

function combineChild(weights: ChildResult, features: ChildResult | undefined): ChildResult & { evidence: Evidence } {
  const weightScored = weights.scores.filter((s) => Number.isFinite(s.score));
  if (weightScored.length === 0 && features) return { ...features, evidence: 'features' };
  const tied = tiedWithBest(weights.scores);
  if (!features || tied.length < 2) return { ...weights, evidence: 'weights' };
  const featureOf = new Map(features.scores.map((s) => [s.parent, s.score]));
  const tiedNames = new Set(tied.map((s) => s.parent));
  const byFeature = (s: CandidateScore) => featureOf.get(s.parent) ?? Number.NEGATIVE_INFINITY;
  const head = weights.scores.filter((s) => tiedNames.has(s.parent)).sort((x, y) => byFeature(y) - byFeature(x));
  const rest = weights.scores.filter((s) => !tiedNames.has(s.parent));
  const scores = [...head, ...rest];
  return { ...weights, parent: scores[0].parent, scores, evidence: 'combined' };
}

/** The `auto` result from its components' results (same children, same order). */
export function autoResult(weights: MethodResult, features: MethodResult | undefined): MethodResult {
  return {
    method: AUTO_METHOD,
    alpha: features?.alpha ?? weights.alpha,
    layer: features?.layer ?? weights.layer,
    children: weights.children.map((child, i) => combineChild(child, features?.children[i])),
  };
}
