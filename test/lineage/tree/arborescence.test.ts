import { describe, it, expect } from 'vitest';
import { chuLiuEdmonds, maxSpanningForest, type WeightedEdge } from '../../../src/lineage/tree/arborescence.js';

/** Every assignment of parents (or -1) that is acyclic; the reference optimum by enumeration. */
function bruteForce(
  n: number,
  edges: readonly WeightedEdge[],
  rootWeight: ((v: number) => number) | undefined,
  allowedRoots: ReadonlySet<number>,
): { weight: number; parent: number[] } | undefined {
  const incoming: { from: number; weight: number }[][] = Array.from({ length: n }, () => []);
  for (const e of edges) if (e.from !== e.to) incoming[e.to].push({ from: e.from, weight: e.weight });
  let best: { weight: number; parent: number[] } | undefined;
  const parent = new Array<number>(n).fill(-1);
  const acyclic = (): boolean => {
    for (let v = 0; v < n; v++) {
      let u = v;
      for (let steps = 0; u !== -1; steps++) {
        if (steps > n) return false;
        u = parent[u];
      }
    }
    return true;
  };
  const visit = (v: number, weight: number, rootCount: number): void => {
    if (v === n) {
      if (rootWeight === undefined && rootCount !== 1) return;
      if (!acyclic()) return;
      if (!best || weight > best.weight + 1e-12) best = { weight, parent: [...parent] };
      return;
    }
    if (allowedRoots.has(v)) {
      parent[v] = -1;
      visit(v + 1, weight + (rootWeight ? rootWeight(v) : 0), rootCount + 1);
    }
    for (const e of incoming[v]) {
      parent[v] = e.from;
      visit(v + 1, weight + e.weight, rootCount);
    }
    parent[v] = -1;
  };
  visit(0, 0, 0);
  return best;
}

