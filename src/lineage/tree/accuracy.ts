/** How well a recovered tree matches the truth (a zoo manifest's parent links). */
import type { FamilyTree, TruthEntry } from './types.js';

export interface TreeEdgeAccuracy {
  /** True edges (both ends among the tree's nodes) recovered with the right parent AND direction. */
  correct: number;
  /** Number of true edges evaluated. */
  total: number;
  /** correct / total (NaN when there are no true edges). */
  accuracy: number;
  /** True edges recovered with the direction flipped (child -> parent). */
  reversed: number;
  /** Edges placed right regardless of direction, divided by total. */
  undirectedAccuracy: number;
  /** Roots whose true parent is absent or outside the tree, recovered as roots / number of such roots. */
  rootsCorrect: number;
  rootsTotal: number;
}

export function treeEdgeAccuracy(predicted: FamilyTree, truth: readonly TruthEntry[]): TreeEdgeAccuracy {
  const present = new Set(predicted.nodes.map((n) => n.id));
  const edges = new Set(predicted.edges.map((e) => `${e.parent}\u0000${e.child}`));
  const predictedRoots = new Set(predicted.roots);
  let correct = 0;
  let reversed = 0;
  let total = 0;
  let rootsCorrect = 0;
  let rootsTotal = 0;
  for (const t of truth) {
    if (!present.has(t.id)) continue;
    if (t.parent === null || !present.has(t.parent)) {
      rootsTotal++;
      if (predictedRoots.has(t.id)) rootsCorrect++;
      continue;
    }
    total++;
    if (edges.has(`${t.parent}\u0000${t.id}`)) correct++;
    else if (edges.has(`${t.id}\u0000${t.parent}`)) reversed++;
  }
  return {
    correct,
    total,
    accuracy: total > 0 ? correct / total : Number.NaN,
    reversed,
    undirectedAccuracy: total > 0 ? (correct + reversed) / total : Number.NaN,
    rootsCorrect,
    rootsTotal,
  };
}
