import { describe, it, expect } from 'vitest';
import { recoverTree } from '../../../src/lineage/tree/recover.js';
import { rankAncestors } from '../../../src/lineage/tree/ancestors.js';
import { treeEdgeAccuracy } from '../../../src/lineage/tree/accuracy.js';
import { buildFamily, probe, SMALL_FAMILY, type FamilySpec } from './synthetic-family.js';

// Truth comes from how the family was built (each descendant = its parent + a seeded perturbation);
// models are passed in a scrambled order so that no tie-break can follow the input order.
const UNRELATED: FamilySpec = { id: 'stranger', parent: null, seed: 977 };
const SPECS = [...SMALL_FAMILY, UNRELATED];
const ORDER = ['b1', 'stranger', 'a', 'root', 'a1', 'b'];

function scrambled(specs: readonly FamilySpec[], order: readonly string[]) {
  const models = buildFamily(specs);
  return order.map((id) => models.find((m) => m.id === id)!);
}

function edgeSet(edges: readonly { parent: string; child: string }[]): string[] {
  return edges.map((e) => `${e.parent}->${e.child}`).sort();
}

describe('recoverTree on a synthetic MLP family', () => {
  const x = probe(48);

  it('recovers placement, direction and roots with taylor-l1 and centrality', { timeout: 60_000 }, async () => {
    const tree = await recoverTree(scrambled(SPECS, ORDER), { probe: x, method: 'taylor-l1' });
    expect(edgeSet(tree.edges)).toEqual(['a->a1', 'b->b1', 'root->a', 'root->b']);
    expect([...tree.roots].sort()).toEqual(['root', 'stranger']);
    expect(tree.nodes.map((n) => n.id)).toEqual(ORDER);
    expect(treeEdgeAccuracy(tree, SPECS)).toMatchObject({ correct: 4, total: 4, accuracy: 1, rootsCorrect: 2, rootsTotal: 2 });
    for (const e of tree.edges) {
      expect(e.confidence).toBeGreaterThan(0.5);
      expect(e.confidence).toBeLessThanOrEqual(1);
      // The edge's score is the method's score of that parent for that child, as in the matrix.
      const c = ORDER.indexOf(e.child);
      expect(tree.scores[c][ORDER.indexOf(e.parent)]).toBe(e.score);
    }
    // The stranger has independent weights: relative weight distance near sqrt(2), no link.
    expect(tree.rootRule).toEqual({ rule: 'related-distance', relatedDistance: 1 });
    expect(tree.scores[ORDER.indexOf('a')][ORDER.indexOf('a')]).toBeNull();
  });

  it('orients the same family with a symmetric method (weights-l2, no probe)', async () => {
    const tree = await recoverTree(scrambled(SPECS, ORDER), { method: 'weights-l2' });
    expect(edgeSet(tree.edges)).toEqual(['a->a1', 'b->b1', 'root->a', 'root->b']);
  });

  it('puts every model in one tree with rootThreshold none', async () => {
    const tree = await recoverTree(scrambled(SPECS, ORDER), { method: 'weights-l2', rootThreshold: 'none' });
    expect(tree.roots).toHaveLength(1);
    expect(tree.edges).toHaveLength(5);
  });

  it('keeps incompatible models apart', async () => {
    const wide = buildFamily([{ id: 'wide', parent: null, seed: 5 }], [784, 64, 32, 10])[0];
    const tree = await recoverTree([...scrambled(SPECS, ORDER), wide], { method: 'weights-l2' });
    expect(tree.roots).toContain('wide');
    expect(tree.edges.some((e) => e.parent === 'wide' || e.child === 'wide')).toBe(false);
    expect(tree.incompatible.filter((i) => i.a === 'wide' || i.b === 'wide')).toHaveLength(6);
    expect(tree.incompatible[0].reason).toMatch(/shape/);
  });
});

describe('rankAncestors', () => {
  const x = probe(48);

  it('classifies parent, grandparent, relatives and strangers', { timeout: 60_000 }, async () => {
    const [child, ...candidates] = scrambled(SPECS, ['a1', 'b', 'stranger', 'root', 'b1', 'a']);
    const ranking = await rankAncestors(child, candidates, { probe: x });
    const byId = new Map(ranking.candidates.map((c) => [c.id, c]));
    expect(ranking.child).toBe('a1');
    expect(byId.get('a')).toMatchObject({ relation: 'parent', generations: 1, sameFamily: true });
    expect(byId.get('root')).toMatchObject({ relation: 'grandparent', generations: 2, sameFamily: true });
    expect(byId.get('b')).toMatchObject({ relation: 'unrelated', generations: null, sameFamily: true });
    expect(byId.get('b1')).toMatchObject({ relation: 'unrelated', generations: null, sameFamily: true });
    expect(byId.get('stranger')).toMatchObject({ relation: 'unrelated', generations: null, sameFamily: false });
    expect(ranking.candidates.slice(0, 2).map((c) => c.id)).toEqual(['a', 'root']);
  });

  it('finds a great-grandparent four generations up a chain', { timeout: 60_000 }, async () => {
    const chain: FamilySpec[] = [
      { id: 'g0', parent: null, seed: 21 },
      { id: 'g1', parent: 'g0', seed: 201, scale: 0.2 },
      { id: 'g2', parent: 'g1', seed: 202, scale: 0.2 },
      { id: 'g3', parent: 'g2', seed: 203, scale: 0.2 },
    ];
    const [child, ...candidates] = scrambled(chain, ['g3', 'g1', 'g0', 'g2']);
    // Centrality cannot orient a chain (its middle looks oldest); synthetic descendants are sums of
    // uniform perturbations, whose kurtosis rises every generation, so kurtosis orients it here.
    const ranking = await rankAncestors(child, candidates, { probe: x, direction: { kurtosis: 1 } });
    expect(ranking.candidates.map((c) => [c.id, c.relation, c.generations])).toEqual([
      ['g2', 'parent', 1],
      ['g1', 'grandparent', 2],
      ['g0', 'ancestor', 3],
    ]);
  });
});
