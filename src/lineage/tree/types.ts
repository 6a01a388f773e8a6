/** The family tree of a set of models, as every consumer (CLI JSON, report, benchmarks) sees it. */

export interface TreeNode {
  id: string;
  file: string;
}

export interface TreeEdge {
  parent: string;
  child: string;
  /** The method's score of `parent` as the parent of `child` (higher = more alike). */
  score: number;
  /** Weight methods: calibrated probability that the edge is right (confidence.ts); feature methods: the parent's share among the child's options (edges.ts). */
  confidence: number;
  /** Weight methods: the branch position that decided the edge (twins.ts; absent when nothing could be tested). */
  branch_position?: number;
  /** How the child was derived from the parent (relations/relation.ts), once decided. */
  relation?: string;
  /** Merges: this parent's coefficient in the child (a merge has one edge per parent). */
  coefficient?: number;
  /** The parent looks like the child's sibling (missing-parent.ts): the true parent may be missing from the set. */
  parent_may_be_missing?: true;
  /** p-value of "parent and child were trained independently" (independence/unit-test.ts); null when untestable. */
  p_value?: number | null;
}

export interface FamilyTree {
  nodes: TreeNode[];
  edges: TreeEdge[];
  roots: string[];
}

/** Ground truth: each model's parent id, null for roots (a zoo manifest's models fit this). */
export interface TruthEntry {
  id: string;
  parent: string | null;
}
