/**
 * `recoverTree`: the family forest of a set of models, from one learning-free method's pairwise
 * scores, direction evidence and a Chu-Liu/Edmonds forest (see build.ts for the rules).
 *
 * Models are resolved once and kept in memory for the whole run (every model is both a child and a
 * candidate); pass loaders if ids should differ from file paths. Models holding NaN or infinite
 * values are left out of the tree and listed in its `excluded`.
 */
import type { LineageModel } from '../model.js';
import { parseMethod } from '../methods.js';
import { loadRef, type SourceRef } from '../source-ref.js';
import { buildFamilyTree, type BuildTreeOptions, type TreeRecovery } from './build.js';
import { type PairScoreOptions, type PairScores, scorePairs } from './pair-scores.js';
import { scoreWeightPairs } from './weight-pairs.js';

export interface TreeOptions extends PairScoreOptions, BuildTreeOptions {}

export async function resolveAll(models: readonly SourceRef[]): Promise<LineageModel[]> {
  const out: LineageModel[] = [];
  for (const ref of models) out.push(await loadRef(ref));
  return out;
}

/**
 * Pairwise scores of `models` with the options' method: weight methods stream the models from
 * their files (any architecture); feature methods read them into memory and run their graphs.
 */
export async function pairScoresOf(models: readonly SourceRef[], options: PairScoreOptions): Promise<PairScores> {
  const method = parseMethod(options.method ?? 'weights-l2');
  if (method.kind === 'weights') return scoreWeightPairs(models, method.name, options);
  return scorePairs(await resolveAll(models), options);
}

export async function recoverTree(models: readonly SourceRef[], options: TreeOptions = {}): Promise<TreeRecovery> {
  if (models.length === 0) throw new RangeError('recoverTree needs at least one model');
  const pairs = await pairScoresOf(models, options);
  if (pairs.n === 0) throw new Error(`no model left to build a tree from: ${pairs.excluded.map((e) => `${e.file}: ${e.reason}`).join('; ')}`);
  return buildFamilyTree(pairs, options);
}
