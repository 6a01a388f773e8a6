/**
 * Twins and missing parents on hand-built additive geometry: models are points in R^8, each
 * fine-tuning step adds a vector, steps of different runs lie along orthogonal axes, and the
 * distance is the squared Euclidean one, which adds up exactly along orthogonal steps (the
 * principle twins.ts states). Every expected value below is worked by hand from the coordinates.
 */
import { describe, expect, it } from 'vitest';
import { parentMayBeMissing, OFF_PATH_SHARE } from '../../../src/lineage/tree/missing-parent.js';
import { branchPosition, rerootTwinRoots, separateTwins, TWIN_BRANCH_POSITION } from '../../../src/lineage/tree/twins.js';

const DIMS = 8;

/** A point of R^8 from its non-zero coordinates, e.g. at({ 1: 2 }) = 2 e1. */
function at(coords: Record<number, number>): number[] {
  const v = new Array<number>(DIMS).fill(0);
  for (const [axis, value] of Object.entries(coords)) v[Number(axis)] = value;
  return v;
}

function plus(...vs: number[][]): number[] {
  return vs.reduce((sum, v) => sum.map((x, i) => x + v[i]), new Array<number>(DIMS).fill(0));
}

/** Squared Euclidean distance between points[a] and points[b]. */
function squaredDistance(points: readonly number[][]): (a: number, b: number) => number {
  return (a, b) => points[a].reduce((s, x, i) => s + (x - points[b][i]) ** 2, 0);
}

const anyParent = () => true;

describe('branchPosition', () => {
  it('is 0 from the middle of a chain P -> A -> B and 1 from its end', () => {
    // P = 0, A = 2 e1 (|step|^2 = 4), B = A + e2 (|step|^2 = 1): d(A,B) = 1, d(A,P) = 4, d(B,P) = 5.
    const [P, A, B] = [0, 1, 2];
    const d = squaredDistance([at({}), at({ 1: 2 }), at({ 1: 2, 2: 1 })]);
    expect([d(A, B), d(A, P), d(B, P)]).toEqual([1, 4, 5]);
    // From A: (1 + 4 - 5) / 2 = 0 (A lies on the path from B to P); from B: (1 + 5 - 4) / 2 = 1.
    expect(branchPosition(d(A, B), d(A, P), d(B, P))).toBe(0);
    expect(branchPosition(d(A, B), d(B, P), d(A, P))).toBe(1);
  });

  it('is 1/2 for twins with equal own parts, whatever their shared part', () => {
    for (const shared of [0.5, 3, 10]) {
      // A = s + e2, B = s + e3, s = shared e1: d(A,B) = 2, d(A,P) = d(B,P) = shared^2 + 1,
      // so (2 + d(A,P) - d(B,P)) / 4 = 1/2.
      const d = squaredDistance([at({}), at({ 1: shared, 2: 1 }), at({ 1: shared, 3: 1 })]);
      expect(branchPosition(d(1, 2), d(1, 0), d(2, 0))).toBeCloseTo(0.5, 12);
    }
  });

  it('is own_A / (own_A + own_B) for twins with unequal own parts: 1/4 and 3/4 for own parts 1 and 3', () => {
    // s = 3 e1 (9), own parts e2 (1) and sqrt(3) e3 (3): d(A,B) = 4, d(A,P) = 10, d(B,P) = 12.
    // From A: (4 + 10 - 12) / 8 = 1/4; from B: (4 + 12 - 10) / 8 = 3/4.
    const d = squaredDistance([at({}), at({ 1: 3, 2: 1 }), at({ 1: 3, 3: Math.sqrt(3) })]);
    expect(branchPosition(d(1, 2), d(1, 0), d(2, 0))).toBeCloseTo(0.25, 12);
    expect(branchPosition(d(1, 2), d(2, 0), d(1, 0))).toBeCloseTo(0.75, 12);
  });

  it('is NaN when A and B coincide or a distance is not finite', () => {
    expect(branchPosition(0, 1, 1)).toBeNaN();
    expect(branchPosition(Number.NaN, 1, 1)).toBeNaN();
    expect(branchPosition(1, Number.POSITIVE_INFINITY, 1)).toBeNaN();
    expect(branchPosition(1, 1, Number.NaN)).toBeNaN();
  });

  it('puts the twin threshold at the midpoint of a chain (0) and equal twins (1/2)', () => {
    expect(TWIN_BRANCH_POSITION).toBe(0.25);
  });
});

