import { describe, it, expect, beforeAll, afterAll, afterEach, vi } from 'vitest';
import { Command } from 'commander';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSafetensors } from '../../src/formats/safetensors.js';
import { writeNpy } from '../../src/formats/npy.js';
import { registerTree } from '../../src/cli/commands/tree.js';
import { registerAncestors } from '../../src/cli/commands/ancestors.js';
import { buildFamily, probe, SMALL_FAMILY } from '../lineage/tree/synthetic-family.js';

const dir = mkdtempSync(join(tmpdir(), 'lineage-tree-cli-'));
const zoo = join(dir, 'zoo');
const SPECS = [...SMALL_FAMILY, { id: 'stranger', parent: null, seed: 977 }];

/** Runs the commands in-process; returns stdout, stderr and the thrown error, if any. */
async function run(...args: string[]): Promise<{ stdout: string; stderr: string; error?: Error }> {
  const program = new Command().exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
  registerTree(program);
  registerAncestors(program);
  let stdout = '';
  let stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((stdout += String(chunk)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => ((stderr += String(chunk)), true));
  try {
    await program.parseAsync(['node', 'lineage', ...args]);
    return { stdout, stderr };
  } catch (error) {
    return { stdout, stderr, error: error as Error };
  } finally {
    vi.restoreAllMocks();
  }
}

afterEach(() => vi.restoreAllMocks());
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(async () => {
  mkdirSync(join(zoo, 'models'), { recursive: true });
  // Manifest order scrambled so that input order cannot explain a right answer.
  const order = ['b1', 'stranger', 'a', 'root', 'a1', 'b'];
  const models = buildFamily(SPECS);
  for (const m of models) await writeSafetensors(join(zoo, 'models', `${m.id}.safetensors`), m.weights);
  await writeNpy(join(zoo, 'probes', 'digits.npy'), probe(48));
  const manifest = {
    zoo: { name: 'tiny', scale: 1 },
    models: order.map((id) => {
      const s = SPECS.find((x) => x.id === id)!;
      return { id, file: `models/${id}.safetensors`, arch: 'mlp', parent: s.parent, generation: 0, task: 'digits', setting: 'full' };
    }),
    probes: { digits: 'probes/digits.npy' },
  };
  writeFileSync(join(zoo, 'manifest.json'), JSON.stringify(manifest));
});

describe('lineage tree', () => {
  it('--zoo --json prints exactly nodes, edges, roots with manifest ids and the accuracy, also on stderr; writes reports', { timeout: 60_000 }, async () => {
    const html = join(dir, 'report.html');
    const r = await run('tree', '--zoo', zoo, '--json', '--out', html);
    expect(r.error).toBeUndefined();
    const doc = JSON.parse(r.stdout) as {
      nodes: { id: string; file: string }[];
      edges: { parent: string; child: string; score: number; confidence: number }[];
      roots: string[];
    };
    expect(Object.keys(doc)).toEqual(['version', 'method', 'nodes', 'edges', 'roots', 'incompatible', 'excluded', 'accuracy']);
    expect((doc as unknown as { accuracy: unknown }).accuracy).toMatchObject({ correct: 4, total: 4, reversed: 0, rootsCorrect: 2, rootsTotal: 2 });
    expect((doc as unknown as { excluded: unknown[] }).excluded).toEqual([]);
    expect(doc.nodes.map((n) => n.id)).toEqual(['b1', 'stranger', 'a', 'root', 'a1', 'b']);
    expect(doc.nodes[0].file).toBe(join(zoo, 'models', 'b1.safetensors'));
    expect(Object.keys(doc.edges[0]).sort()).toEqual(['child', 'confidence', 'p_value', 'parent', 'relation', 'score']);
    expect(doc.edges.map((e) => `${e.parent}->${e.child}`).sort()).toEqual(['a->a1', 'b->b1', 'root->a', 'root->b']);
    expect([...doc.roots].sort()).toEqual(['root', 'stranger']);
    expect(r.stderr).toContain('edge accuracy vs manifest: 4/4 (100.0%)');
    const page = readFileSync(html, 'utf8');
    expect(page.match(/data-node-id=/g)).toHaveLength(6);
    expect(page.match(/data-edge=/g)).toHaveLength(4);
  });

  it('prints a readable tree for files, and writes Markdown and JSON reports', { timeout: 60_000 }, async () => {
    const files = ['root', 'a', 'b'].map((id) => join(zoo, 'models', `${id}.safetensors`));
    const md = join(dir, 'report.md');
    const r = await run('tree', ...files, '--method', 'weights-l2', '--out', md);
    expect(r.error).toBeUndefined();
    expect(r.stdout).toMatch(/method weights-l2; 3 models, 1 root/);
    expect(r.stdout).toContain(`${files[0]}  [root]`);
    expect(readFileSync(md, 'utf8')).toContain('## Per-layer origins\n\nNot computed.');
    const json = join(dir, 'report.json');
    expect((await run('tree', ...files, '--method', 'weights-l2', '--out', json, '--json')).error).toBeUndefined();
    const doc = JSON.parse(readFileSync(json, 'utf8')) as { tree: { edges: unknown[] }; layerOrigins: null; rankings: unknown[] };
    expect(doc.tree.edges).toHaveLength(2);
    expect(doc.layerOrigins).toBeNull();
    expect(doc.rankings).toHaveLength(3);
  });

  it('rejects bad calls with a clear message', async () => {
    const f = join(zoo, 'models', 'a.safetensors');
    expect((await run('tree')).error?.message).toMatch(/give model files or --zoo/);
    expect((await run('tree', f, '--zoo', zoo)).error?.message).toMatch(/not both/);
    expect((await run('tree', f, join(zoo, 'models', 'b.safetensors'), '--method', 'taylor-l1')).error?.message).toMatch(/taylor-l1 needs --probe/);
    expect((await run('tree', f, f, '--method', 'weights-l2')).error?.message).toMatch(/listed twice/);
    expect((await run('tree', f, '--method', 'weights-l2', '--direction', 'age')).error?.message).toMatch(/unknown direction heuristic 'age'/);
    expect((await run('tree', f, '--method', 'weights-l2', '--out', join(dir, 'r.pdf'))).error?.message).toMatch(/\.html, \.md, \.json or \.graphml/);
    expect((await run('tree', '--zoo', join(dir, 'nowhere'))).error?.message).toMatch(/manifest\.json: cannot read the zoo manifest \(ENOENT\)/);
    const bad = join(dir, 'bad-zoo');
    mkdirSync(bad, { recursive: true });
    writeFileSync(join(bad, 'manifest.json'), JSON.stringify({ models: [{ id: 'x', file: '../../etc/passwd', parent: null }], probes: {} }));
    expect((await run('tree', '--zoo', bad)).error?.message).toMatch(/points outside the zoo folder/);
    writeFileSync(join(bad, 'manifest.json'), JSON.stringify({ models: [{ id: 'x', file: 'x.safetensors', parent: 'ghost' }], probes: {} }));
    expect((await run('tree', '--zoo', bad)).error?.message).toMatch(/parent ghost is not in the manifest/);
  });
});

describe('lineage ancestors', () => {
  it('classifies candidates, --json', { timeout: 60_000 }, async () => {
    const f = (id: string) => join(zoo, 'models', `${id}.safetensors`);
    const r = await run(
      'ancestors',
      f('a1'),
      '--candidates',
      f('stranger'),
      f('root'),
      f('b'),
      f('b1'),
      f('a'),
      '--probe',
      join(zoo, 'probes', 'digits.npy'),
      '--json',
    );
    expect(r.error).toBeUndefined();
    const doc = JSON.parse(r.stdout) as { child: string; candidates: { id: string; relation: string; generations: number | null }[] };
    expect(doc.child).toBe(f('a1'));
    expect(doc.candidates.map((c) => [c.id, c.relation])).toEqual([
      [f('a'), 'parent'],
      [f('root'), 'grandparent'],
      [f('b'), 'unrelated'],
      [f('b1'), 'unrelated'],
      [f('stranger'), 'unrelated'],
    ]);
    const human = await run('ancestors', f('a1'), '--candidates', f('root'), f('a'), '--method', 'weights-l2');
    expect(human.stdout).toMatch(/a\.safetensors\s+parent\s+1\s+yes/);
    expect((await run('ancestors', f('a1'), '--candidates', f('a1'), '--method', 'weights-l2')).error?.message).toMatch(/listed twice/);
  });
});
