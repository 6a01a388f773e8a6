/**
 * The recovered forest's edges as consumers see them: score, confidence, and the missing-parent
 * flag, in breadth-first order from the roots.
 *
 * Confidence of edge p -> c: with weight methods, calibrated from the branch position that decided
 * the edge (confidence.ts). Feature methods have no such geometry: softmax of w(q -> c) / temperature
 * over the child's admissible parents q (family members that are not c's descendants in the
 * recovered forest) plus, in numeric root-threshold mode, the option of c being a root; it measures
 * how clearly c's parent stands out among the alternatives (see build.ts for w and the temperature).
 */
import { calibratedConfidence } from './confidence.js';
import { parentMayBeMissing } from './missing-parent.js';
import { branchPosition, childLists } from './twins.js';
import type { TreeEdge } from './types.js';

export interface EdgeContext {
  ids: readonly string[];
  score: Float64Array;
  /** w(p -> c) at p * n + c; NaN where p may not be c's parent. */
  weight: Float64Array;
  parent: readonly number[];
  rootWeight?: (v: number) => number;
  /** Distances that add up along fine-tuning steps (weight methods only). */
  additive?: (a: number, b: number) => number;
  twinPosition: number;
  /** Branch position that moved a child off its twin, by child (twins.ts). */
  moved?: ReadonlyMap<number, number>;
}

function descendants(children: readonly number[][], v: number): Set<number> {
  const out = new Set<number>();
  const stack = [...children[v]];
  while (stack.length) {
    const u = stack.pop() as number;
    out.add(u);
    for (const c of children[u]) stack.push(c);
  }
  return out;
}

/** The branch position that decided edge p -> c: the move off a twin, else p against its own parent. */
function decidingPosition(ctx: EdgeContext, additive: (a: number, b: number) => number, p: number, c: number): number | undefined {
  const moved = ctx.moved?.get(c);
  if (moved !== undefined) return moved;
  const g = ctx.parent[p];
  return g < 0 ? undefined : branchPosition(additive(p, c), additive(p, g), additive(c, g));
}

function softmaxConfidence(ctx: EdgeContext, children: readonly number[][], c: number, p: number, temperature: number): number {
  const { weight } = ctx;
  const n = ctx.ids.length;
  const excluded = descendants(children, c);
  const choices: number[] = [];
  for (let q = 0; q < n; q++) {
    if (q === c || excluded.has(q) || !Number.isFinite(weight[q * n + c])) continue;
    choices.push(weight[q * n + c]);
  }
  if (ctx.rootWeight) choices.push(ctx.rootWeight(c));
  const top = choices.reduce((a, b) => Math.max(a, b), Number.NEGATIVE_INFINITY);
  const total = choices.reduce((s, w) => s + Math.exp((w - top) / temperature), 0);
  return Math.exp((weight[p * n + c] - top) / temperature) / total;
}

export function edgesOf(ctx: EdgeContext, temperature: number): TreeEdge[] {
  const { ids, parent, score, additive } = ctx;
  const n = ids.length;
  const children = childLists(parent);
  const order = parent.flatMap((p, v) => (p === -1 ? [v] : []));
  for (let i = 0; i < order.length; i++) for (const c of children[order[i]]) order.push(c);
  const edges: TreeEdge[] = [];
  for (const c of order) {
    const p = parent[c];
    if (p < 0) continue;
    const siblings = children[p].filter((z) => z !== c);
    const position = additive ? decidingPosition(ctx, additive, p, c) : undefined;
    edges.push({
      parent: ids[p],
      child: ids[c],
      score: score[p * n + c],
      confidence: additive ? calibratedConfidence(position, ctx.twinPosition) : softmaxConfidence(ctx, children, c, p, temperature),
      ...(position !== undefined && Number.isFinite(position) ? { branch_position: position } : {}),
      ...(additive && parentMayBeMissing(p, c, siblings, additive) ? { parent_may_be_missing: true } : {}),
    });
  }
  return edges;
}
