/**
 * Merges in a family tree: a model that is a combination of other models of the set gets one edge
 * from each of them (the tree becomes a DAG). A model is tested when at least two others are
 * related to it (mean relative matrix distance under RELATED_DISTANCE), against its
 * MAX_MERGE_INPUTS nearest related models, with the rules of `explain` (relations/explain.ts):
 * a linear merge is explained up to rounding, a sparse one (TIES, DARE) keeps a base exactly on
 * many weights. Merged models are leaves when the forest is built, as on hubs, so they never
 * become a parent of their own parents.
 */
import { pairRelation, RELATED_DISTANCE } from '../relations/relation.js';
import { compareModels } from '../weights/compare.js';
import { isLinearMerge, linearResidualLimit, MIN_MERGE_COEFFICIENT, MIN_SPARSE_SHARE, significantCount } from '../relations/explain.js';
import { fitFromProducts, fitMerge, type MergeFit } from '../relations/merge.js';
import { roundingNoise } from '../relations/rounding.js';
import type { OpenedModel } from '../source-ref.js';
import type { ModelSource } from '../../source/types.js';
import type { PairScores } from './pair-scores.js';

/** Related models a merge is fitted over at most (nearest first). */
export const MAX_MERGE_INPUTS = 8;

export interface TreeMerge {
  child: string;
  kind: 'linear' | 'sparse';
  parents: { parent: string; coefficient: number }[];
}

function sourceNoise(source: ModelSource): number {
  return source.tensors.reduce((m, t) => Math.max(m, roundingNoise(t.dtype)), 0);
}

function relatedTo(pairs: PairScores, v: number, skip: ReadonlySet<string>): number[] {
  const { n, weightDistance } = pairs;
  const out: number[] = [];
  for (let u = 0; u < n; u++) if (u !== v && !skip.has(pairs.models[u].id) && weightDistance[v * n + u] < RELATED_DISTANCE) out.push(u);
  return out.sort((x, y) => weightDistance[v * n + x] - weightDistance[v * n + y]).slice(0, MAX_MERGE_INPUTS);
}

/** Subsets of 0..k-1 of the given size, in lexicographic order. */
function subsets(k: number, size: number): number[][] {
  if (size === 0) return [[]];
  const out: number[][] = [];
  for (let first = 0; first <= k - size; first++) for (const rest of subsets(k - first - 1, size - 1)) out.push([first, ...rest.map((r) => r + first + 1)]);
  return out;
}

/**
 * The fewest inputs that explain a linear merge up to rounding (two, else three, else all): when
 * the set holds several merges of the same parents, the fit over every related model is not
 * unique, and the smallest exact explanation is the merge's own recipe.
 */
function smallestLinear(fit: MergeFit, child: string, noise: number): TreeMerge {
  const limit = linearResidualLimit(noise, fit.single.residual);
  for (const size of [2, 3]) {
    let best: { indices: number[]; coefficients: number[] } | undefined;
    for (const indices of subsets(fit.candidates.length, size)) {
      const sub = fit.subset(indices);
      if (sub.residual > limit || sub.coefficients.some((c) => Math.abs(c) < MIN_MERGE_COEFFICIENT)) continue;
      const largest = (cs: readonly number[]) => Math.max(...cs.map(Math.abs));
      if (!best || largest(sub.coefficients) < largest(best.coefficients)) best = { indices, coefficients: sub.coefficients };
    }
    if (best) return { child, kind: 'linear', parents: best.indices.map((i, j) => ({ parent: fit.candidates[i], coefficient: best.coefficients[j] })) };
  }
  const parents = fit.coefficients.flatMap((coefficient, i) =>
    Math.abs(coefficient) >= MIN_MERGE_COEFFICIENT ? [{ parent: fit.candidates[i], coefficient }] : [],
  );
  return { child, kind: 'linear', parents };
}

function equal(pairs: PairScores, a: number, b: number): number {
  return pairs.equalShare?.[a * pairs.n + b] ?? 0;
}

/**
 * Share of weights v keeps exactly equal to `base` beyond what the other inputs keep: TIES and DARE
 * keep the base where the inputs' updates were trimmed, though every input moved those weights.
 * Weights no training moves (those of always-zero input pixels, dead units) are equal in every
 * model of a family, so a parent would otherwise pass for a sparse merge of its children.
 */
function keptShare(pairs: PairScores, v: number, base: number, inputs: readonly number[]): number {
  const others = inputs.filter((u) => u !== base).map((u) => equal(pairs, u, base));
  return equal(pairs, v, base) - Math.max(0, ...others);
}

async function mergeOf(pairs: PairScores, opened: readonly OpenedModel[], v: number, inputs: readonly number[]): Promise<TreeMerge | undefined> {
  const byId = new Map(opened.map((m) => [m.id, m]));
  const model = (i: number) => byId.get(pairs.models[i].id)!;
  const fit = await fitMerge(
    model(v).source,
    inputs.map((u) => ({ id: model(u).id, source: model(u).source })),
  );
  const noise = sourceNoise(model(v).source) + Math.max(...inputs.map((u) => sourceNoise(model(u).source)));
  const parents = (keep: (id: string, c: number) => boolean) =>
    fit.coefficients.flatMap((coefficient, i) => (keep(fit.candidates[i], coefficient) ? [{ parent: fit.candidates[i], coefficient }] : []));
  if (isLinearMerge(fit, noise)) return smallestLinear(fit, model(v).id, noise);
  const base = inputs.reduce((best, u) => (equal(pairs, v, u) > equal(pairs, v, best) ? u : best), inputs[0]);
  if (keptShare(pairs, v, base, inputs) < MIN_SPARSE_SHARE || significantCount(fit, model(base).id) < 2) return undefined;
  return { child: model(v).id, kind: 'sparse', parents: parents((id, c) => Math.abs(c) >= MIN_MERGE_COEFFICIENT || id === model(base).id) };
}

