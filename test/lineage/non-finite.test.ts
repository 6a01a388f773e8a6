/**
 * NaN or infinite values in a child or a probe are refused (exit 1, naming the file and the
 * tensor) instead of giving NaN scores and "parent (none)" with exit 0; in `tree` (and among the
 * candidates of `ancestors` and `layers`) such a model is left out and reported, and the result is
 * built from the rest. Everything runs through the real CLI on files written here.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSafetensors } from '../../src/formats/safetensors.js';
import { writeNpy } from '../../src/formats/npy.js';
import { makeTensor, type Weights } from '../../src/tensor.js';
import { escapeRegExp, lineage } from '../cli/run-cli.js';
import { buildFamily, probe, SMALL_FAMILY } from './tree/synthetic-family.js';

const dir = mkdtempSync(join(tmpdir(), 'lineage-non-finite-'));
const zoo = join(dir, 'zoo');
const f = (name: string) => join(dir, name);
const model = (id: string) => join(zoo, 'models', `${id}.safetensors`);

/** `weights` with one value of `tensor` replaced. */
function spoiled(weights: Weights, tensor: string, index: number, value: number): Weights {
  const data = new Float32Array(weights.get(tensor)!.data as Float32Array);
  data[index] = value;
  return new Map([...weights, [tensor, makeTensor('float32', weights.get(tensor)!.shape, data)]]);
}

/** Exit 1 with exactly one line: `lineage: <file>: <problem>`. */
function expectRefused(r: { code: number; stdout: string; stderr: string }, file: string, problem: RegExp): void {
  expect(r.code, r.stderr).toBe(1);
  expect(r.stdout).toBe('');
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(new RegExp(`^lineage: ${escapeRegExp(file)}: `));
  expect(r.stderr).toMatch(problem);
}

beforeAll(async () => {
  // root -> a -> a1 -> broken, root -> b -> b1, and an unrelated stranger; broken gets a NaN. Without
  // broken, this is the zoo whose tree test/cli/tree-cli.test.ts checks against the truth.
  const specs = [...SMALL_FAMILY, { id: 'stranger', parent: null, seed: 977 }, { id: 'broken', parent: 'a1', seed: 105 }];
  const models = buildFamily(specs);
  mkdirSync(join(zoo, 'models'), { recursive: true });
  for (const m of models) {
    const weights = m.id === 'broken' ? spoiled(m.weights, 'fc2.weight', 7, Number.NaN) : m.weights;
    await writeSafetensors(model(m.id), weights);
  }
  const a = models.find((m) => m.id === 'a')!.weights;
  await writeSafetensors(f('child-nan.safetensors'), spoiled(a, 'fc1.bias', 3, Number.NaN));
  await writeSafetensors(f('child-inf.safetensors'), spoiled(a, 'fc2.weight', 0, Number.NEGATIVE_INFINITY));
  await writeNpy(f('probe.npy'), probe(16));
  const inf = probe(16);
  inf.data[5 * 784 + 100] = Number.POSITIVE_INFINITY;
  await writeNpy(f('probe-inf.npy'), inf);
  writeFileSync(
    join(zoo, 'manifest.json'),
    JSON.stringify({
      zoo: { name: 'nan', scale: 1 },
      models: models.map((m) => ({
        id: m.id,
        file: `models/${m.id}.safetensors`,
        arch: 'mlp',
        parent: specs.find((s) => s.id === m.id)!.parent,
        generation: 0,
        task: 'digits',
        setting: 'full',
      })),
      probes: {},
    }),
  );
});

describe('a child with NaN or infinite values is refused, naming the file and the tensor', () => {
  it('detect (feature and weight methods)', async () => {
    expectRefused(
      await lineage('detect', '--child', f('child-nan.safetensors'), '--parents', model('root'), model('b'), '--probe', f('probe.npy')),
      f('child-nan.safetensors'),
      /tensor fc1\.bias holds NaN or infinite values/,
    );
    expectRefused(
      await lineage('detect', '--child', f('child-inf.safetensors'), '--parents', model('root'), '--method', 'weights-l2'),
      f('child-inf.safetensors'),
      /tensor fc2\.weight holds NaN or infinite values/,
    );
  });

  it('features, layers and ancestors', async () => {
    expectRefused(await lineage('features', f('child-nan.safetensors'), '--probe', f('probe.npy')), f('child-nan.safetensors'), /tensor fc1\.bias holds NaN/);
    expectRefused(
      await lineage('layers', f('child-inf.safetensors'), '--candidates', model('root')),
      f('child-inf.safetensors'),
      /tensor fc2\.weight holds NaN/,
    );
    expectRefused(
      await lineage('ancestors', f('child-nan.safetensors'), '--candidates', model('root'), model('a')),
      f('child-nan.safetensors'),
      /tensor fc1\.bias holds NaN/,
    );
  });
});

