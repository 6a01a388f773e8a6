/**
 * Types of a permutation-aligned weight comparison. Hidden units (neurons, channels, attention
 * heads) can be reordered without changing what a network computes; a child whose units were
 * reordered is far from its parent by plain weight distance. Each unit group names the tensor
 * axes that one reordering of its units moves together.
 */
import type { ModelComparison } from '../weights/types.js';

/**
 * One tensor axis that a group's permutation moves. Axes are those of the tensor viewed as a matrix
 * [shape[0], product(rest)] in the layout the comparison uses: a's layout, which is b after its
 * pair's transform (a transpose, a rotary unpermute). A conv kernel [out, in, kh, kw] is then
 * [out, in * kh * kw], and its input channel c is the block of columns [c * kh * kw, (c + 1) * kh * kw).
 */
export interface UnitMember {
  /** The b-side tensor name: the tensor that is permuted. */
  name: string;
  axis: 0 | 1;
  /** Consecutive indices along the axis that make one unit: 1 for neurons, head_dim for heads, kh * kw for a conv's input channels. */
  block: number;
}

/** Units that one permutation reorders, and the members it reorders them in. */
export interface UnitSet {
  members: UnitMember[];
  units: number;
  label: string;
}

/**
 * A unit group. With `outer` (grouped-query attention), the units are query heads and outer's
 * units are key/value heads: query head i reads key/value head floor(i / (units / outer.units)),
 * so key/value heads are permuted as wholes, the query heads of a group move with it, and query
 * heads also permute among themselves within their group.
 */
export interface UnitGroup extends UnitSet {
  outer?: UnitSet;
}

/** How far the units of one permutation moved: units not mapped to themselves. */
export interface GroupMoves {
  label: string;
  units: number;
  moved: number;
  /** permutation[i] = the unit of b matched to a's unit i. */
  permutation: Int32Array;
}

export interface AlignedComparison {
  /** compareModels' result with b's tensors permuted onto a's units. */
  comparison: ModelComparison;
  /** One entry per permutation solved, in solving order (a grouped-query attention group gives two: query heads, then key/value heads). */
  groups: GroupMoves[];
}

export interface AlignOptions {
  /** Bytes of float32 read from each model at a time (default 4 MiB). Tensors of a unit group are held whole while it is aligned. */
  blockBytes?: number;
}
