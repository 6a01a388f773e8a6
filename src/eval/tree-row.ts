/**
 * The family-tree line of `lineage bench` (issue 18): the zoo's tree recovered with the tree's own
 * default (`auto`: weight evidence) and scored against the manifest, next to the per-child parent
 * accuracy: edges right with direction, placement (right pair, either direction) and true roots
 * recovered as roots.
 */
import { treeEdgeAccuracy } from '../lineage/tree/accuracy.js';
import { recoverTree } from '../lineage/tree/recover.js';
import type { Zoo } from '../zoo/manifest.js';

export interface TreeRow {
  method: string;
  correct: number;
  total: number;
  reversed: number;
  /** Right pair either way round, as a share of the true edges. */
  placement: number;
  rootsCorrect: number;
  rootsTotal: number;
  rootsFound: number;
  seconds: number;
}

/** The tree row of a zoo, or a note saying why there is none (models whose weights do not compare). */
export async function treeRow(zoo: Zoo): Promise<{ row: TreeRow } | { note: string }> {
  const started = performance.now();
  try {
    const tree = await recoverTree(
      zoo.models.map(({ entry, path }) => ({ id: entry.id, path })),
      { relations: false },
    );
    const a = treeEdgeAccuracy(
      tree,
      zoo.models.map(({ entry }) => ({ id: entry.id, parent: entry.parent })),
    );
    return {
      row: {
        method: tree.method,
        correct: a.correct,
        total: a.total,
        reversed: a.reversed,
        placement: a.undirectedAccuracy,
        rootsCorrect: a.rootsCorrect,
        rootsTotal: a.rootsTotal,
        rootsFound: tree.roots.length,
        seconds: (performance.now() - started) / 1000,
      },
    };
  } catch (e) {
    return { note: `no family tree: ${e instanceof Error ? e.message : String(e)}` };
  }
}
