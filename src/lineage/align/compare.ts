/**
 * compareModels (weights/compare.ts) after aligning b's hidden units to a's: unit groups inferred
 * from names (groups.ts), their permutations solved by weight matching (solve.ts), then the same
 * per-tensor sums with b's tensors permuted. A child whose units were reordered is then as near its
 * parent as it was before the reordering.
 */
import type { ModelSource } from '../../source/types.js';
import { DEFAULT_BLOCK_BYTES } from '../weights/blocks.js';
import { comparisonOf, distanceOf } from '../weights/compare.js';
import { matchTensors } from '../weights/match.js';
import { describeNaming } from '../weights/model-naming.js';
import { pairSums } from '../weights/sums.js';
import type { TensorDistance, TensorPair } from '../weights/types.js';
import { inferUnitGroups, pairsByB } from './groups.js';
import { expandPermutation } from './layout.js';
import { type AxisMaps, permutedPairSums } from './permuted-sums.js';
import { type Owners, solveGroups, unitSets } from './solve.js';
import type { AlignOptions, AlignedComparison, GroupMoves, UnitSet } from './types.js';

/** b's index maps for a pair, or undefined when its b tensor is not permuted in this pair. */
function pairMaps(pair: TensorPair, byB: ReadonlyMap<string, TensorPair>, owners: Owners, perms: ReadonlyMap<UnitSet, Int32Array>): AxisMaps | undefined {
  const owned = owners.get(pair.b.name);
  if (owned === undefined || byB.get(pair.b.name) !== pair) return undefined;
  const map = (axis: 0 | 1): Int32Array | undefined => {
    const owner = owned[axis];
    const perm = owner === undefined ? undefined : perms.get(owner.set);
    return owner === undefined || perm === undefined ? undefined : expandPermutation(perm, owner.block);
  };
  const maps = { rows: map(0), cols: map(1) };
  return maps.rows === undefined && maps.cols === undefined ? undefined : maps;
}

function moves(sets: readonly UnitSet[], perms: ReadonlyMap<UnitSet, Int32Array>): GroupMoves[] {
  return sets.map((set) => {
    const permutation = perms.get(set) ?? Int32Array.from({ length: set.units }, (_, i) => i);
    let moved = 0;
    for (let i = 0; i < permutation.length; i++) if (permutation[i] !== i) moved++;
    return { label: set.label, units: set.units, moved, permutation };
  });
}

/** How far b is from a (a: the candidate parent) once b's hidden units are put in a's order. */
export async function compareAligned(a: ModelSource, b: ModelSource, options: AlignOptions = {}): Promise<AlignedComparison> {
  const started = performance.now();
  const blockBytes = options.blockBytes ?? DEFAULT_BLOCK_BYTES;
  const matching = await matchTensors(a, b, { blockBytes });
  const byB = pairsByB(matching.pairs);
  const groups = inferUnitGroups(matching.pairs, { a: describeNaming(a), b: describeNaming(b) });
  const { perms, owners } = await solveGroups(a, b, groups, byB, blockBytes);
  const tensors: TensorDistance[] = [];
  for (const pair of matching.pairs) {
    const maps = pairMaps(pair, byB, owners, perms);
    tensors.push(distanceOf(pair, maps === undefined ? await pairSums(a, b, pair, blockBytes) : await permutedPairSums(a, b, pair, maps, blockBytes)));
  }
  const comparison = comparisonOf(a, b, matching, tensors, started);
  return { comparison, groups: moves(unitSets(groups), perms) };
}