describe('separateTwins', () => {
  // P = 0; twins share s = 2 e1 (4) and each has a unit own part on its own axis.
  const s = at({ 1: 2 });
  const twinPoints = [at({}), plus(s, at({ 2: 1 })), plus(s, at({ 3: 1 })), plus(s, at({ 4: 1 }))];

  it('moves a twin hung under its twin up to their parent', () => {
    const parent = [-1, 0, 1];
    const moves = separateTwins(parent, squaredDistance(twinPoints.slice(0, 3)), anyParent);
    expect(parent).toEqual([-1, 0, 0]);
    // Position of B under A with respect to P: (2 + 5 - 5) / 4 = 1/2.
    expect(moves).toEqual([{ child: 2, from: 1, to: 0, position: 0.5 }]);
  });

  it('moves a chain of three twins P -> A -> B -> C to three siblings under P', () => {
    const parent = [-1, 0, 1, 2];
    const moves = separateTwins(parent, squaredDistance(twinPoints), anyParent);
    expect(parent).toEqual([-1, 0, 0, 0]);
    // B is settled first; C then hangs under B, whose parent is now P, and moves there.
    expect(moves).toEqual([
      { child: 2, from: 1, to: 0, position: 0.5 },
      { child: 3, from: 2, to: 0, position: 0.5 },
    ]);
  });

  it('stops at the twins parent: it does not lift them on to the grandparent', () => {
    // G = 0, P = 2 e5, A = P + s + e2, B = P + s + e3; forest G -> P -> A -> B.
    // B to P: position 1/2. B to G from P: d(P,B) = 5, d(P,G) = 4, d(B,G) = 9: (5 + 4 - 9) / 10 = 0.
    const p = at({ 5: 2 });
    const points = [at({}), p, plus(p, s, at({ 2: 1 })), plus(p, s, at({ 3: 1 }))];
    const parent = [-1, 0, 1, 2];
    expect(separateTwins(parent, squaredDistance(points), anyParent)).toEqual([{ child: 3, from: 2, to: 1, position: 0.5 }]);
    expect(parent).toEqual([-1, 0, 1, 1]);
  });

  it('leaves a true chain P -> A -> B alone', () => {
    const parent = [-1, 0, 1];
    const chain = [at({}), at({ 1: 2 }), at({ 1: 2, 2: 1 })];
    expect(separateTwins(parent, squaredDistance(chain), anyParent)).toEqual([]);
    expect(parent).toEqual([-1, 0, 1]);
  });

  it('does not move a model under a parent that `allowed` rules out', () => {
    const parent = [-1, 0, 1];
    const notPUnderB = (p: number, c: number) => !(p === 0 && c === 2);
    expect(separateTwins(parent, squaredDistance(twinPoints.slice(0, 3)), notPUnderB)).toEqual([]);
    expect(parent).toEqual([-1, 0, 1]);
  });

  it('follows its threshold: twins with own parts 1 and 4 (position 0.2) move only below 0.2', () => {
    // Shared 3 e1 (9); A = own 2 e2 (4), B = own e3 (1): d(A,B) = 5, d(A,P) = 13, d(B,P) = 10.
    // B under A: position from A (5 + 13 - 10) / 10 = 0.8. A under B: from B (5 + 10 - 13) / 10 = 0.2.
    const points = [at({}), at({ 1: 3, 2: 2 }), at({ 1: 3, 3: 1 })];
    const d = squaredDistance(points);
    const bUnderA = [-1, 0, 1];
    expect(separateTwins(bUnderA, d, anyParent)).toEqual([{ child: 2, from: 1, to: 0, position: 0.8 }]);
    const aUnderB = [-1, 2, 0];
    expect(separateTwins(aUnderB, d, anyParent)).toEqual([]);
    expect(separateTwins(aUnderB, d, anyParent, 0.15)).toEqual([{ child: 1, from: 2, to: 0, position: 0.2 }]);
    expect(aUnderB).toEqual([-1, 0, 0]);
  });
});

