/** Permutation-aligned weight comparison: b's hidden units put in a's order before measuring distance. */
export { compareAligned } from './compare.js';
export { inferUnitGroups, type PairNaming } from './groups.js';
export { maxAssignment } from './hungarian.js';
export { approximateAssignment, type ApproximateOptions } from './approximate.js';
export type { AlignOptions, AlignedComparison, GroupMoves, UnitGroup, UnitMember, UnitSet } from './types.js';