/** Deterministic pseudo-random numbers (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomGraph(random: () => number, n: number, density: number): WeightedEdge[] {
  const edges: WeightedEdge[] = [];
  for (let a = 0; a < n; a++) {
    for (let b = 0; b < n; b++) {
      if (a !== b && random() < density) edges.push({ from: a, to: b, weight: Math.round((random() * 20 - 5) * 1000) / 1000 });
    }
  }
  return edges;
}

function forestWeight(parent: readonly number[], edges: readonly WeightedEdge[], rootWeight: (v: number) => number): number {
  let total = 0;
  parent.forEach((p, v) => {
    if (p === -1) total += rootWeight(v);
    else total += Math.max(...edges.filter((e) => e.from === p && e.to === v).map((e) => e.weight));
  });
  return total;
}

describe('chuLiuEdmonds', () => {
  it('solves the classic cycle-contraction example (root 0)', () => {
    // Hand-worked: best incoming edges 2->1 (10), 1->2 (9), 1->3 (7) form the cycle 1<->2; entering
    // it from the root costs 0->1: 5-10 = -5 or 0->2: 1-9 = -8 (2->3 into 3 is worse than 1->3),
    // so the cycle is broken at 1: tree 0->1, 1->2, 1->3, weight 5 + 9 + 7 = 21.
    const edges: WeightedEdge[] = [
      { from: 0, to: 1, weight: 5 },
      { from: 0, to: 2, weight: 1 },
      { from: 0, to: 3, weight: 1 },
      { from: 1, to: 2, weight: 9 },
      { from: 2, to: 1, weight: 10 },
      { from: 1, to: 3, weight: 7 },
      { from: 2, to: 3, weight: 3 },
      { from: 3, to: 2, weight: 2 },
    ];
    const t = chuLiuEdmonds(4, edges, { roots: [0] });
    expect(t.parent).toEqual([-1, 0, 1, 1]);
    expect(t.weight).toBe(21);
    expect(t.roots).toEqual([0]);
  });

  it('contracts nested cycles (a cycle through a contracted cycle)', () => {
    // 1<->2 is a 2-cycle (weights 10, 10); after contraction, {1,2}<->3 is again a cycle
    // (3->1: 12-10 = 2 beats 0->1/0->2: 1-10 = -9). By hand the best tree from 0 enters at 3:
    // 0->3 (1), 3->1 (12), 1->2 (10) = 23; entering at 1 gives 0->1 (1) + 1->2 (10) + 2->3 (8) = 19.
    const edges: WeightedEdge[] = [
      { from: 0, to: 1, weight: 1 },
      { from: 0, to: 2, weight: 1 },
      { from: 0, to: 3, weight: 1 },
      { from: 1, to: 2, weight: 10 },
      { from: 2, to: 1, weight: 10 },
      { from: 2, to: 3, weight: 8 },
      { from: 3, to: 1, weight: 12 },
    ];
    const t = chuLiuEdmonds(4, edges, { roots: [0] });
    expect(t.weight).toBe(23);
    expect(t.parent).toEqual([-1, 3, 1, 0]);
  });

  it('chooses the best root when any node may be the root', () => {
    // A chain 2->0->1 with heavy edges; reversing any edge costs more.
    const edges: WeightedEdge[] = [
      { from: 2, to: 0, weight: 5 },
      { from: 0, to: 2, weight: 1 },
      { from: 0, to: 1, weight: 4 },
      { from: 1, to: 0, weight: 2 },
    ];
    const t = chuLiuEdmonds(3, edges);
    expect(t.roots).toEqual([2]);
    expect(t.parent).toEqual([2, 0, -1]);
    expect(t.weight).toBe(9);
  });

  it('throws when no spanning arborescence exists', () => {
    expect(() => chuLiuEdmonds(3, [{ from: 0, to: 1, weight: 1 }], { roots: [0] })).toThrow(/no spanning arborescence/);
    expect(() => chuLiuEdmonds(2, [{ from: 0, to: 2, weight: 1 }])).toThrow(/outside/);
    expect(() => chuLiuEdmonds(2, [{ from: 0, to: 1, weight: Number.NaN }])).toThrow(/non-finite/);
  });

  it('matches brute force on 300 random graphs with n <= 6', () => {
    const random = rng(42);
    let checked = 0;
    for (let trial = 0; trial < 300; trial++) {
      const n = 2 + Math.floor(random() * 5);
      const edges = randomGraph(random, n, 0.3 + random() * 0.7);
      const allowed = new Set<number>(Array.from({ length: n }, (_, i) => i).filter(() => random() < 0.6));
      if (allowed.size === 0) allowed.add(0);
      const want = bruteForce(n, edges, undefined, allowed);
      if (!want) {
        expect(() => chuLiuEdmonds(n, edges, { roots: allowed })).toThrow();
        continue;
      }
      const got = chuLiuEdmonds(n, edges, { roots: allowed });
      expect(got.weight).toBeCloseTo(want.weight, 9);
      expect(got.roots.length).toBe(1);
      expect(allowed.has(got.roots[0])).toBe(true);
      expect(forestWeight(got.parent, edges, () => 0)).toBeCloseTo(want.weight, 9);
      checked++;
    }
    expect(checked).toBeGreaterThan(150);
  });
});

describe('maxSpanningForest', () => {
  it('makes a node a root when no incoming edge beats the threshold', () => {
    // Two families {0,1} and {2,3} joined only by weak edges (-10) below the threshold (-5).
    const edges: WeightedEdge[] = [
      { from: 0, to: 1, weight: -1 },
      { from: 1, to: 0, weight: -1.5 },
      { from: 2, to: 3, weight: -2 },
      { from: 3, to: 2, weight: -1 },
      { from: 1, to: 2, weight: -10 },
      { from: 2, to: 1, weight: -10 },
    ];
    const f = maxSpanningForest(4, edges, { rootWeight: -5 });
    expect(f.roots).toEqual([0, 3]);
    expect(f.parent).toEqual([-1, 0, 3, -1]);
  });

  it('matches brute force (root weights included) on 300 random graphs with n <= 6', () => {
    const random = rng(7);
    for (let trial = 0; trial < 300; trial++) {
      const n = 1 + Math.floor(random() * 6);
      const edges = randomGraph(random, n, random());
      const perNode = Array.from({ length: n }, () => Math.round((random() * 20 - 8) * 1000) / 1000);
      const rootWeight = (v: number) => perNode[v];
      const allowed = new Set(Array.from({ length: n }, (_, i) => i));
      const want = bruteForce(n, edges, rootWeight, allowed)!;
      const got = maxSpanningForest(n, edges, { rootWeight });
      const gotTotal = got.weight + got.roots.reduce((a, r) => a + perNode[r], 0);
      expect(gotTotal).toBeCloseTo(want.weight, 9);
      expect(forestWeight(got.parent, edges, rootWeight)).toBeCloseTo(want.weight, 9);
    }
  });
});