function largestCoefficient(m: TreeMerge): number {
  return Math.max(...m.parents.map((p) => Math.abs(p.coefficient)));
}

/**
 * Keeps one explanation per linear dependency. If M = 0.3 A + 0.7 B, then A = (M - 0.7 B) / 0.3 is
 * a combination too; the merge is the model that interpolates its inputs, so candidates are taken
 * smallest largest-coefficient first (0.7 against 3.3), linear before sparse, and a candidate is
 * dropped when it is a parent of one taken or has one taken among its parents.
 */
function consistentMerges(found: readonly TreeMerge[], accepted: readonly TreeMerge[] = []): TreeMerge[] {
  const order = [...found].sort((x, y) => (x.kind === y.kind ? largestCoefficient(x) - largestCoefficient(y) : x.kind === 'linear' ? -1 : 1));
  const taken: TreeMerge[] = [...accepted];
  for (const m of order) {
    const parents = new Set(m.parents.map((p) => p.parent));
    if (taken.some((t) => parents.has(t.child) || t.parents.some((p) => p.parent === m.child))) continue;
    taken.push(m);
  }
  return taken;
}

/**
 * explain's guard: a model whose nearest related model differs from it by rounding, pruning or a
 * low-rank update only is that model's copy, pruning or LoRA, never a merge (per-block fits are
 * flexible enough to rebuild a base from its own LoRA, pruned and fine-tuned children).
 */
async function nearestIsFinetune(pairs: PairScores, opened: readonly OpenedModel[], v: number, nearest: number): Promise<boolean> {
  const byId = new Map(opened.map((m) => [m.id, m.source]));
  const parent = byId.get(pairs.models[nearest].id)!;
  const child = byId.get(pairs.models[v].id)!;
  return (await pairRelation(parent, child, await compareModels(parent, child))).relation === 'finetune';
}

/** Relative residual of the least-squares fit of v over `inputs` from pairwise inner products alone. */
function gramResidual(pairs: PairScores, v: number, inputs: readonly number[]): number {
  const { n, dot } = pairs;
  if (!dot) return 0;
  const g = inputs.flatMap((i) => inputs.map((j) => dot[i * n + j]));
  const h = inputs.map((i) => dot[i * n + v]);
  const cc = dot[v * n + v];
  // Products a pair did not measure (incompatible pairs): no screening, the exact fit decides.
  if (![...g, ...h, cc].every(Number.isFinite) || cc <= 0) return 0;
  return fitFromProducts(g, h, cc).residual;
}

/**
 * Whether v could be a merge, from what the pairwise stage already measured: a linear merge is
 * fitted well by its inputs' inner products (global residual under PREFILTER_RESIDUAL: per-block
 * recipes leave a few percent, fine-tunes far more), a sparse one keeps a base exactly on many
 * weights. Only then are the models read again for the exact fit, so trees of ordinary fine-tunes
 * cost no merge fit at all.
 */
function mayBeMerge(pairs: PairScores, v: number, inputs: readonly number[]): boolean {
  const sparse = inputs.some((u) => keptShare(pairs, v, u, inputs) >= MIN_SPARSE_SHARE);
  return sparse || gramResidual(pairs, v, inputs) < PREFILTER_RESIDUAL;
}

/** Global least-squares residual under which a model is fitted exactly (merge.ts) to see if it is a merge. */
export const PREFILTER_RESIDUAL = 0.1;

async function candidateMerges(pairs: PairScores, opened: readonly OpenedModel[], models: Iterable<number>, skip: ReadonlySet<string>): Promise<TreeMerge[]> {
  const found: TreeMerge[] = [];
  for (const v of models) {
    const inputs = relatedTo(pairs, v, skip);
    if (inputs.length < 2 || !mayBeMerge(pairs, v, inputs)) continue;
    const merge = await mergeOf(pairs, opened, v, inputs);
    if (merge && (await nearestIsFinetune(pairs, opened, v, inputs[0]))) found.push(merge);
  }
  return found;
}

/**
 * The merges among `pairs`' models (copies, which differ from a model by rounding only, are never
 * merges). A second round refits the candidates the first round turned down without the merges it
 * accepted among their inputs: several merges of the same parents explain each other too.
 */
export async function findMerges(pairs: PairScores, opened: readonly OpenedModel[]): Promise<TreeMerge[]> {
  const copies = new Set((pairs.copies ?? []).map((c) => c.copy));
  const all = pairs.models.map((_, v) => v).filter((v) => !copies.has(pairs.models[v].id));
  const found = await candidateMerges(pairs, opened, all, copies);
  const accepted = consistentMerges(found);
  const done = new Set(accepted.map((m) => m.child));
  const retry = found.filter((m) => !done.has(m.child)).map((m) => pairs.models.findIndex((x) => x.id === m.child));
  if (retry.length === 0) return accepted;
  const again = await candidateMerges(pairs, opened, retry, new Set([...copies, ...done]));
  return consistentMerges(again, accepted);
}
