/**
 * Which tensor axes of a model can be reordered together without changing its function, from the
 * matched pairs' names and shapes (no architecture registry): transformer blocks by canonical keys
 * (transformer-groups.ts), plain Linear/Conv chains by module names (chain-groups.ts).
 */
import type { TensorPair } from '../weights/types.js';
import { chainGroups } from './chain-groups.js';
import { layoutShape } from './layout.js';
import { type PairNaming, transformerGroups } from './transformer-groups.js';
import type { UnitGroup, UnitSet } from './types.js';

export type { PairNaming } from './transformer-groups.js';

/** The pair each b-side tensor is compared in (the first, for a tied embedding met twice). */
export function pairsByB(pairs: readonly TensorPair[]): Map<string, TensorPair> {
  const out = new Map<string, TensorPair>();
  for (const p of pairs) if (!out.has(p.b.name)) out.set(p.b.name, p);
  return out;
}

/** Every member is a pair's tensor whose axis holds units * block indices. */
function consistent(set: UnitSet, byB: ReadonlyMap<string, TensorPair>): boolean {
  if (!Number.isSafeInteger(set.units) || set.units < 1 || set.members.length === 0) return false;
  return set.members.every((m) => {
    const pair = byB.get(m.name);
    if (pair === undefined || !Number.isSafeInteger(m.block) || m.block < 1) return false;
    const { rows, cols } = layoutShape(pair);
    return (m.axis === 0 ? rows : cols) === set.units * m.block;
  });
}

function claims(group: UnitGroup): string[] {
  return [...group.members, ...(group.outer?.members ?? [])].map((m) => `${m.name}#${m.axis}`);
}

/**
 * The unit groups of b, in solving order: chains first (in file order, so a layer's inputs are
 * aligned before its outputs), then transformer blocks. A group that would permute an axis another
 * group already permutes, or whose sizes disagree, is dropped.
 */
export function inferUnitGroups(pairs: readonly TensorPair[], naming: PairNaming): UnitGroup[] {
  const byB = pairsByB(pairs);
  const claimed = new Set<string>();
  const out: UnitGroup[] = [];
  for (const group of [...chainGroups(pairs, naming), ...transformerGroups(pairs, naming)]) {
    const keys = claims(group);
    if (!consistent(group, byB) || (group.outer !== undefined && !consistent(group.outer, byB))) continue;
    if (group.outer !== undefined && group.units % group.outer.units !== 0) continue;
    if (new Set(keys).size !== keys.length || keys.some((k) => claimed.has(k))) continue;
    for (const k of keys) claimed.add(k);
    out.push(group);
  }
  return out;
}
