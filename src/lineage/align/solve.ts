/**
 * Solves every unit group's permutation, weight-matching style (Ainsworth et al., Git Re-Basin):
 * each group by one linear assignment on its members' weights, with members' other axes put in a's
 * order by the groups already solved. When groups depend on each other (a chain, where a layer's
 * rows and the next layer's columns meet), a first pass skips members whose other axis is not yet
 * solved, and later passes re-solve every group with all its members until nothing changes.
 */
import type { ModelSource } from '../../source/types.js';
import type { TensorPair } from '../weights/types.js';
import { assignUnits, unitScores } from './assign.js';
import { type FeatureMember, type UnitFeatures, unitFeatures } from './features.js';
import { expandPermutation } from './layout.js';
import { nestedAssignment } from './nested.js';
import type { UnitGroup, UnitSet } from './types.js';

/** Passes at most over dependent groups; each pass can only raise the summed similarity. */
const MAX_PASSES = 5;

export interface AxisOwner {
  set: UnitSet;
  block: number;
}

/** For each b tensor, the unit set that permutes its axis 0 and its axis 1, if any. */
export type Owners = Map<string, [AxisOwner | undefined, AxisOwner | undefined]>;

export function unitSets(groups: readonly UnitGroup[]): UnitSet[] {
  return groups.flatMap((g) => (g.outer === undefined ? [g] : [g, g.outer]));
}

export function axisOwners(groups: readonly UnitGroup[]): Owners {
  const owners: Owners = new Map();
  for (const set of unitSets(groups)) {
    for (const m of set.members) {
      const entry = owners.get(m.name) ?? [undefined, undefined];
      entry[m.axis] = { set, block: m.block };
      owners.set(m.name, entry);
    }
  }
  return owners;
}

interface Context {
  a: ModelSource;
  b: ModelSource;
  byB: ReadonlyMap<string, TensorPair>;
  owners: Owners;
  perms: Map<UnitSet, Int32Array>;
  blockBytes: number;
}

/** The set's members with their other axis in a's order; members whose other axis is still unsolved are left out unless all are. */
function featureMembers(set: UnitSet, ctx: Context): FeatureMember[] {
  const ready: FeatureMember[] = [];
  const all: FeatureMember[] = [];
  for (const member of set.members) {
    const pair = ctx.byB.get(member.name)!;
    const other = ctx.owners.get(member.name)?.[1 - member.axis];
    const perm = other === undefined ? undefined : ctx.perms.get(other.set);
    const otherAxis = other !== undefined && perm !== undefined ? expandPermutation(perm, other.block) : undefined;
    all.push({ member, pair, otherAxis });
    if (other === undefined || perm !== undefined) ready.push({ member, pair, otherAxis });
  }
  return ready.length > 0 ? ready : all;
}

async function features(set: UnitSet, ctx: Context): Promise<UnitFeatures> {
  return unitFeatures(ctx.a, ctx.b, set.units, featureMembers(set, ctx), ctx.blockBytes);
}

function samePermutation(x: Int32Array | undefined, y: Int32Array): boolean {
  return x !== undefined && x.length === y.length && x.every((v, i) => v === y[i]);
}

/** Solves one group; true when a permutation changed. */
async function solveGroup(group: UnitGroup, seed: number, ctx: Context): Promise<boolean> {
  const before = [ctx.perms.get(group), group.outer === undefined ? undefined : ctx.perms.get(group.outer)];
  const f = await features(group, ctx);
  if (group.outer === undefined) {
    const perm = assignUnits(f.fa, f.fb, group.units, f.length, seed);
    ctx.perms.set(group, perm);
    return !samePermutation(before[0], perm);
  }
  const g = await features(group.outer, ctx);
  const inner = unitScores(f.fa, f.fb, group.units, f.length, seed);
  const outer = unitScores(g.fa, g.fb, group.outer.units, g.length, seed + 1);
  const solved = nestedAssignment(inner, group.units, outer, group.outer.units);
  ctx.perms.set(group, solved.inner);
  ctx.perms.set(group.outer, solved.outer);
  return !samePermutation(before[0], solved.inner) || !samePermutation(before[1], solved.outer);
}

function dependent(groups: readonly UnitGroup[], owners: Owners): boolean {
  return unitSets(groups).some((set) => set.members.some((m) => owners.get(m.name)?.[1 - m.axis] !== undefined));
}

/** Each unit set's permutation: perm[i] = b's unit matched to a's unit i. */
export async function solveGroups(
  a: ModelSource,
  b: ModelSource,
  groups: readonly UnitGroup[],
  byB: ReadonlyMap<string, TensorPair>,
  blockBytes: number,
): Promise<{ perms: Map<UnitSet, Int32Array>; owners: Owners }> {
  const owners = axisOwners(groups);
  const ctx: Context = { a, b, byB, owners, perms: new Map(), blockBytes };
  const passes = dependent(groups, owners) ? MAX_PASSES : 1;
  for (let pass = 0; pass < passes; pass++) {
    let changed = false;
    for (let i = 0; i < groups.length; i++) changed = (await solveGroup(groups[i], 0x5eed + 2 * i, ctx)) || changed;
    if (!changed) break;
  }
  return { perms: ctx.perms, owners };
}
