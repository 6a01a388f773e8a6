/**
 * `lineage tree` end to end on fixtures/tree-twins: ten MLPs trained and fine-tuned in PyTorch
 * (scripts/make_tree_fixtures.py), with three pairs of same-task twins under the root P and a pair
 * of twins under P.rot90.s0 (issue 18). The true parents come from the fixture's manifest.json,
 * never from the code under test. Runs the built CLI (needs `tsc` to have built dist/).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lineage } from './run-cli.js';

const FIXTURE = join(import.meta.dirname, '..', '..', 'fixtures', 'tree-twins');

interface ManifestModel {
  id: string;
  file: string;
  parent: string | null;
}
interface TreeEdge {
  parent: string;
  child: string;
  parent_may_be_missing?: true;
}
interface TreeJson {
  nodes: { id: string; file: string }[];
  edges: TreeEdge[];
  roots: string[];
  accuracy?: { correct: number; total: number; rootsCorrect: number; rootsTotal: number };
}

const MODELS = (JSON.parse(readFileSync(join(FIXTURE, 'manifest.json'), 'utf8')) as { models: ManifestModel[] }).models;
const TRUE_PARENT = new Map(MODELS.map((m) => [m.id, m.parent]));
const TRUE_EDGES = MODELS.flatMap((m) => (m.parent ? [`${m.parent}->${m.id}`] : [])).sort();
const ROOT = MODELS.filter((m) => m.parent === null).map((m) => m.id);

const edgeNames = (tree: TreeJson) => tree.edges.map((e) => `${e.parent}->${e.child}`).sort();

/** `lineage tree ARGS --json --no-p-value --no-cache` (fresh comparisons, nothing written to ~/.cache). */
async function tree(...args: string[]): Promise<TreeJson> {
  const r = await lineage('tree', ...args, '--json', '--no-p-value', '--no-cache', '--no-progress');
  expect(r.stderr).not.toMatch(/error/i);
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as TreeJson;
}

describe('lineage tree on same-task twins (fixtures/tree-twins)', () => {
  it('the fixture is what the test assumes: one root P with six children, three of them twins pairs', () => {
    expect(MODELS).toHaveLength(10);
    expect(ROOT).toEqual(['P']);
    expect(MODELS.filter((m) => m.parent === 'P')).toHaveLength(6);
  });

  it('--zoo recovers every manifest edge with its direction, P as the only root, no flag on P -> child', { timeout: 120_000 }, async () => {
    const doc = await tree('--zoo', FIXTURE);
    expect(edgeNames(doc)).toEqual(TRUE_EDGES);
    expect(doc.roots).toEqual(ROOT);
    const fromP = doc.edges.filter((e) => e.parent === 'P');
    expect(fromP.map((e) => e.child).sort()).toEqual(
      MODELS.filter((m) => m.parent === 'P')
        .map((m) => m.id)
        .sort(),
    );
    for (const e of fromP) expect(e.parent_may_be_missing, `P -> ${e.child}`).toBeUndefined();
    // The JSON's accuracy counts what this test checked edge by edge against the manifest.
    expect(doc.accuracy).toMatchObject({ correct: TRUE_EDGES.length, total: TRUE_EDGES.length, rootsCorrect: 1, rootsTotal: 1 });
  });

  it('--method weights-l2 gives the same edges and root as the default method', { timeout: 120_000 }, async () => {
    const byDefault = await tree('--zoo', FIXTURE);
    const l2 = await tree('--zoo', FIXTURE, '--method', 'weights-l2');
    expect(edgeNames(l2)).toEqual(edgeNames(byDefault));
    expect(l2.roots).toEqual(byDefault.roots);
    expect(edgeNames(l2)).toEqual(TRUE_EDGES);
  });

  describe('with the root P left out (model files listed, ids are the paths as given)', () => {
    const listed = MODELS.filter((m) => m.parent !== null);
    const idOf = new Map(listed.map((m) => [join(FIXTURE, m.file), m.id]));
    let result: Promise<TreeJson> | undefined;
    const withoutRoot = () => (result ??= tree(...idOf.keys()));

    it('hangs no child under a model other than its true parent without flagging parent_may_be_missing', { timeout: 120_000 }, async () => {
      const doc = await withoutRoot();
      expect(doc.nodes.map((n) => n.id).sort()).toEqual([...idOf.keys()].sort());
      const roots = new Set(doc.roots);
      for (const e of doc.edges) {
        const child = idOf.get(e.child)!;
        const parent = idOf.get(e.parent)!;
        if (TRUE_PARENT.get(child) === parent || roots.has(e.child)) continue;
        expect(e.parent_may_be_missing, `${parent} -> ${child} (true parent ${TRUE_PARENT.get(child)})`).toBe(true);
      }
    });

    // Fails at the time of writing: the twin pass re-roots the family at a model of P's generation
    // (P.invert.s0 with weights-cos) and then lifts all three children of P.rot90.s0, which is
    // present, up to that stand-in (all edges flagged). Without the twin pass the forest keeps two
    // of the three under P.rot90.s0. Left for the lead to decide (report of issue 18's tests).
    it.fails('keeps the present parent P.rot90.s0 of its three children', { timeout: 120_000 }, async () => {
      const doc = await withoutRoot();
      const children = MODELS.filter((m) => m.parent === 'P.rot90.s0').map((m) => m.id);
      expect(children).toHaveLength(3);
      const parentOf = new Map(doc.edges.map((e) => [idOf.get(e.child), idOf.get(e.parent)]));
      for (const c of children) expect(parentOf.get(c), c).toBe('P.rot90.s0');
    });
  });
});
