/**
 * `detect` with weight methods only: no graph, no probe, no architecture. Children are opened
 * (headers) and checked once; each candidate is opened in turn, compared with every child by the
 * streamed comparison of `lineage compare`, and closed. Memory holds a few tensor blocks whatever
 * the models' size (plus per-tensor sums per pair); each child is re-read once per candidate.
 */
import { InputError } from '../base/errors.js';
import { type CandidateScore, type ChildResult, type MethodResult, rankCandidates } from './results.js';
import { closeAll, openRef, openRefs, type OpenedModel, type SourceRef } from './source-ref.js';
import { compareModels } from './weights/compare.js';
import { modelStats } from './weights/model-stats.js';
import { blockOf } from './block-names.js';
import { childSide, RELATED_COSINE, shapeExcludedBlocks, unrelatedBlocks, withoutBlocks } from './weights/reinitialised.js';
import { RELATED_DISTANCE } from './relations/relation.js';
import { comparisonProblem, isAlignedMethod, relativeWeightDistanceOf, notableExclusions, type WeightMethodName, weightMethodScore } from './weights/scores.js';
import { compareAligned } from './align/index.js';
import type { ModelComparison } from './weights/types.js';
import { pairPValue, type PValueOptions } from './independence/pair-p-value.js';

export interface WeightOutput {
  /** The result's name (the method's). */
  name: string;
  method: WeightMethodName;
  alpha: number;
}

export interface WeightDetectOptions {
  outputs: readonly WeightOutput[];
  /** Children related to no candidate as stored are scored after alignment (auto). */
  alignWhenUnrelated?: boolean;
  /** p-value options; false: no independence test. */
  independence?: PValueOptions | false;
  /** Reported as each result's layer (weight methods have none; kept so results look alike). */
  layer: string;
  onProgress?: (done: number, total: number) => void;
}

/** One child's comparisons with its compatible candidates, before scoring. */
export interface ChildComparisons {
  child: string;
  compared: { candidate: string; comparison: ModelComparison; aligned?: ModelComparison; pValue?: number | null }[];
  incompatible: ChildResult['incompatible'];
}

const leftOutReason = `block left out of every candidate's score: re-initialised in the child (unrelated to every candidate, |cos| < ${RELATED_COSINE}) or of another shape in some candidate`;

/**
 * Scores of every compatible candidate of one child, per output, over the same tensors for every
 * candidate: blocks the child re-initialised (unrelated to every candidate: reinitialised.ts) or
 * whose shape differs in some candidate (a new head) are left out of every candidate's score alike.
 */
export function weightScoresOfChild(child: ChildComparisons, outputs: readonly WeightOutput[]): Map<string, CandidateScore[]> {
  const comparisons = child.compared.map((c) => c.comparison);
  const drop = new Set([...unrelatedBlocks(comparisons.flatMap(childSide)), ...shapeExcludedBlocks(comparisons, 'b')]);
  // A permuted child looks unrelated in every block as stored: its re-initialised blocks show only once aligned.
  const alignedComparisons = child.compared.flatMap((c) => (c.aligned ? [c.aligned] : []));
  const dropAligned = new Set([...unrelatedBlocks(alignedComparisons.flatMap(childSide)), ...shapeExcludedBlocks(comparisons, 'b')]);
  const none = new Set<string>();
  const scores = new Map<string, CandidateScore[]>(outputs.map((o) => [o.name, []]));
  for (const { candidate, comparison, aligned, pValue } of child.compared) {
    const kept = withoutBlocks(comparison, none, drop);
    const keptAligned = aligned ? withoutBlocks(aligned, none, dropAligned) : kept;
    const left = [
      ...notableExclusions(comparison).map((e) => ({ candidate_tensor: e.aName!, child_tensor: e.bName!, reason: e.reason })),
      ...comparison.tensors.filter((t) => drop.has(blockOf(t.bName))).map((t) => ({ candidate_tensor: t.aName, child_tensor: t.bName, reason: leftOutReason })),
    ];
    for (const o of outputs) {
      const entry: CandidateScore = { parent: candidate, score: weightMethodScore(o.method, isAlignedMethod(o.method) ? keptAligned : kept) };
      if (left.length > 0) entry.excluded_tensors = left;
      if (pValue !== undefined) entry.p_value = pValue;
      scores.get(o.name)!.push(entry);
    }
  }
  return scores;
}

