/**
 * `recoverTree`: the family forest of a set of models, from one learning-free method's pairwise
 * scores, direction evidence and a Chu-Liu/Edmonds forest (see build.ts for the rules).
 *
 * Models are resolved once and kept in memory for the whole run (every model is both a child and a
 * candidate); pass loaders if ids should differ from file paths. Models holding NaN or infinite
 * values are left out of the tree and listed in its `excluded`.
 */
import { type ModelRef, resolveModel, type LineageModel } from '../model.js';
import { buildFamilyTree, type BuildTreeOptions, type TreeRecovery } from './build.js';
import { scorePairs, type PairScoreOptions } from './pair-scores.js';

export interface TreeOptions extends PairScoreOptions, BuildTreeOptions {}

export async function resolveAll(models: readonly ModelRef[]): Promise<LineageModel[]> {
  const out: LineageModel[] = [];
  for (const ref of models) out.push(await resolveModel(ref));
  return out;
}

export async function recoverTree(models: readonly ModelRef[], options: TreeOptions = {}): Promise<TreeRecovery> {
  if (models.length === 0) throw new RangeError('recoverTree needs at least one model');
  const resolved = await resolveAll(models);
  const pairs = await scorePairs(resolved, options);
  if (pairs.n === 0) throw new Error(`no model left to build a tree from: ${pairs.excluded.map((e) => `${e.file}: ${e.reason}`).join('; ')}`);
  return buildFamilyTree(pairs, options);
}
