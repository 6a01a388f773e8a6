import { describe, it, expect } from 'vitest';
import { buildFamilyTree } from '../../../src/lineage/tree/build.js';
import type { PairScores } from '../../../src/lineage/tree/pair-scores.js';
import { treeEdgeAccuracy } from '../../../src/lineage/tree/accuracy.js';

/** Pair scores from a symmetric distance table: score = -distance, self-scores 0. */
function pairs(ids: string[], dist: number[][], weightDist: number[][], kurt: number[], asym?: number[][]): PairScores {
  const n = ids.length;
  return {
    models: ids.map((id) => ({ id, file: `${id}.safetensors` })),
    n,
    method: 'direct-l1',
    alpha: 0.01,
    layer: 'penultimate',
    score: new Float64Array(dist.flatMap((row, p) => row.map((d, c) => -d + (asym ? asym[p][c] : 0)))),
    weightDistance: new Float64Array(weightDist.flat()),
    kurtosis: kurt.map((k) => new Map([['w', k]])),
    incompatible: [],
  };
}

const DIST = [
  [0, 1, 1],
  [1, 0, 2],
  [1, 2, 0],
];
const NEAR = DIST.map((r) => r.map((d) => d * 0.1));

describe('buildFamilyTree', () => {
  it('places and orients a parent with two children; confidences follow the documented softmax', () => {
    const tree = buildFamilyTree(pairs(['p', 'c1', 'c2'], DIST, NEAR, [2, 2.2, 2.4]), { direction: { kurtosis: 1 }, confidenceTemperature: 0.1 });
    expect(tree.roots).toEqual(['p']);
    expect(tree.edges.map((e) => `${e.parent}->${e.child}`)).toEqual(['p->c1', 'p->c2']);
    expect(tree.scale).toBe(1);
    // By hand: dir = tanh(raw / rms) over the three pairs; w(q->c) = -dist + 0.1 * 1 * dir;
    // c1's choices are p and c2 (it has no descendants); temperature 0.1 * scale.
    const raw = { pc1: Math.log(1.1), pc2: Math.log(1.2), c1c2: Math.log(2.4 / 2.2) };
    const rms = Math.sqrt((raw.pc1 ** 2 + raw.pc2 ** 2 + raw.c1c2 ** 2) / 3);
    const wp = -1 + 0.1 * Math.tanh(raw.pc1 / rms);
    const wc2 = -2 - 0.1 * Math.tanh(raw.c1c2 / rms);
    const expected = 1 / (1 + Math.exp((wc2 - wp) / 0.1));
    expect(tree.edges[0].confidence).toBeCloseTo(expected, 12);
    expect(tree.edges[0].score).toBe(-1);
  });

  it('reverses the tree when the evidence says the leaves are older', () => {
    const tree = buildFamilyTree(pairs(['p', 'c1', 'c2'], DIST, NEAR, [2.4, 2.2, 2]), { direction: { kurtosis: 1 } });
    // c2 has the lowest kurtosis: it becomes the root; placement (p in the middle) is unchanged.
    expect(tree.roots).toEqual(['c2']);
    expect(tree.edges.map((e) => `${e.parent}->${e.child}`).sort()).toEqual(['c2->p', 'p->c1']);
  });

  it('uses fit evidence from asymmetric scores', () => {
    // The hub sits in the middle (index 1); as a parent it scores 0.05 higher than the reverse.
    const line = [
      [0, 1, 2],
      [1, 0, 1],
      [2, 1, 0],
    ];
    const asym = [
      [0, 0, 0],
      [0.05, 0, 0.05],
      [0, 0, 0],
    ];
    const near = line.map((r) => r.map((d) => d * 0.1));
    expect(buildFamilyTree(pairs(['x', 'hub', 'y'], line, near, [3, 3, 3], asym), { direction: { fit: 1 } }).roots).toEqual(['hub']);
    // Without direction evidence the orientation is a tie, broken towards the first node.
    expect(buildFamilyTree(pairs(['x', 'hub', 'y'], line, near, [3, 3, 3], asym), { direction: {} }).roots).toEqual(['x']);
  });

  const FOUR = [
    [0, 1, 5, 5],
    [1, 0, 5, 5],
    [5, 5, 0, 1],
    [5, 5, 1, 0],
  ];
  it('splits families by relative weight distance, by a score threshold, or not at all', () => {
    const wd = FOUR.map((r) => r.map((d) => (d === 5 ? 1.4 : d * 0.1)));
    const ids = ['a', 'b', 'c', 'd'];
    const auto = buildFamilyTree(pairs(ids, FOUR, wd, [2, 2.5, 2, 2.5]), { direction: { kurtosis: 1 } });
    expect(auto.roots).toEqual(['a', 'c']);
    expect(auto.edges.map((e) => `${e.parent}->${e.child}`)).toEqual(['a->b', 'c->d']);
    expect(
      treeEdgeAccuracy(auto, [
        { id: 'a', parent: null },
        { id: 'b', parent: 'a' },
        { id: 'c', parent: null },
        { id: 'd', parent: 'c' },
      ]).accuracy,
    ).toBe(1);

    const allNear = FOUR.map((r) => r.map((d) => d * 0.01));
    expect(buildFamilyTree(pairs(ids, FOUR, allNear, [2, 2.5, 2, 2.5])).roots).toHaveLength(1);
    const threshold = buildFamilyTree(pairs(ids, FOUR, allNear, [2, 2.5, 2, 2.5]), { rootThreshold: -3, direction: { kurtosis: 1 } });
    expect(threshold.roots).toEqual(['a', 'c']);
    expect(threshold.rootRule).toEqual({ rule: 'threshold', threshold: -3 });
    // With a threshold, being a root is one of the child's choices: w(a->b) = -1 + 0.1*dir vs -3
    // (root) and -5 (others), temperature 0.2: the confidence stays below 1 but near it.
    expect(threshold.edges[0].confidence).toBeGreaterThan(0.99);
    expect(threshold.edges[0].confidence).toBeLessThan(1);
    expect(buildFamilyTree(pairs(ids, FOUR, wd, [2, 2.5, 2, 2.5]), { rootThreshold: 'none' }).roots).toHaveLength(1);
  });
});

describe('treeEdgeAccuracy', () => {
  it('counts placement and direction, reversals and roots', () => {
    const predicted = {
      nodes: ['r', 'a', 'b', 'x'].map((id) => ({ id, file: id })),
      edges: [
        { parent: 'r', child: 'a', score: 0, confidence: 1 },
        { parent: 'b', child: 'r', score: 0, confidence: 1 },
      ],
      roots: ['b', 'x'],
    };
    const truth = [
      { id: 'r', parent: null },
      { id: 'a', parent: 'r' },
      { id: 'b', parent: 'r' },
      { id: 'x', parent: 'missing' },
      { id: 'not-in-tree', parent: 'r' },
    ];
    expect(treeEdgeAccuracy(predicted, truth)).toEqual({
      correct: 1,
      total: 2,
      accuracy: 0.5,
      reversed: 1,
      undirectedAccuracy: 1,
      rootsCorrect: 1,
      rootsTotal: 2,
    });
  });
});
