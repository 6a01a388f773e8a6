/**
 * `recoverTree`: the family forest of a set of models, from one learning-free method's pairwise
 * scores, direction evidence and a Chu-Liu/Edmonds forest (see build.ts for the rules).
 *
 * Weight methods stream the models (headers read once, data by blocks per pair); feature methods
 * read them once and keep them in memory for the whole run (every model is both a child and a
 * candidate). Models holding NaN or infinite values are left out of the tree and listed in its
 * `excluded`. Each edge then gets its relation (finetune, lora, quantized, ...).
 */
import type { LineageModel } from '../model.js';
import { parseMethod } from '../methods.js';
import { closeAll, loadRef, type OpenedModel, openRefs, type SourceRef } from '../source-ref.js';
import { pairRelation } from '../relations/relation.js';
import { pairPValue, type PValueOptions } from '../independence/pair-p-value.js';
import { compareModels } from '../weights/compare.js';
import { buildFamilyTree, type BuildTreeOptions, type TreeRecovery } from './build.js';
import { type PairScoreOptions, type PairScores, scorePairs, treeMethodName } from './pair-scores.js';
import { scoreWeightPairs } from './weight-pairs.js';
import { findMerges, type TreeMerge } from './merges.js';

export interface TreeOptions extends PairScoreOptions, BuildTreeOptions {}

export async function resolveAll(models: readonly SourceRef[]): Promise<LineageModel[]> {
  const out: LineageModel[] = [];
  for (const ref of models) out.push(await loadRef(ref));
  return out;
}

/**
 * Pairwise scores of `models` with the options' method, handed to `use` with the models as open
 * sources (closed after): weight methods stream the models from their files (any architecture);
 * feature methods read them into memory and run their graphs.
 */
export async function withPairScores<T>(
  models: readonly SourceRef[],
  options: PairScoreOptions,
  use: (pairs: PairScores, opened: readonly OpenedModel[]) => Promise<T>,
): Promise<T> {
  const method = parseMethod(treeMethodName(options.method));
  if (method.kind === 'weights') {
    const opened = await openRefs(models);
    try {
      return await use(await scoreWeightPairs(opened, method.name, options), opened);
    } finally {
      await closeAll(opened);
    }
  }
  const resolved = await resolveAll(models);
  const pairs = await scorePairs(resolved, options);
  // Models in memory open as sources over their weights: nothing is read again.
  return use(pairs, await openRefs(resolved));
}

/** How each edge's child was derived from its parent (relations/relation.ts), from one more comparison per edge. */
async function edgeRelations(tree: TreeRecovery, opened: readonly OpenedModel[], independence: PValueOptions | false): Promise<void> {
  const byId = new Map(opened.map((m) => [m.id, m.source]));
  for (const edge of tree.edges) {
    const parent = byId.get(edge.parent);
    const child = byId.get(edge.child);
    if (!parent || !child) continue;
    // Merge edges carry their relation and coefficient already.
    if (edge.relation !== 'merge') edge.relation = (await pairRelation(parent, child, await compareModels(parent, child))).relation;
    if (independence !== false) edge.p_value = await pairPValue(parent, child, { candidate: edge.parent, child: edge.child }, independence);
  }
}

/** Each merged model's one edge replaced by one edge per merge parent (relation merge, its coefficient). */
function withMergeEdges(tree: TreeRecovery, pairs: PairScores, merges: readonly TreeMerge[]): TreeRecovery {
  if (merges.length === 0) return tree;
  const index = new Map(pairs.models.map((m, i) => [m.id, i]));
  const merged = new Set(merges.map((m) => m.child));
  const edges = tree.edges.filter((e) => !merged.has(e.child));
  for (const m of merges) {
    const c = index.get(m.child)!;
    for (const p of m.parents) {
      const score = pairs.score[index.get(p.parent)! * pairs.n + c];
      edges.push({ parent: p.parent, child: m.child, score, confidence: 1, relation: 'merge', coefficient: p.coefficient });
    }
  }
  const roots = tree.roots.filter((r) => !merged.has(r));
  return { ...tree, edges, roots };
}

export interface RecoverOptions extends TreeOptions {
  /** Decide each edge's relation (default true): one more streamed comparison per edge. */
  relations?: boolean;
  /** p-value per edge (default B = 999, seed 0; with relations only); false: none. */
  independence?: PValueOptions | false;
}

export async function recoverTree(models: readonly SourceRef[], options: RecoverOptions = {}): Promise<TreeRecovery> {
  if (models.length === 0) throw new RangeError('recoverTree needs at least one model');
  return withPairScores(models, options, async (pairs, opened) => {
    if (pairs.n === 0) throw new Error(`no model left to build a tree from: ${pairs.excluded.map((e) => `${e.file}: ${e.reason}`).join('; ')}`);
    const merges = options.relations === false || pairs.equalShare === undefined ? [] : await findMerges(pairs, opened);
    const leaves = [...(options.leaves ?? []), ...(pairs.copies ?? []).map((c) => c.copy), ...merges.map((m) => m.child)];
    const tree = withMergeEdges(buildFamilyTree(pairs, { ...options, leaves }), pairs, merges);
    if (options.relations !== false) await edgeRelations(tree, opened, options.independence ?? {});
    return tree;
  });
}