describe('rerootTwinRoots', () => {
  // Z = 0 is the parent; twins R = Z + s + e2 and A = Z + s + e3 share s = 2 e1 (4); W = Z + 2 e4 is
  // Z's child on another task. The forest rooted the family at R: R -> A -> Z -> W.
  // ownR = (d(R,A) + d(R,Z) - d(A,Z)) / 2 = (2 + 5 - 5) / 2 = 1, ownA = 1, ownZ = (5 + 5 - 2) / 2 = 4:
  // Z's own part outweighs both and ownR / d(R,A) = ownA / d(R,A) = 1/2 > 1/4.
  const s = at({ 1: 2 });
  const points = [plus(s, at({ 2: 1 })), plus(s, at({ 3: 1 })), at({}), at({ 4: 2 })];
  const [R, A, Z, W] = [0, 1, 2, 3];

  it('re-roots a family the forest rooted at a twin at the twins parent', () => {
    const parent = [-1, R, A, Z];
    expect(rerootTwinRoots(parent, squaredDistance(points), anyParent)).toEqual([[R, Z]]);
    expect(parent).toEqual([Z, Z, -1, Z]);
    expect(parent[W]).toBe(Z);
  });

  it('leaves a chain R -> A -> Z alone, even with a long last step (A lies between R and Z)', () => {
    // R = 0, A = e1, Z = A + 3 e2: ownR = (1 + 10 - 9) / 2 = 1, ownA = 0, ownZ = 9: ownA / d(R,A) = 0.
    const chain = [at({}), at({ 1: 1 }), at({ 1: 1, 2: 3 })];
    const parent = [-1, 0, 1];
    expect(rerootTwinRoots(parent, squaredDistance(chain), anyParent)).toEqual([]);
    expect(parent).toEqual([-1, 0, 1]);
  });

  it('leaves twins alone when the third model is their child (its own part is smaller)', () => {
    // Twins R, A of an absent parent at 0 (own parts 4 each, orthogonal), Z = A + e3: d(R,A) = 8,
    // d(R,Z) = 9, d(A,Z) = 1: ownR = 8, ownA = 0, ownZ = 1.
    const pts = [at({ 1: 2 }), at({ 2: 2 }), at({ 2: 2, 3: 1 })];
    const parent = [-1, 0, 1];
    expect(rerootTwinRoots(parent, squaredDistance(pts), anyParent)).toEqual([]);
    expect(parent).toEqual([-1, 0, 1]);
  });

  it('does not re-root where `allowed` forbids Z as the parent of R', () => {
    const parent = [-1, R, A, Z];
    expect(rerootTwinRoots(parent, squaredDistance(points), (p, c) => !(p === Z && c === R))).toEqual([]);
    expect(parent).toEqual([-1, R, A, Z]);
  });
});

describe('parentMayBeMissing', () => {
  it('puts the flag at the midpoint of a true parent (share 0) and a sibling (share 1/2)', () => {
    expect(OFF_PATH_SHARE).toBe(0.25);
  });

  it('is true for a sibling standing in for a missing parent (siblings on orthogonal tasks)', () => {
    // Missing M = 0; the stand-in p = e1, c = e2, its other siblings e3 and e4 (all unit steps).
    // Share of each z: (d(p,c) + d(p,z) - d(c,z)) / (2 d(p,c)) = (2 + 2 - 2) / 4 = 1/2 > 1/4.
    const d = squaredDistance([at({ 1: 1 }), at({ 2: 1 }), at({ 3: 1 }), at({ 4: 1 })]);
    expect(parentMayBeMissing(0, 1, [2, 3], d)).toBe(true);
    expect(parentMayBeMissing(0, 1, [2], d)).toBe(true);
  });

  it('is false for the true parent with children on orthogonal tasks and one twin of c', () => {
    // P = 0, c = e1 + e2, its twin t = e1 + e3 (shared e1), x = e4, y = e5.
    // Shares: t (2 + 2 - 2) / 4 = 1/2; x (2 + 1 - 3) / 4 = 0; y 0. Lower median of [0, 0, 1/2] = 0.
    const d = squaredDistance([at({}), at({ 1: 1, 2: 1 }), at({ 1: 1, 3: 1 }), at({ 4: 1 }), at({ 5: 1 })]);
    expect(parentMayBeMissing(0, 1, [2, 3, 4], d)).toBe(false);
    // Lower median of [0, 1/2] is 0: still the parent.
    expect(parentMayBeMissing(0, 1, [2, 3], d)).toBe(false);
    // Documented: with c's twin as the only other child, distances cannot tell (share 1/2): flagged.
    expect(parentMayBeMissing(0, 1, [2], d)).toBe(true);
  });

  it('is false with no siblings, and ignores siblings whose share is undefined', () => {
    const d = squaredDistance([at({ 1: 1 }), at({ 2: 1 })]);
    expect(parentMayBeMissing(0, 1, [], d)).toBe(false);
    const nan = (a: number, b: number) => (a === 2 || b === 2 ? Number.NaN : d(a, b));
    expect(parentMayBeMissing(0, 1, [2], nan)).toBe(false);
  });
});
