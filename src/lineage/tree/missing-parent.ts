/**
 * Parents missing from the set (issue 18): when a model's parent is absent, the spanning forest
 * hangs its siblings under one of them. In the additive geometry of fine-tuning (twins.ts), the
 * path from a child c to each of its parent p's other children leaves the p - c link at p (branch
 * share s = 0), except for c's own twins; from a sibling standing in for a missing parent, those
 * paths leave at the missing parent, about halfway (s near 1/2). An edge is flagged when the lower
 * median share over p's other children exceeds 1/4, the midpoint of the two cases. A parent whose
 * only other children are c's twins is flagged too: distances cannot tell it from a sibling. A
 * model hung under its missing parent's twin is not flagged: that twin is as near as the parent.
 */
import { branchPosition } from './twins.js';

export const OFF_PATH_SHARE = 0.25;

/**
 * Whether p looks like c's sibling rather than its parent. `siblings` are p's other children in the
 * recovered tree; with none there is nothing to test (false).
 */
export function parentMayBeMissing(p: number, c: number, siblings: readonly number[], distance: (a: number, b: number) => number): boolean {
  const dpc = distance(p, c);
  const shares = siblings.map((z) => branchPosition(dpc, distance(p, z), distance(c, z))).filter(Number.isFinite);
  if (shares.length === 0) return false;
  shares.sort((a, b) => a - b);
  return shares[(shares.length - 1) >> 1] > OFF_PATH_SHARE;
}
