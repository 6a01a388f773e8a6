/** Weight-space comparison of two models across formats and naming schemes (`lineage compare`). */
export { compareModels, type CompareOptions, LOW_COVERAGE } from './compare.js';
export { matchTensors, type MatchOptions } from './match.js';
export { comparisonJson, type ComparisonJson } from './json.js';
export { toCanonical, fromCanonical, detectFamily, type NamingFamily, NAMING_FAMILIES } from './naming.js';
export type { ModelComparison, TensorMatching, TensorPair, TensorTransform, TensorDistance, ExcludedTensor, UnmatchedTensor, PairedBy } from './types.js';
