import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeOnnxModel } from '../../src/formats/onnx/index.js';
import { writeSafetensors } from '../../src/formats/safetensors.js';
import { type Weights, float32Tensor, toFloat32 } from '../../src/tensor.js';
import { GGML_TYPE_ID, GgufBytes } from '../../src/testing/hostile/gguf-bytes.js';
import { GGUF_LLAMA_METADATA, LLAMA, expectedDistances, llamaToGguf, llamaWeights, perturbed, transposed } from '../lineage/weights/models.js';
import { escapeRegExp, lineage } from './run-cli.js';
import { COMPARE_JSON_KEYS } from '../lineage/weights/documented-keys.js';

/** An F32 GGUF v3 file written field by field: string metadata except the uint32 head counts. */
function ggufFile(weights: Weights, metadata: Record<string, string>): Uint8Array {
  const ALIGN = 32;
  const g = new GgufBytes().header(weights.size, Object.keys(metadata).length);
  for (const [key, value] of Object.entries(metadata)) {
    if (/^\d+$/.test(value)) g.kvU32(key, Number(value));
    else g.kvString(key, value);
  }
  let offset = 0;
  for (const [name, t] of weights) {
    g.tensorInfo(name, [...t.shape].reverse(), GGML_TYPE_ID.F32, offset);
    offset += Math.ceil((t.data.length * 4) / ALIGN) * ALIGN;
  }
  g.padTo(ALIGN);
  for (const t of weights.values()) {
    const values = toFloat32(t);
    g.raw(new Uint8Array(values.buffer, values.byteOffset, values.byteLength)).padTo(ALIGN);
  }
  return g.bytes();
}

/** A torch.onnx.export-like file: Linear weights as transposed `onnx::MatMul_N` initializers, the rest under their names. */
function onnxExport(weights: Weights): Parameters<typeof writeOnnxModel>[1] {
  const initializers: Weights = new Map();
  let id = 400;
  for (const [name, t] of weights) {
    const linear = t.shape.length === 2 && /_proj\.weight$|^lm_head\./.test(name);
    initializers.set(linear ? `onnx::MatMul_${id++}` : name, linear ? transposed(t) : t);
  }
  const graph = { name: 'main_graph', nodes: [], initializers, inputs: [], outputs: [], valueInfo: [] };
  return { irVersion: 8, opsetImports: [{ domain: '', version: 17 }], producerName: 'pytorch', graph, metadata: {} };
}

