/**
 * Blocks a child re-initialised: a classification head trained anew for the child's task keeps
 * its shape (ten classes before, ten after) but holds no trace of any candidate, so its distance to
 * each candidate is noise, and a large noisy tensor can outweigh the evidence of every other one.
 * A block (blockOf: `fc`, `classifier`, `layer3.1`) counts as re-initialised when each of its
 * matrices is unrelated to every candidate it was compared with: |cos| < RELATED_COSINE. Two
 * independent tensors of n values have cosine about N(0, 1/n), under 0.1 for n >= 400 more than 95%
 * of the time and far under 0.5 whatever n; fine-tuned tensors keep a cosine near 1 with their
 * parent's. Such blocks are left out of the child's scores against every candidate alike (listed
 * with the reason), never per candidate, which would favour unrelated ones. When no block of the
 * child is related to any candidate, nothing is left out: the child then simply has no parent here.
 */
import { blockOf } from '../block-names.js';
import type { ModelComparison } from './types.js';

export const RELATED_COSINE = 0.5;

/** One matched tensor of a model, seen from that model's side: its own name, its rank, its cosine with the other model's. */
export interface SideTensor {
  name: string;
  rank: number;
  cos: number | null;
}

/**
 * The blocks of one model that are unrelated to every model it was compared with, from all of its
 * matched tensors in those comparisons. Empty when no block at all is related: such a model is
 * simply unrelated to the others, and nothing of it is left out.
 */
export function unrelatedBlocks(tensors: Iterable<SideTensor>): Set<string> {
  const related = new Set<string>();
  const seen = new Set<string>();
  for (const t of tensors) {
    if (t.rank < 2) continue;
    const block = blockOf(t.name);
    seen.add(block);
    if (t.cos !== null && Math.abs(t.cos) >= RELATED_COSINE) related.add(block);
  }
  if (related.size === 0) return new Set();
  return new Set([...seen].filter((b) => !related.has(b)));
}

/**
 * Blocks of a side's tensors that some comparison left out because the shapes differ (a head with
 * other classes): scores compared over different sets of tensors would not be comparable, so the
 * block is left out of that model's other comparisons too.
 */
export function shapeExcludedBlocks(comparisons: readonly ModelComparison[], side: 'a' | 'b'): Set<string> {
  const out = new Set<string>();
  for (const c of comparisons) {
    for (const e of c.excluded) {
      const name = side === 'a' ? e.aName : e.bName;
      if (name !== null && e.aName !== null && e.bName !== null && e.reason.startsWith('shapes differ')) out.add(blockOf(name));
    }
  }
  return out;
}

/** The child's (b side's) tensors of a comparison, for unrelatedBlocks. */
export function childSide(c: ModelComparison): SideTensor[] {
  return c.tensors.map((t) => ({ name: t.bName, rank: t.rank, cos: t.cos }));
}

/** The candidate's (a side's) tensors of a comparison, for unrelatedBlocks. */
export function candidateSide(c: ModelComparison): SideTensor[] {
  return c.tensors.map((t) => ({ name: t.aName, rank: t.rank, cos: t.cos }));
}

/** The comparison without tensors of the listed blocks of either side (scores are then computed from what is left). */
export function withoutBlocks(c: ModelComparison, dropA: ReadonlySet<string>, dropB: ReadonlySet<string>): ModelComparison {
  if (dropA.size === 0 && dropB.size === 0) return c;
  return { ...c, tensors: c.tensors.filter((t) => !dropA.has(blockOf(t.aName)) && !dropB.has(blockOf(t.bName))) };
}
