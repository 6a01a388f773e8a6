/**
 * Layer-level lineage: for a model whose blocks may come from different parents (a stitched
 * network, possibly fine-tuned afterwards), the most likely origin of each block.
 *
 * Evidence is weight-space only: after stitching and fine-tuning, each block's weights stay far
 * closer to the block they were copied from than to any other candidate's, while features of a
 * block also depend on every block before it. Per block and candidate we take the mean squared
 * difference d_k over the block's parameters; probabilities are p_k = d_k^-2 / sum_j d_j^-2
 * (a softmax of -2 ln d_k): scale-free, so the same rule fits any architecture and any amount of
 * fine-tuning, and a block copied without change (d = 0) gets probability 1.
 */
import { type Tensor, toFloat32 } from '../tensor.js';
import { isBufferName } from '../base/naming.js';

export interface LayerOrigin {
  layer: string;
  /** Candidates, most likely first. */
  origins: { model: string; probability: number; distance: number }[];
}

/** Groups parameter names into blocks: `layer1.0.conv1.weight` -> `layer1.0`, `fc1.weight` -> `fc1`. */
export function blockOf(name: string): string {
  const parts = name.split('.');
  const numeric = parts.findIndex((p, i) => i > 0 && /^\d+$/.test(p));
  if (numeric > 0 && numeric < parts.length - 1) return parts.slice(0, numeric + 1).join('.');
  return parts.length > 1 ? parts.slice(0, -1).join('.') : parts[0];
}

export function groupBlocks(names: Iterable<string>): Map<string, string[]> {
  const blocks = new Map<string, string[]>();
  for (const name of names) {
    if (isBufferName(name)) continue;
    const block = blockOf(name);
    const list = blocks.get(block) ?? [];
    list.push(name);
    blocks.set(block, list);
  }
  return blocks;
}

function meanSquaredDifference(a: Tensor, b: Tensor): number {
  const x = toFloat32(a);
  const y = toFloat32(b);
  let sum = 0;
  for (let i = 0; i < x.length; i++) {
    const d = x[i] - y[i];
    sum += d * d;
  }
  return x.length === 0 ? 0 : sum / x.length;
}

function sameShape(a: Tensor, b: Tensor): boolean {
  return a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);
}

/**
 * Origin probabilities of every block of `model` among `candidates` (id -> weights). A candidate
 * lacking a block's tensors, or with other shapes, is not a possible origin of that block.
 */
export function layerOrigins(model: ReadonlyMap<string, Tensor>, candidates: ReadonlyMap<string, ReadonlyMap<string, Tensor>>): LayerOrigin[] {
  const result: LayerOrigin[] = [];
  for (const [layer, names] of groupBlocks(model.keys())) {
    const distances: { model: string; distance: number }[] = [];
    for (const [id, weights] of candidates) {
      if (!names.every((n) => weights.has(n) && sameShape(weights.get(n)!, model.get(n)!))) continue;
      const d = names.reduce((acc, n) => acc + meanSquaredDifference(model.get(n)!, weights.get(n)!), 0) / names.length;
      distances.push({ model: id, distance: d });
    }
    const exact = distances.filter((d) => d.distance === 0);
    const weightsOf = (d: number) => (exact.length > 0 ? (d === 0 ? 1 : 0) : 1 / (d * d));
    const total = distances.reduce((acc, d) => acc + weightsOf(d.distance), 0);
    const origins = distances
      .map((d) => ({ model: d.model, probability: total > 0 ? weightsOf(d.distance) / total : 0, distance: d.distance }))
      .sort((a, b) => b.probability - a.probability);
    result.push({ layer, origins });
  }
  return result;
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
