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
  /** Probability of this parent among the child's admissible options; see buildFamilyTree. */
  confidence: number;
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
