/**
 * Same-task twins (issue 18): a spanning forest joins each model to its nearest relative, so two
 * children fine-tuned from one parent on one task, which are closer to each other than to their
 * parent, end up one under the other. This pass puts them back as siblings.
 *
 * The principle is the additive geometry of fine-tuning. Each fine-tune adds its own update to its
 * parent's weights, and updates of different runs are nearly orthogonal in weight space except for
 * what they share (a task, a recipe), so squared distances (1 - cos for small steps) add up along
 * the family tree, with a hidden branch point where shared updates part. For three models A, B and
 * P, the branch point of the paths between them lies at distance
 *   t = (d(A, B) + d(A, P) - d(B, P)) / (2 d(A, B))
 * from A along A-B, as a share of the A-B link:
 * - B fine-tuned from A, A from P: A lies on the path from B to P, t = 0;
 * - A and B fine-tuned from P on one task with one recipe (twins): they are interchangeable, the
 *   branch point lies midway, t = 1/2 whatever their shared update.
 * Two linked models are twins with respect to a third when neither lies on the path from the other
 * to it: both branch positions exceed `TWIN_BRANCH_POSITION`. Three models' distances cannot tell a twin from a grandchild whose update undoes more than
 * half of its parent's (a return to the grandparent's task): such a grandchild is placed as its
 * parent's sibling. Measured: bench/results/tree.md.
 */

/** The midpoint between an ancestor on the path (t = 0) and an interchangeable twin (t = 1/2). */
export const TWIN_BRANCH_POSITION = 0.25;

/** Distance of the branch point of A, B and P from A, as a share of d(A, B); NaN when undefined. */
export function branchPosition(dAB: number, dAP: number, dBP: number): number {
  if (!(dAB > 0) || !Number.isFinite(dAP) || !Number.isFinite(dBP)) return Number.NaN;
  return (dAB + dAP - dBP) / (2 * dAB);
}

export interface TwinMove {
  child: number;
  /** The twin the forest had hung the child under. */
  from: number;
  /** Where the child now hangs. */
  to: number;
  /** The branch position that decided it. */
  position: number;
}

/** Children of each node of a forest given as parent links (-1 for roots). */
export function childLists(parent: readonly number[]): number[][] {
  const children: number[][] = parent.map(() => []);
  parent.forEach((p, c) => {
    if (p >= 0) children[p].push(c);
  });
  return children;
}

function depthFirstOrder(parent: readonly number[]): number[] {
  const children = childLists(parent);
  const order: number[] = [];
  const stack = parent.flatMap((p, v) => (p < 0 ? [v] : []));
  while (stack.length) {
    const v = stack.pop() as number;
    order.push(v);
    for (const c of children[v]) stack.push(c);
  }
  return order;
}

/**
 * Moves each model hung under a twin up to the twin's parent (in place on `parent`): B under A
 * under P moves to P when A does not lie between B and P (branch position above `threshold`), and
 * again from there while the test still says twin. Parents are settled before their children.
 * `distance(a, b)` must be additive along fine-tuning steps (1 - cos of the weights); `allowed(p, c)`
 * says whether p may be c's parent.
 */
export function separateTwins(
  parent: number[],
  distance: (a: number, b: number) => number,
  allowed: (p: number, c: number) => boolean,
  threshold = TWIN_BRANCH_POSITION,
): TwinMove[] {
  const moves: TwinMove[] = [];
  for (const b of depthFirstOrder(parent)) {
    const first = parent[b];
    let position = Number.NaN;
    for (let hops = 0; hops < parent.length; hops++) {
      const a = parent[b];
      const p = a < 0 ? -1 : parent[a];
      if (p < 0 || !allowed(p, b)) break;
      const t = branchPosition(distance(a, b), distance(a, p), distance(b, p));
      if (!(t > threshold)) break;
      parent[b] = p;
      position = t;
    }
    if (parent[b] !== first) moves.push({ child: b, from: first, to: parent[b], position });
  }
  return moves;
}

/**
 * A root that is one of two twins: the forest rooted a family at R with R -> A -> Z, where R and A
 * are twins with respect to Z (neither lies between the other and Z, and Z's own part past their
 * branch point outweighs either twin's: what the twins share is Z's update). Z is then their
 * parent and the family's root (in place on `parent`). Returns the families re-rooted, as
 * [old root, new root].
 */
export function rerootTwinRoots(
  parent: number[],
  distance: (a: number, b: number) => number,
  allowed: (p: number, c: number) => boolean,
  threshold = TWIN_BRANCH_POSITION,
): [number, number][] {
  const children = childLists(parent);
  const out: [number, number][] = [];
  for (let r = 0; r < parent.length; r++) {
    if (parent[r] >= 0) continue;
    let best: { a: number; z: number; share: number } | undefined;
    for (const a of children[r]) {
      for (const z of children[a]) {
        if (!allowed(z, r) || !allowed(z, a)) continue;
        const dra = distance(r, a);
        const ownR = (dra + distance(r, z) - distance(a, z)) / 2;
        const ownA = (dra + distance(a, z) - distance(r, z)) / 2;
        const ownZ = (distance(r, z) + distance(a, z) - dra) / 2;
        if (!(ownZ > Math.max(ownR, ownA)) || !(ownR / dra > threshold && ownA / dra > threshold)) continue;
        const share = ownZ / (ownZ + ownR + ownA);
        if (!best || share > best.share) best = { a, z, share };
      }
    }
    if (!best) continue;
    parent[best.z] = -1;
    parent[r] = best.z;
    parent[best.a] = best.z;
    out.push([r, best.z]);
  }
  return out;
}
