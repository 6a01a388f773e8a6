export { chuLiuEdmonds, maxSpanningForest, type Arborescence, type ArborescenceOptions, type ForestOptions, type WeightedEdge } from './arborescence.js';
export {
  DIRECTION_HEURISTICS,
  centralityEvidence,
  directionEvidence,
  familyMeanDistance,
  fitEvidence,
  kurtosisEvidence,
  parseDirectionWeights,
  rawEvidence,
  type DirectionContext,
  type DirectionHeuristic,
  type DirectionWeights,
} from './direction.js';
export { kurtosis, weightKurtosis } from './kurtosis.js';
export { scorePairs, isSymmetricMethod, relativeWeightDistance, type PairScoreOptions, type PairScores } from './pair-scores.js';
export {
  buildFamilyTree,
  pairDistances,
  DEFAULT_CONFIDENCE_TEMPERATURE,
  DEFAULT_DIRECTION,
  DEFAULT_DIRECTION_STRENGTH,
  DEFAULT_RELATED_DISTANCE,
  type BuildTreeOptions,
  type TreeRecovery,
} from './build.js';
export { recoverTree, resolveAll, type TreeOptions } from './recover.js';
export { rankAncestors, classifyAncestors, type AncestorCandidate, type AncestorRanking, type AncestorRelation } from './ancestors.js';
export { treeEdgeAccuracy, type TreeEdgeAccuracy } from './accuracy.js';
export { minimumSpanningLinks, families, type Link } from './links.js';
export type { FamilyTree, TreeEdge, TreeNode, TruthEntry } from './types.js';