describe('a probe with NaN or infinite values is refused', () => {
  it('detect and features name the probe file and the row', async () => {
    const problem = /probe array holds NaN or infinite values \(row 5, value Infinity\)/;
    expectRefused(await lineage('detect', '--child', model('a'), '--parents', model('root'), '--probe', f('probe-inf.npy')), f('probe-inf.npy'), problem);
    expectRefused(await lineage('features', model('a'), '--probe', f('probe-inf.npy')), f('probe-inf.npy'), problem);
  });

  it('only the rows used are checked', async () => {
    const r = await lineage('features', model('a'), '--probe', f('probe-inf.npy'), '--probe-rows', '5', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).shape).toEqual([5, 32]);
  });
});

describe('a model with NaN values is left out of a comparison of many, and reported', () => {
  it('tree --zoo: broken excluded, the tree of the others built', async () => {
    const r = await lineage('tree', '--zoo', zoo, '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`lineage: warning: left out broken (${model('broken')}): tensor fc2.weight holds NaN or infinite values\n`);
    const doc = JSON.parse(r.stdout) as { nodes: { id: string }[]; edges: { parent: string; child: string }[]; roots: string[]; excluded: unknown[] };
    expect(doc.excluded).toEqual([{ model: 'broken', file: model('broken'), reason: 'tensor fc2.weight holds NaN or infinite values' }]);
    expect(doc.nodes.map((n) => n.id).sort()).toEqual(['a', 'a1', 'b', 'b1', 'root', 'stranger']);
    expect(doc.edges.map((e) => `${e.parent}->${e.child}`).sort()).toEqual(['a->a1', 'b->b1', 'root->a', 'root->b']);
    expect([...doc.roots].sort()).toEqual(['root', 'stranger']);
    // The excluded model's true edge is not counted against the tree.
    expect(r.stderr).toContain('edge accuracy vs manifest: 4/4 (100.0%)');
  });

  it('tree prints the excluded model in its text output', async () => {
    const r = await lineage('tree', model('root'), model('a'), model('b'), model('broken'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/3 models, 1 root/);
    expect(r.stdout).toContain(`left out: ${model('broken')}: tensor fc2.weight holds NaN or infinite values`);
  });

  it('ancestors and layers leave out a NaN candidate', async () => {
    const anc = await lineage(
      'ancestors',
      model('a1'),
      '--candidates',
      model('stranger'),
      model('root'),
      model('broken'),
      model('b'),
      model('b1'),
      model('a'),
      '--json',
    );
    expect(anc.code, anc.stderr).toBe(0);
    expect(anc.stderr).toContain(`lineage: warning: left out ${model('broken')}: tensor fc2.weight holds NaN`);
    const doc = JSON.parse(anc.stdout) as { candidates: { id: string; relation: string }[]; excluded: { model: string }[] };
    expect(doc.candidates.map((c) => [c.id, c.relation])).toEqual([
      [model('a'), 'parent'],
      [model('root'), 'grandparent'],
      [model('b'), 'unrelated'],
      [model('b1'), 'unrelated'],
      [model('stranger'), 'unrelated'],
    ]);
    expect(doc.excluded.map((e) => e.model)).toEqual([model('broken')]);

    const layers = await lineage('layers', model('b'), '--candidates', model('root'), model('broken'), '--json');
    expect(layers.code, layers.stderr).toBe(0);
    const origins = JSON.parse(layers.stdout) as { layers: { origins: { model: string; probability: number }[] }[]; excluded: { model: string }[] };
    expect(origins.excluded.map((e) => e.model)).toEqual([model('broken')]);
    for (const l of origins.layers) expect(l.origins).toEqual([expect.objectContaining({ model: model('root'), probability: 1 })]);
  });

  it('a tree with every model non-finite is refused', async () => {
    const r = await lineage('tree', model('broken'));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${model('broken')}: tensor fc2.weight holds NaN or infinite values`);
  });
});
