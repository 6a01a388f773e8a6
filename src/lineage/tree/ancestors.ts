/**
 * Cross-generational tracing: which candidates are the child's parent, grandparent or a further
 * ancestor, and which are unrelated.
 *
 * Rule: recover the family forest over {child} + candidates with the child as a leaf (it may not
 * be anyone's parent: we ask for its ancestors), then walk from the child to its root. A candidate
 * k steps up that path is its parent (k = 1), grandparent (k = 2) or ancestor (k >= 3). Every
 * other candidate is unrelated to the child's line: siblings and cousins (same tree,
 * `sameFamily: true`), and models in other trees. "Score far below" is enforced by the root
 * threshold: no tree link is longer than the distance that separates families, so a candidate is
 * an ancestor only through a chain of links that each look like one fine-tuning step.
 */
import { InputError } from '../../base/errors.js';
import type { ExcludedModel } from '../finite.js';
import type { SourceRef } from '../source-ref.js';
import { buildFamilyTree, type TreeRecovery } from './build.js';
import { type TreeOptions, withPairScores } from './recover.js';

export type AncestorRelation = 'parent' | 'grandparent' | 'ancestor' | 'unrelated';

export interface AncestorCandidate {
  id: string;
  file: string;
  relation: AncestorRelation;
  /** Generations between candidate and child (1 = parent), null when not an ancestor. */
  generations: number | null;
  /** Whether the candidate is in the child's tree (true for siblings, cousins, ancestors). */
  sameFamily: boolean;
  /** The method's score of the candidate as the child's parent (NaN when not scored). */
  score: number;
}

export interface AncestorRanking {
  child: string;
  /** Ancestors nearest first, then the others by score. */
  candidates: AncestorCandidate[];
  /** Candidates left out (NaN or infinite values); the child itself must be finite. */
  excluded: ExcludedModel[];
  tree: TreeRecovery;
}

function relationOf(generations: number | null): AncestorRelation {
  if (generations === null) return 'unrelated';
  return generations === 1 ? 'parent' : generations === 2 ? 'grandparent' : 'ancestor';
}

export async function rankAncestors(child: SourceRef, candidates: readonly SourceRef[], options: TreeOptions = {}): Promise<AncestorRanking> {
  if (candidates.length === 0) throw new RangeError('rankAncestors needs at least one candidate');
  return withPairScores([child, ...candidates], options, async (pairs, opened) => {
    // The child is the first model given; scoring leaves out models holding NaN or infinities, and
    // the child must not be one of them: its ancestors are the question.
    const childId = opened[0].id;
    const refused = pairs.excluded.find((e) => e.model === childId);
    if (refused) throw new InputError(refused.file, refused.reason);
    const tree = buildFamilyTree(pairs, { ...options, leaves: [childId, ...(pairs.copies ?? []).map((c) => c.copy)] });
    return classifyAncestors(tree, childId);
  });
}

/** Reads the ancestor relations of `childId` off a recovered tree (exported for reuse on any tree). */
export function classifyAncestors(tree: TreeRecovery, childId: string): AncestorRanking {
  const parentOf = new Map(tree.edges.map((e) => [e.child, e.parent]));
  const up = new Map<string, number>();
  let k = 0;
  for (let v = parentOf.get(childId); v !== undefined; v = parentOf.get(v)) up.set(v, ++k);
  const rootOf = (id: string): string => {
    let v = id;
    for (let p = parentOf.get(v); p !== undefined; p = parentOf.get(v)) v = p;
    return v;
  };
  const childRoot = rootOf(childId);
  const ids = tree.nodes.map((nd) => nd.id);
  const c = ids.indexOf(childId);
  const out: AncestorCandidate[] = tree.nodes
    .filter((nd) => nd.id !== childId)
    .map((nd) => {
      const generations = up.get(nd.id) ?? null;
      return {
        id: nd.id,
        file: nd.file,
        relation: relationOf(generations),
        generations,
        sameFamily: rootOf(nd.id) === childRoot,
        score: tree.scores[c][ids.indexOf(nd.id)] ?? Number.NaN,
      };
    });
  const rank = (x: AncestorCandidate) => (Number.isNaN(x.score) ? Number.NEGATIVE_INFINITY : x.score);
  out.sort((a, b) => (a.generations ?? Infinity) - (b.generations ?? Infinity) || rank(b) - rank(a));
  return { child: childId, candidates: out, excluded: tree.excluded, tree };
}