/** A child holding NaN or infinities would rank no one: refused, naming the file and the tensor. */
async function checkChild(model: OpenedModel): Promise<void> {
  const { nonFinite } = await modelStats(model.source);
  if (nonFinite !== undefined) throw new InputError(model.file, `tensor ${nonFinite} holds NaN or infinite values`);
}

async function compareCandidate(
  candidate: OpenedModel,
  children: readonly OpenedModel[],
  states: readonly ChildComparisons[],
  independence: PValueOptions | false,
  align: boolean,
): Promise<void> {
  for (let i = 0; i < children.length; i++) {
    const comparison = await compareModels(candidate.source, children[i].source);
    const problem = comparisonProblem(comparison);
    if (problem !== undefined) {
      states[i].incompatible.push({ parent: candidate.id, reason: problem });
      continue;
    }
    const aligned = align ? (await compareAligned(candidate.source, children[i].source)).comparison : undefined;
    const ids = { candidate: candidate.id, child: children[i].id };
    const pValue = independence === false ? undefined : await pairPValue(candidate.source, children[i].source, ids, independence);
    states[i].compared.push({ candidate: candidate.id, comparison, ...(aligned ? { aligned } : {}), pValue });
  }
}

/**
 * Children no candidate is related to as stored are compared again after alignment (align/): a
 * child whose hidden units were permuted is then scored on its aligned weights. Returns the
 * children that were, when an aligned comparison related them to some candidate.
 */
async function alignUnrelated(children: readonly OpenedModel[], candidates: readonly SourceRef[], states: ChildComparisons[]): Promise<Set<string>> {
  const related = (c: ModelComparison) => relativeWeightDistanceOf(c) < RELATED_DISTANCE;
  const lonely = states.map((s, i) => ({ s, i })).filter(({ s }) => s.compared.length > 0 && !s.compared.some((c) => related(c.comparison)));
  const out = new Set<string>();
  if (lonely.length === 0) return out;
  const aligned = new Map<string, Map<string, ModelComparison>>();
  for (const ref of candidates) {
    const candidate = await openRef(ref);
    try {
      for (const { s, i } of lonely) {
        if (!s.compared.some((c) => c.candidate === candidate.id)) continue;
        const byCandidate = aligned.get(s.child) ?? new Map<string, ModelComparison>();
        byCandidate.set(candidate.id, (await compareAligned(candidate.source, children[i].source)).comparison);
        aligned.set(s.child, byCandidate);
      }
    } finally {
      await candidate.source.close();
    }
  }
  for (const { s } of lonely) {
    const byCandidate = aligned.get(s.child);
    if (!byCandidate || ![...byCandidate.values()].some(related)) continue;
    for (const entry of s.compared) entry.comparison = byCandidate.get(entry.candidate) ?? entry.comparison;
    out.add(s.child);
  }
  return out;
}

export async function scoreWeightMatrix(
  children: readonly SourceRef[],
  candidates: readonly SourceRef[],
  options: WeightDetectOptions,
): Promise<MethodResult[]> {
  const opened = await openRefs(children);
  try {
    for (const child of opened) await checkChild(child);
    const states: ChildComparisons[] = opened.map((model) => ({ child: model.id, compared: [], incompatible: [] }));
    let done = 0;
    for (const ref of candidates) {
      const candidate = await openRef(ref);
      try {
        const align = options.outputs.some((o) => isAlignedMethod(o.method));
        await compareCandidate(candidate, opened, states, options.independence ?? {}, align);
      } finally {
        await candidate.source.close();
      }
      options.onProgress?.(++done, candidates.length);
    }
    const realigned = options.alignWhenUnrelated ? await alignUnrelated(opened, candidates, states) : new Set<string>();
    const scored = states.map((s) => weightScoresOfChild(s, options.outputs));
    return options.outputs.map((o) => ({
      method: o.name,
      alpha: o.alpha,
      layer: options.layer,
      children: states.map((s, i) => ({
        ...rankCandidates(s.child, scored[i].get(o.name)!, s.incompatible),
        ...(realigned.has(s.child) ? { aligned: true } : {}),
      })),
    }));
  } finally {
    await closeAll(opened);
  }
}
