/**
 * Layer-level lineage: for a model whose blocks may come from different parents (a stitched
 * network, possibly fine-tuned afterwards), the most likely origin of each block.
 *
 * Evidence is weight-space only: after stitching and fine-tuning, each block's weights stay far
 * closer to the block they were copied from than to any other candidate's, while features of a
 * block also depend on every block before it. Per block and candidate we take the mean squared
 * difference d_k over the block's parameters; probabilities are p_k = d_k^-2 / sum_j d_j^-2
 * (a softmax of -2 ln d_k): scale-free, so the same rule fits any architecture and any amount of
 * fine-tuning, and a block copied without change (d = 0) gets probability 1. Tensors are paired as
 * `lineage compare` pairs them, so a model and its candidates may differ in format and naming.
 */
import type { Tensor } from '../tensor.js';
import { blockOf, groupBlocks } from './block-names.js';
import { InputError } from '../base/errors.js';
import type { ExcludedModel } from './finite.js';
import { openRef, type SourceRef } from './source-ref.js';
import { compareModels } from './weights/compare.js';
import { modelStats } from './weights/model-stats.js';
import { nonParameterReason } from './weights/parameters.js';
import type { ModelComparison } from './weights/types.js';

export { blockOf, groupBlocks } from './block-names.js';

export interface LayerOrigin {
  layer: string;
  /** Candidates, most likely first. */
  origins: { model: string; probability: number; distance: number }[];
}

/** Mean squared difference per tensor of the model (by its own name), from one streamed comparison. */
function tensorDistances(comparison: ModelComparison): Map<string, number> {
  const out = new Map<string, number>();
  for (const t of comparison.tensors) if (!out.has(t.bName)) out.set(t.bName, t.elements === 0 ? 0 : t.sums.dd / t.elements);
  return out;
}

/**
 * Origin probabilities per block from per-tensor distances (candidate id -> model tensor -> mean
 * squared difference). A candidate lacking one of a block's tensors is not a possible origin of it.
 */
export function originsOfBlocks(blocks: ReadonlyMap<string, readonly string[]>, distances: ReadonlyMap<string, ReadonlyMap<string, number>>): LayerOrigin[] {
  const result: LayerOrigin[] = [];
  for (const [layer, names] of blocks) {
    const found: { model: string; distance: number }[] = [];
    for (const [id, perTensor] of distances) {
      if (!names.every((n) => perTensor.has(n))) continue;
      found.push({ model: id, distance: names.reduce((acc, n) => acc + perTensor.get(n)!, 0) / names.length });
    }
    const exact = found.filter((d) => d.distance === 0);
    const weightsOf = (d: number) => (exact.length > 0 ? (d === 0 ? 1 : 0) : 1 / (d * d));
    const total = found.reduce((acc, d) => acc + weightsOf(d.distance), 0);
    const origins = found
      .map((d) => ({ model: d.model, probability: total > 0 ? weightsOf(d.distance) / total : 0, distance: d.distance }))
      .sort((a, b) => b.probability - a.probability);
    result.push({ layer, origins });
  }
  return result;
}

export interface LayerTrace {
  /** The traced model's id. */
  model: string;
  layers: LayerOrigin[];
  /** Candidates left out (NaN or infinite values in a tensor compared). */
  excluded: ExcludedModel[];
}

/** The candidate's values compared with the model's: a problem when one of them is not finite. */
function nonFiniteCandidate(comparison: ModelComparison): string | undefined {
  const bad = comparison.tensors.find((t) => !Number.isFinite(t.sums.aa));
  return bad === undefined ? undefined : `tensor ${bad.aName} holds NaN or infinite values`;
}

/**
 * The most likely origin of every block of `model` among `candidates`, streamed: any format and
 * naming (blocks are the model's own: `layer1.0`, `model.layers.3`, `blk.3`, `encoder.layer.3`),
 * one candidate open at a time. The model itself must hold finite values (an InputError otherwise).
 */
export async function layerOrigins(model: SourceRef, candidates: readonly SourceRef[]): Promise<LayerTrace> {
  const traced = await openRef(model);
  try {
    const { nonFinite } = await modelStats(traced.source);
    if (nonFinite !== undefined) throw new InputError(traced.file, `tensor ${nonFinite} holds NaN or infinite values`);
    const blocks = groupBlocks(traced.source.tensors.filter((t) => nonParameterReason(t) === undefined).map((t) => t.name));
    const distances = new Map<string, Map<string, number>>();
    const excluded: ExcludedModel[] = [];
    for (const ref of candidates) {
      const candidate = await openRef(ref);
      try {
        const comparison = await compareModels(candidate.source, traced.source);
        const reason = nonFiniteCandidate(comparison);
        if (reason) excluded.push({ model: candidate.id, file: candidate.file, reason });
        else distances.set(candidate.id, tensorDistances(comparison));
      } finally {
        await candidate.source.close();
      }
    }
    return { model: traced.id, layers: originsOfBlocks(blocks, distances), excluded };
  } finally {
    await traced.source.close();
  }
}

function sameShape(a: Tensor, b: Tensor): boolean {
  return a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);
}

/** A stitched state dict: blocks taken from donors, everything else from the base model. */
export function stitchWeights(
  base: ReadonlyMap<string, Tensor>,
  donors: readonly { weights: ReadonlyMap<string, Tensor>; blocks: readonly string[]; id: string }[],
): { weights: Map<string, Tensor>; origin: Record<string, string> } {
  const out = new Map(base);
  const origin: Record<string, string> = {};
  const known = new Set([...groupBlocks(base.keys()).keys()]);
  for (const donor of donors) {
    for (const block of donor.blocks) {
      if (!known.has(block)) throw new RangeError(`unknown block '${block}' (blocks: ${[...known].join(', ')})`);
      let copied = 0;
      for (const name of base.keys()) {
        if (blockOf(name) !== block) continue;
        const t = donor.weights.get(name);
        if (!t || !sameShape(t, base.get(name)!)) throw new RangeError(`${donor.id}: block '${block}' lacks tensor ${name} or has another shape`);
        out.set(name, t);
        copied++;
      }
      if (copied === 0) throw new RangeError(`block '${block}' has no tensors`);
      origin[block] = donor.id;
    }
  }
  return { weights: out, origin };
}
