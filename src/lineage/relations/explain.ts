/**
 * `lineage explain`: how a child was derived from the candidates. Each candidate is compared with
 * the child (streamed) and given a pairwise relation (relation.ts). Then:
 *   - no related candidate: no parent;
 *   - the nearest related candidate differs only by rounding, pruning or a low-rank update: it is
 *     the parent, with that relation (a copy is never explained as a merge of near-copies);
 *   - otherwise, with two or more related candidates, a least-squares fit of the child as a linear
 *     combination of them (merge.ts) decides a linear merge: at least two coefficients of size
 *     MIN_MERGE_COEFFICIENT or more, and a residual within rounding: at most LINEAR_RESIDUAL or
 *     twice the rounding noise of the stored types, whichever is larger, and (unless within the
 *     rounding noise) at most MERGE_GAIN of the nearest single candidate's residual. A weighted average or task
 *     arithmetic is explained up to rounding; a fine-tune never is, not even one that sits near the
 *     line through two candidates (twins fine-tuned on the same task have correlated updates, and
 *     a looser "much better than one candidate" rule took them for merges). A TIES/DARE-style
 *     sparsified sum is explained only partly, so:
 *   - a sparse merge: the child equals one related candidate (the base) exactly on at least
 *     MIN_SPARSE_SHARE of its weights (a fine-tune moves essentially every weight; TIES and DARE keep
 *     the base wherever every task vector was trimmed or dropped) while two or more other related
 *     candidates take part in the least-squares fit: merge, with the fit's coefficients as an
 *     approximation (a sparsified sum is not linear in its inputs);
 *   - else the nearest related candidate is the parent (finetune).
 */
import type { SourceRef } from '../source-ref.js';
import { closeAll, openRef, openRefs, type OpenedModel } from '../source-ref.js';
import { InputError } from '../../base/errors.js';
import { PEFT_LORA_FORMAT } from '../../source/peft.js';
import { loraTargets, mergedSource } from '../adapters/lora.js';
import { explainAdapter } from './explain-adapter.js';
import { compareModels } from '../weights/compare.js';
import type { ModelComparison } from '../weights/types.js';
import { fitMerge, type MergeFit } from './merge.js';
import type { ExplainedCandidate, ExplainedParent, Explanation, MergeSummary } from './explain-types.js';
import { pairPValue, type PValueOptions } from '../independence/pair-p-value.js';
import { NOISE_MULTIPLE, type PairRelation, pairRelation, storageNoise } from './relation.js';

export type { ExplainedCandidate, ExplainedParent, Explanation, MergeSummary } from './explain-types.js';

/** A coefficient smaller than this does not make a candidate a merge parent. */
export const MIN_MERGE_COEFFICIENT = 0.05;
/** A linear merge is explained up to this relative residual at least (float32 storage rounds at about 1e-7). */
export const LINEAR_RESIDUAL = 1e-3;
/** Share of weights a child keeps exactly equal to its base for a sparse merge (TIES at density 0.2 over two models keeps about 64%). */
export const MIN_SPARSE_SHARE = 0.3;

interface Scored {
  model: OpenedModel;
  comparison: ModelComparison;
  relation: PairRelation;
  pValue?: number | null;
}

function candidateEntry(s: Scored): ExplainedCandidate {
  const r = s.relation;
  return {
    candidate: s.model.id,
    distance: s.comparison.distance,
    relation: r.relation,
    reason: r.reason,
    ...(r.rank !== undefined ? { rank: r.rank } : {}),
    ...(r.targetModules ? { target_modules: r.targetModules } : {}),
    ...(r.zeroShare !== undefined ? { zero_share: r.zeroShare } : {}),
    ...(s.pValue !== undefined ? { p_value: s.pValue } : {}),
  };
}

function parentEntry(s: Scored): ExplainedParent {
  const r = s.relation;
  return {
    parent: s.model.id,
    relation: r.relation,
    coefficient: 1,
    ...(r.rank !== undefined ? { rank: r.rank } : {}),
    ...(r.targetModules ? { target_modules: r.targetModules } : {}),
    ...(s.pValue !== undefined ? { p_value: s.pValue } : {}),
  };
}

function mergeSummary(fit: MergeFit): MergeSummary {
  const named = (cs: readonly number[]) => cs.map((coefficient, i) => ({ candidate: fit.candidates[i], coefficient }));
  const differs = (cs: readonly number[]) => cs.some((c, i) => Math.abs(c - fit.coefficients[i]) > MIN_MERGE_COEFFICIENT);
  return {
    coefficients: named(fit.coefficients),
    residual: fit.blockResidual,
    single_residual: fit.single.residual,
    blocks: fit.blocks.filter((b) => differs(b.coefficients)).map((b) => ({ block: b.block, coefficients: named(b.coefficients) })),
  };
}

export function significantCount(fit: MergeFit, except?: string): number {
  return fit.coefficients.filter((c, i) => Math.abs(c) >= MIN_MERGE_COEFFICIENT && fit.candidates[i] !== except).length;
}

/**
 * A merge explains its child at least this many times better than the nearest single candidate
 * does (unless within storage rounding): a parent with k fine-tuned children sits near their
 * average, with a residual 1/sqrt(k) of its distance to the nearest child, which for tiny
 * fine-tuning steps falls under LINEAR_RESIDUAL (issue 18: parents of 10 children were taken for
 * merges of them).
 */
export const MERGE_GAIN = 0.01;

/**
 * The largest relative residual of a linear merge: rounding (`noise`, of the child's and the
 * candidates' stored types, relations/rounding.ts), else LINEAR_RESIDUAL, but never more than
 * MERGE_GAIN of the best single candidate's residual.
 */