describe('lineage compare', () => {
  let dir: string;
  const parent = llamaWeights(31);
  const child = perturbed(parent, 32, 0.01);
  const path = (name: string) => join(dir, name);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lineage-compare-'));
    await writeSafetensors(path('parent.safetensors'), parent);
    await writeSafetensors(path('child.safetensors'), child);
    await writeFile(path('child.gguf'), ggufFile(llamaToGguf(child), GGUF_LLAMA_METADATA));
    await writeOnnxModel(path('child.onnx'), onnxExport(child));
    await mkdir(path('hf-parent'));
    await writeSafetensors(path('hf-parent/model.safetensors'), parent);
    await writeFile(path('hf-parent/config.json'), JSON.stringify({ num_attention_heads: LLAMA.heads, num_key_value_heads: LLAMA.kvHeads }));
    await writeFile(path('bare.gguf'), ggufFile(llamaToGguf(child), { 'general.architecture': 'llama' }));
    const partial: Weights = new Map([
      ['model.norm.weight', parent.get('model.norm.weight')!],
      ['adapter.weight', float32Tensor([64, 64])],
    ]);
    await writeSafetensors(path('partial.safetensors'), partial);
    await writeFile(path('garbage.safetensors'), 'not a model at all');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('--json: the documented keys, and the distance of a GGUF child from its safetensors parent by the formula', async () => {
    const { code, stdout, stderr } = await lineage('compare', path('parent.safetensors'), path('child.gguf'), '--json');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const json = JSON.parse(stdout);
    expect(Object.keys(json)).toEqual(COMPARE_JSON_KEYS);
    expect(json.version).toBe(1);
    expect([json.a, json.b]).toEqual([path('parent.safetensors'), path('child.gguf')]);
    expect(json.matched_tensors).toBe(parent.size);
    expect(json.total_parameters.a).toBe(json.matched_parameters);
    expect(json.low_coverage).toBe(false);
    expect(json.unmatched).toEqual([]);
    const names = [...parent.keys()];
    const expected = expectedDistances(names.map((n) => [toFloat32(parent.get(n)!), toFloat32(child.get(n)!)]));
    expect(json.distance).toBeCloseTo(expected.distance, 10);
    const q = json.tensors.find((t: { a_name: string }) => t.a_name === 'model.layers.0.self_attn.q_proj.weight');
    expect(Object.keys(q)).toEqual(['a_name', 'b_name', 'rel_l2', 'cos']);
    expect(q.b_name).toBe('blk.0.attn_q.weight');
    expect(q.rel_l2).toBeCloseTo(expected.relL2[names.indexOf('model.layers.0.self_attn.q_proj.weight')], 10);
  });

  it("head counts come from a Hugging Face folder's config.json when the GGUF file has none", async () => {
    const { code, stdout } = await lineage('compare', path('hf-parent'), path('bare.gguf'), '--json');
    expect(code).toBe(0);
    const json = JSON.parse(stdout);
    expect(json.excluded).toEqual([]);
    const names = [...parent.keys()];
    const expected = expectedDistances(names.map((n) => [toFloat32(parent.get(n)!), toFloat32(child.get(n)!)]));
    expect(json.distance).toBeCloseTo(expected.distance, 10);
  });

  it('an ONNX export with generated MatMul names is matched by position and shape, transposed back', async () => {
    const { code, stdout } = await lineage('compare', path('parent.safetensors'), path('child.onnx'), '--json');
    expect(code).toBe(0);
    const json = JSON.parse(stdout);
    expect(json.unmatched).toEqual([]);
    expect(json.matched_tensors).toBe(parent.size);
    const names = [...parent.keys()];
    const expected = expectedDistances(names.map((n) => [toFloat32(parent.get(n)!), toFloat32(child.get(n)!)]));
    expect(json.distance).toBeCloseTo(expected.distance, 10);
    const q = json.tensors.find((t: { a_name: string }) => t.a_name === 'model.layers.0.self_attn.q_proj.weight');
    expect(q.b_name).toBe('onnx::MatMul_400');
  });

  it('the table names the distance, the farthest tensors and the time taken', async () => {
    const { code, stdout } = await lineage('compare', path('parent.safetensors'), path('child.safetensors'), '--top', '3');
    expect(code).toBe(0);
    expect(stdout).toMatch(/distance \|\|B - A\|\| \/ \|\|A\|\|: \d\.\d+/);
    expect(stdout).toMatch(/tensors farthest apart \(3 of 21, by relative L2\)/);
    expect(stdout).toMatch(/took \d+\.\d\d s/);
  });

  it('warns on stderr when under half the parameters could be compared; the exit code stays 0', async () => {
    const { code, stdout, stderr } = await lineage('compare', path('parent.safetensors'), path('partial.safetensors'), '--json');
    expect(code).toBe(0);
    expect(stderr).toMatch(/^lineage: warning: low coverage: only \d+\.\d% of [AB]'s parameters were matched/);
    const json = JSON.parse(stdout);
    expect(json.low_coverage).toBe(true);
    expect(json.unmatched).toContainEqual({ name: 'adapter.weight', side: 'b' });
    expect(json.unmatched).toContainEqual({ name: 'model.embed_tokens.weight', side: 'a' });
  });

  it('a bad model file is named in a one-line error (exit 1); bad usage exits 2', async () => {
    const garbage = await lineage('compare', path('parent.safetensors'), path('garbage.safetensors'));
    expect(garbage.code).toBe(1);
    expect(garbage.stderr).toMatch(new RegExp(`^lineage: ${escapeRegExp(path('garbage.safetensors'))}: `));
    expect(garbage.stderr.trim().split('\n')).toHaveLength(1);
    const missing = await lineage('compare', path('nowhere.safetensors'), path('parent.safetensors'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(path('nowhere.safetensors'));
    expect((await lineage('compare', path('parent.safetensors'))).code).toBe(2);
    const top = await lineage('compare', path('parent.safetensors'), path('child.safetensors'), '--top', '0');
    expect(top.code).toBe(2);
    expect(top.stderr).toMatch(/--top must be a positive integer, got '0'/);
  });
});
