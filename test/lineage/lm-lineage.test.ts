/**
 * `detect`, `tree`, `ancestors` and `layers` with weight methods on language models stored as users
 * meet them (Hugging Face folders in float32, bfloat16 and shards; GGUF F16 / Q8_0 / Q4_0 with
 * llama.cpp's names and rotary row order; GPT-2 with Conv1D weights), through the CLI, with no
 * --probe and no --arch. The true family comes from scripts/make_lm_fixtures.py, which trained it.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeSafetensors } from '../../src/formats/safetensors.js';
import { makeTensor } from '../../src/tensor.js';
import { lineage } from '../cli/run-cli.js';

const DIR = join(import.meta.dirname, '..', '..', 'fixtures', 'lm');
const MANIFEST = JSON.parse(readFileSync(join(DIR, 'manifest.json'), 'utf8')) as {
  forms: Record<string, { model: string }>;
  family: Record<string, string | null>;
};
const at = (form: string) => join(DIR, form);
const modelOf = (path: string) => MANIFEST.forms[path.slice(DIR.length + 1)].model;

interface DetectJson {
  method: string;
  children: {
    child: string;
    parent: string | null;
    scores: { parent: string; score: number; excluded_tensors?: { candidate_tensor: string; child_tensor: string; reason: string }[] }[];
    incompatible: { parent: string; reason: string }[];
  }[];
}

async function detectJson(args: string[]): Promise<DetectJson[]> {
  const { code, stdout, stderr } = await lineage('detect', ...args, '--json');
  expect(stderr).toBe('');
  expect(code).toBe(0);
  const parsed = JSON.parse(stdout) as DetectJson | DetectJson[];
  return Array.isArray(parsed) ? parsed : [parsed];
}

describe('detect with weight methods on any model', () => {
  it('the GPT-2 example of the issue: safetensors files without config, no --arch, no --probe', async () => {
    const { code, stdout, stderr } = await lineage(
      'detect',
      '--child',
      at('gpt2-gc1/model.safetensors'),
      '--parents',
      at('gpt2-g1/model.safetensors'),
      at('gpt2-g2/model.safetensors'),
      '--method',
      'weights-l2',
    );
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain(`parent ${at('gpt2-g1/model.safetensors')}`);
  }, 30_000);

  const childForms = ['llama-c1', 'llama-c1-bf16', 'llama-c1.f16.gguf', 'llama-c1.q8_0.gguf', 'llama-c1.q4_0.gguf', 'llama-c2'];
  const parentKinds = [
    ['llama-p1', 'llama-p2'],
    ['llama-p1-sharded', 'llama-p2'],
    ['llama-p1.f16.gguf', 'llama-p2.f16.gguf'],
    ['llama-p1.q8_0.gguf', 'llama-p2.q8_0.gguf'],
    ['llama-p1.q4_0.gguf', 'llama-p2.q4_0.gguf'],
  ];
  for (const parents of parentKinds) {
    it(`every Llama child form finds its parent among ${parents.join(', ')} with every weight method`, async () => {
      const results = await detectJson([
        ...childForms.flatMap((c) => ['--child', at(c)]),
        '--parents',
        ...parents.map(at),
        at('gpt2-g1'),
        '--method',
        'weights-l2,weights-cos,weights-rel',
      ]);
      expect(results.map((r) => r.method)).toEqual(['weights-l2', 'weights-cos', 'weights-rel']);
      for (const result of results) {
        for (const child of result.children) {
          expect(child.parent, `${result.method}: ${child.child}`).not.toBeNull();
          expect(modelOf(child.parent!), `${result.method}: ${child.child}`).toBe(MANIFEST.family[modelOf(child.child)]);
          expect(child.scores).toHaveLength(2);
          // GPT-2 shares an embedding role with Llama but little else: refused, with the reason.
          expect(child.incompatible).toEqual([{ parent: at('gpt2-g1'), reason: expect.stringMatching(/not the same architecture/) }]);
        }
      }
    }, 60_000);
  }

  it('a head whose shape changed (new classes) is left out and listed; the rest decides', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'heads-'));
    const values = (n: number, seed: number, scale = 1) => Float32Array.from({ length: n }, (_, i) => scale * Math.sin(seed * 7.1 + i * 1.37));
    const model = (seed: number, classes: number, shift = 0) =>
      new Map([
        [
          'body.weight',
          makeTensor(
            'float32',
            [16, 64],
            values(1024, seed).map((v, i) => v + shift * Math.cos(i)),
          ),
        ],
        ['body.bias', makeTensor('float32', [16], values(16, seed + 1))],
        ['head.weight', makeTensor('float32', [classes, 16], values(classes * 16, seed + 2))],
      ]);
    await writeSafetensors(join(dir, 'parent.safetensors'), model(1, 10));
    await writeSafetensors(join(dir, 'other.safetensors'), model(2, 10));
    await writeSafetensors(join(dir, 'child.safetensors'), model(1, 4, 0.05));
    const [weights] = await detectJson([
      '--child',
      join(dir, 'child.safetensors'),
      '--parents',
      join(dir, 'other.safetensors'),
      join(dir, 'parent.safetensors'),
      '--method',
      'weights-l2',
    ]);
    const child = weights.children[0];
    expect(child.parent).toBe(join(dir, 'parent.safetensors'));
    for (const s of child.scores) {
      expect(s.excluded_tensors).toEqual([{ candidate_tensor: 'head.weight', child_tensor: 'head.weight', reason: 'shapes differ: [10, 16] vs [4, 16]' }]);
    }
  }, 30_000);
});

interface TreeJson {
  version: number;
  edges: { parent: string; child: string }[];
  roots: string[];
  incompatible: { a: string; b: string; reason: string }[];
}

describe('tree, ancestors and layers on the Llama family, forms mixed', () => {
  const family = ['llama-p1-sharded', 'llama-p2.q4_0.gguf', 'llama-c1-bf16', 'llama-c2', 'llama-c3', 'llama-c4'];
  for (const method of ['weights-cos', 'weights-rel']) {
    it(`tree --method ${method}: every parent and both roots; a GPT-2 model stays apart`, async () => {
      const { code, stdout, stderr } = await lineage('tree', ...[...family, 'gpt2-g1'].map(at), '--method', method, '--json');
      expect(stderr).toBe('');
      expect(code).toBe(0);
      const tree = JSON.parse(stdout) as TreeJson;
      const edges = tree.edges.map((e) => `${modelOf(e.parent)} -> ${modelOf(e.child)}`).sort();
      const truth = family
        .map((f) => MANIFEST.forms[f].model)
        .filter((m) => MANIFEST.family[m] !== null)
        .map((m) => `${MANIFEST.family[m]} -> ${m}`)
        .sort();
      expect(edges).toEqual(truth);
      expect(tree.roots.map(modelOf).sort()).toEqual(['gpt2-g1', 'llama-p1', 'llama-p2']);
      expect(tree.incompatible.filter((i) => i.a === at('gpt2-g1') || i.b === at('gpt2-g1'))).toHaveLength(family.length);
    }, 60_000);
  }

  it('ancestors: the grandchild D1 (float32) names C1 (GGUF F16) its parent; the other family is unrelated', async () => {
    const candidates = ['llama-p1.q8_0.gguf', 'llama-c1.f16.gguf', 'llama-c3', 'llama-p2', 'llama-c2'];
    const { code, stdout, stderr } = await lineage('ancestors', at('llama-d1'), '--candidates', ...candidates.map(at), '--method', 'weights-rel', '--json');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const ranking = JSON.parse(stdout) as { candidates: { id: string; relation: string; sameFamily: boolean }[] };
    const of = (form: string) => ranking.candidates.find((c) => c.id === at(form))!;
    expect(of('llama-c1.f16.gguf').relation).toBe('parent');
    for (const other of ['llama-p2', 'llama-c2']) expect(of(other)).toMatchObject({ relation: 'unrelated', sameFamily: false });
    expect(of('llama-p1.q8_0.gguf').sameFamily).toBe(true);
  }, 60_000);

  it('layers: every block of C1 stored as GGUF Q4_0 (blk.N names) traces to P1 stored as a Hugging Face folder', async () => {
    const { code, stdout, stderr } = await lineage('layers', at('llama-c1.q4_0.gguf'), '--candidates', at('llama-p2'), at('llama-p1'), '--json');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const { layers } = JSON.parse(stdout) as { layers: { layer: string; origins: { model: string; probability: number }[] }[] };
    expect(layers.map((l) => l.layer).sort()).toEqual(['blk.0', 'blk.1', 'output', 'output_norm', 'token_embd']);
    for (const l of layers) expect(l.origins[0].model, l.layer).toBe(at('llama-p1'));
  }, 30_000);

  it('layers: a stitched Llama (layer 1 from P2) is traced block by block against GGUF Q8_0 candidates', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lm-stitch-'));
    const out = join(dir, 'stitched.safetensors');
    const stitch = await lineage(
      'stitch',
      '--base',
      at('llama-p1/model.safetensors'),
      '--take',
      `${at('llama-p2/model.safetensors')}:model.layers.1`,
      '--out',
      out,
    );
    expect(stitch.code).toBe(0);
    const { code, stdout } = await lineage('layers', out, '--candidates', at('llama-p1.q8_0.gguf'), at('llama-p2.q8_0.gguf'), '--json');
    expect(code).toBe(0);
    const { layers } = JSON.parse(stdout) as { layers: { layer: string; origins: { model: string }[] }[] };
    const top = Object.fromEntries(layers.map((l) => [l.layer, modelOf(l.origins[0].model)]));
    expect(top).toEqual({
      'model.embed_tokens': 'llama-p1',
      'model.layers.0': 'llama-p1',
      'model.layers.1': 'llama-p2',
      'model.norm': 'llama-p1',
      lm_head: 'llama-p1',
    });
  }, 30_000);
});