export function linearResidualLimit(noise: number, singleResidual: number): number {
  return Math.max(NOISE_MULTIPLE * noise, Math.min(LINEAR_RESIDUAL, MERGE_GAIN * singleResidual));
}

/** `noise`: the rounding noise of the child's and the candidates' stored types (relations/rounding.ts). */
export function isLinearMerge(fit: MergeFit, noise: number): boolean {
  return significantCount(fit) >= 2 && fit.blockResidual <= linearResidualLimit(noise, fit.single.residual);
}

/** Share of the compared weights exactly equal in both models. */
export function equalShare(c: ModelComparison): number {
  let equal = 0;
  let elements = 0;
  for (const t of c.tensors) {
    equal += t.sums.equal;
    elements += t.elements;
  }
  return elements === 0 ? 0 : equal / elements;
}

/**
 * The base of a sparse merge: the related candidate the child equals on the most weights (at least
 * MIN_SPARSE_SHARE), with two other contributors. (A contributor may be copied exactly where only
 * its task vector survived, but never on as many weights as the base.)
 */
function sparseBase(fit: MergeFit, related: readonly Scored[]): Scored | undefined {
  const base = related.reduce<Scored | undefined>(
    (best, s) => (best === undefined || equalShare(s.comparison) > equalShare(best.comparison) ? s : best),
    undefined,
  );
  return base && equalShare(base.comparison) >= MIN_SPARSE_SHARE && significantCount(fit, base.model.id) >= 2 ? base : undefined;
}

const byDistance = (x: Scored, y: Scored) => (x.comparison.distance ?? Number.POSITIVE_INFINITY) - (y.comparison.distance ?? Number.POSITIVE_INFINITY);

async function scoreCandidates(child: OpenedModel, refs: readonly SourceRef[], keep: OpenedModel[], independence: PValueOptions | false): Promise<Scored[]> {
  const scored: Scored[] = [];
  for (const ref of refs) {
    const model = await openRef(ref);
    keep.push(model);
    const comparison = await compareModels(model.source, child.source);
    const relation = await pairRelation(model.source, child.source, comparison);
    const pValue = independence === false ? undefined : await pairPValue(model.source, child.source, { candidate: model.id, child: child.id }, independence);
    scored.push({ model, comparison, relation, pValue });
  }
  return scored;
}

export interface ExplainOptions {
  /** For a PEFT adapter child: the base to merge it into, so the merged model is explained as a full one. */
  base?: SourceRef;
  /** p-values of "trained independently" per candidate (default B = 999, seed 0); false: none. */
  independence?: PValueOptions | false;
  /** Called with the child once opened (what it declares, say), before anything is compared. */
  onChild?: (child: OpenedModel) => Promise<void>;
}

/** The child as a full model: an adapter merged into `base` when one is given. */
async function childModel(childRef: SourceRef, options: ExplainOptions, opened: OpenedModel[]): Promise<OpenedModel> {
  const child = await openRef(childRef);
  opened.push(child);
  if (options.base === undefined) return child;
  if (child.source.format !== PEFT_LORA_FORMAT) throw new InputError(child.file, 'is not a PEFT adapter: --base applies to adapter folders only');
  const base = await openRef(options.base);
  opened.push(base);
  return { ...child, source: mergedSource(base.source, child.source, loraTargets(child.source)) };
}

export async function explainChild(childRef: SourceRef, candidates: readonly SourceRef[], options: ExplainOptions = {}): Promise<Explanation> {
  const opened: OpenedModel[] = [];
  try {
    const child = await childModel(childRef, options, opened);
    await options.onChild?.(opened[0]);
    if (child.source.format === PEFT_LORA_FORMAT) {
      const models = await openRefs(candidates);
      opened.push(...models);
      return explainAdapter(child, models);
    }
    const scored = await scoreCandidates(child, candidates, opened, options.independence ?? {});
    const entries = scored.map(candidateEntry);
    const related = scored.filter((s) => s.relation.relation !== 'independent').sort(byDistance);
    if (related.length === 0) return { child: child.id, parents: [], candidates: entries };
    const nearest = related[0];
    if (nearest.relation.relation !== 'finetune' || related.length < 2) return { child: child.id, parents: [parentEntry(nearest)], candidates: entries };
    const fit = await fitMerge(
      child.source,
      related.map((s) => ({ id: s.model.id, source: s.model.source })),
    );
    const merge = mergeSummary(fit);
    const noise = Math.max(...related.map((r) => storageNoise(r.comparison, r.model.source, 'a') + storageNoise(r.comparison, child.source, 'b')));
    const linear = isLinearMerge(fit, noise);
    const base = linear ? undefined : sparseBase(fit, related);
    if (!linear && !base) return { child: child.id, parents: [parentEntry(nearest)], candidates: entries, merge };
    Object.assign(merge, base ? { kind: 'sparse', base: base.model.id, unchanged_share: equalShare(base.comparison) } : { kind: 'linear' });
    // A sparse merge's base is a parent whatever its coefficient (about 1 - sum of the task weights).
    const pOf = new Map(scored.map((x) => [x.model.id, x.pValue]));
    const parents = merge.coefficients
      .filter((c) => Math.abs(c.coefficient) >= MIN_MERGE_COEFFICIENT || c.candidate === base?.model.id)
      .map((c) => ({
        parent: c.candidate,
        relation: 'merge' as const,
        coefficient: c.coefficient,
        ...(pOf.get(c.candidate) !== undefined ? { p_value: pOf.get(c.candidate) } : {}),
      }));
    return { child: child.id, parents, candidates: entries, merge };
  } finally {
    await closeAll(opened);
  }
}
