import { describe, expect, it } from 'vitest';
import { compareModels } from '../../../src/lineage/weights/compare.js';
import { matchTensors } from '../../../src/lineage/weights/match.js';
import { memorySource } from '../../../src/source/memory.js';
import { type Weights, float32Tensor, toFloat32 } from '../../../src/tensor.js';
import { GGUF_LLAMA_METADATA, LLAMA, expectedDistances, gpt2ToGguf, gpt2Weights, llamaToGguf, llamaWeights, perturbed, transposed } from './models.js';

const gguf = (weights: Weights, metadata: Record<string, string>) => memorySource(weights, 'child.gguf', { format: 'gguf', metadata });
const hf = (weights: Weights, path = 'parent', config?: Record<string, unknown>) => memorySource(weights, path, { format: 'safetensors', config });

describe('matchTensors: Hugging Face Llama against its GGUF conversion', () => {
  const parent = llamaWeights(1);

  it('pairs every tensor by its llama.cpp name and undoes the Q/K permutation (distance 0)', async () => {
    const result = await compareModels(hf(parent), gguf(llamaToGguf(parent), GGUF_LLAMA_METADATA));
    expect(result.unmatched).toEqual([]);
    expect(result.excluded).toEqual([]);
    expect(result.matchedTensors).toBe(parent.size);
    expect(result.distance).toBe(0);
    for (const t of result.tensors) expect(t.relL2, t.aName).toBe(0);
    const q = result.tensors.find((t) => t.aName === 'model.layers.1.self_attn.q_proj.weight');
    const k = result.tensors.find((t) => t.aName === 'model.layers.1.self_attn.k_proj.weight');
    expect([q?.bName, q?.transform]).toEqual(['blk.1.attn_q.weight', 'rope-unpermute']);
    expect([k?.bName, k?.transform]).toEqual(['blk.1.attn_k.weight', 'rope-unpermute']);
  });

  it('a child that was left permuted would not be at distance 0 (the unpermute is doing the work)', async () => {
    const matching = await matchTensors(
      hf(parent),
      gguf(llamaToGguf(parent), { ...GGUF_LLAMA_METADATA, 'general.architecture': 'qwen2', 'qwen2.attention.head_count': '4' }),
    );
    const q = matching.pairs.find((p) => p.b.name === 'blk.0.attn_q.weight');
    expect(q?.transform).toEqual({ kind: 'identity' });
    const result = await compareModels(hf(parent), gguf(llamaToGguf(parent), { 'general.architecture': 'qwen2' }));
    expect(result.distance).toBeGreaterThan(0.1);
  });

  it('Qwen2 GGUF files are not permuted: compared as they are', async () => {
    const result = await compareModels(hf(parent), gguf(llamaToGguf(parent, false), { 'general.architecture': 'qwen2' }));
    expect(result.distance).toBe(0);
    expect(result.tensors.every((t) => t.transform === 'identity')).toBe(true);
  });

  it('the GGUF child of a fine-tune is as far from the parent as the fine-tune itself (float64 formula)', async () => {
    const child = perturbed(parent, 7, 0.01);
    const result = await compareModels(hf(parent), gguf(llamaToGguf(child), GGUF_LLAMA_METADATA), { blockBytes: 64 });
    const names = [...parent.keys()];
    const expected = expectedDistances(names.map((n) => [toFloat32(parent.get(n)!), toFloat32(child.get(n)!)]));
    expect(result.tensors.map((t) => t.aName)).toEqual(names);
    result.tensors.forEach((t, i) => {
      expect(t.relL2).toBeCloseTo(expected.relL2[i], 12);
      expect(t.cos).toBeCloseTo(expected.cos[i], 12);
    });
    expect(result.distance).toBeCloseTo(expected.distance, 12);
  });

  it('takes head counts from config.json when the GGUF metadata has none', async () => {
    const config = { num_attention_heads: LLAMA.heads, num_key_value_heads: LLAMA.kvHeads };
    const result = await compareModels(hf(parent, 'parent', config), gguf(llamaToGguf(parent), { 'general.architecture': 'llama' }));
    expect(result.distance).toBe(0);
  });

  it('permuted Q/K biases (convert_hf_to_gguf permutes q_proj.bias and k_proj.bias too) are put back', async () => {
    const withBias: Weights = new Map(parent);
    const ramp = (n: number) =>
      float32Tensor(
        [n],
        Array.from({ length: n }, (_, i) => i + 1),
      );
    withBias.set('model.layers.0.self_attn.q_proj.bias', ramp(LLAMA.hidden));
    withBias.set('model.layers.0.self_attn.k_proj.bias', ramp((LLAMA.hidden / LLAMA.heads) * LLAMA.kvHeads));
    const result = await compareModels(hf(withBias), gguf(llamaToGguf(withBias), GGUF_LLAMA_METADATA));
    const bias = result.tensors.filter((t) => t.aName.endsWith('_proj.bias'));
    expect(bias.map((t) => [t.bName, t.transform, t.relL2])).toEqual([
      ['blk.0.attn_q.bias', 'rope-unpermute', 0],
      ['blk.0.attn_k.bias', 'rope-unpermute', 0],
    ]);
  });

  it('a per-layer head_count_kv (a GGUF array) is not taken for a single count: config.json decides', async () => {
    const metadata = { ...GGUF_LLAMA_METADATA, 'llama.attention.head_count_kv': '[2, 2]' };
    const config = { num_attention_heads: LLAMA.heads, num_key_value_heads: LLAMA.kvHeads };
    const result = await compareModels(hf(parent, 'parent', config), gguf(llamaToGguf(parent), metadata));
    expect(result.distance).toBe(0);
    expect(result.excluded).toEqual([]);
  });

  it("Meta's original checkpoint names and row order meet Hugging Face's (and GGUF's as is)", async () => {
    const META: [RegExp, string][] = [
      [/^token_embd\./, 'tok_embeddings.'],
      [/^output_norm\./, 'norm.'],
      [/^blk\.(\d+)\.attn_norm\./, 'layers.$1.attention_norm.'],
      [/^blk\.(\d+)\.attn_q\./, 'layers.$1.attention.wq.'],
      [/^blk\.(\d+)\.attn_k\./, 'layers.$1.attention.wk.'],
      [/^blk\.(\d+)\.attn_v\./, 'layers.$1.attention.wv.'],
      [/^blk\.(\d+)\.attn_output\./, 'layers.$1.attention.wo.'],
      [/^blk\.(\d+)\.ffn_norm\./, 'layers.$1.ffn_norm.'],
      [/^blk\.(\d+)\.ffn_gate\./, 'layers.$1.feed_forward.w1.'],
      [/^blk\.(\d+)\.ffn_up\./, 'layers.$1.feed_forward.w3.'],
      [/^blk\.(\d+)\.ffn_down\./, 'layers.$1.feed_forward.w2.'],
    ];
    const rename = (n: string) => META.reduce((name, [p, r]) => name.replace(p, r), n);
    const meta: Weights = new Map([...llamaToGguf(parent)].map(([n, t]) => [rename(n), t]));
    const config = { num_attention_heads: LLAMA.heads, num_key_value_heads: LLAMA.kvHeads };
    const fromHf = await compareModels(hf(parent), memorySource(meta, 'consolidated.00.pth', { format: 'pytorch', config }));
    expect(fromHf.distance).toBe(0);
    expect(fromHf.tensors.find((t) => t.bName === 'layers.0.attention.wq.weight')?.transform).toBe('rope-unpermute');
    const fromGguf = await compareModels(gguf(llamaToGguf(parent), GGUF_LLAMA_METADATA), memorySource(meta, 'consolidated.00.pth', { format: 'pytorch' }));
    expect(fromGguf.distance).toBe(0);
    expect(fromGguf.tensors.every((t) => t.transform === 'identity')).toBe(true);
  });

  it('with no head count anywhere, Q/K are excluded with the reason, not compared wrongly', async () => {
    const result = await compareModels(hf(parent), gguf(llamaToGguf(parent), { 'general.architecture': 'llama' }));
    const excluded = result.excluded.filter((e) => /head count is unknown/.test(e.reason)).map((e) => e.bName);
    expect(excluded.sort()).toEqual(['blk.0.attn_k.weight', 'blk.0.attn_q.weight', 'blk.1.attn_k.weight', 'blk.1.attn_q.weight']);
    expect(result.distance).toBe(0);
  });

  it('works from the GGUF side too (a = GGUF, b = Hugging Face)', async () => {
    const child = perturbed(parent, 8, 0.02);
    const forward = await compareModels(gguf(llamaToGguf(parent), GGUF_LLAMA_METADATA), hf(child));
    const names = [...parent.keys()];
    const expected = expectedDistances(names.map((n) => [toFloat32(parent.get(n)!), toFloat32(child.get(n)!)]));
    expect(forward.distance).toBeCloseTo(expected.distance, 12);
  });
});

describe('matchTensors: GPT-2 Conv1D against llama.cpp / nn.Linear layout', () => {
  const parent = gpt2Weights(3);

  it('transposes Conv1D weights (square c_proj included), sets the causal masks aside, counts the tied output once', async () => {
    const matching = await matchTensors(hf(parent), gguf(gpt2ToGguf(parent), { 'general.architecture': 'gpt2' }));
    const transform = (name: string) => matching.pairs.find((p) => p.a.name === name)?.transform.kind;
    expect(transform('transformer.h.0.attn.c_attn.weight')).toBe('transpose');
    expect(transform('transformer.h.0.attn.c_proj.weight')).toBe('transpose');
    expect(transform('transformer.h.1.mlp.c_fc.weight')).toBe('transpose');
    expect(transform('transformer.h.1.mlp.c_proj.weight')).toBe('transpose');
    expect(transform('transformer.h.1.mlp.c_proj.bias')).toBe('identity');
    expect(matching.unmatched).toEqual([]);
    expect(matching.excluded).toContainEqual({ aName: 'transformer.h.0.attn.bias', bName: null, reason: 'buffer, not a trained parameter' });
    expect(matching.excluded).toContainEqual({ aName: null, bName: 'output.weight', reason: 'tied to token_embd.weight: compared once, as the embedding' });
    expect(matching.totalParameters.a).toBe(matching.totalParameters.b);
  });

  it('distances through the transpose match the formula, with blocks small enough to re-read a many times', async () => {
    const child = perturbed(parent, 9, 0.05);
    const names = [...parent.keys()].filter((n) => !n.endsWith('.attn.bias'));
    const expected = expectedDistances(names.map((n) => [toFloat32(parent.get(n)!), toFloat32(child.get(n)!)]));
    for (const blockBytes of [4, 100, 1 << 20]) {
      const result = await compareModels(hf(parent), gguf(gpt2ToGguf(child), { 'general.architecture': 'gpt2' }), { blockBytes });
      expect(result.tensors.map((t) => t.aName)).toEqual(names);
      result.tensors.forEach((t, i) => expect(t.relL2).toBeCloseTo(expected.relL2[i], 12));
      expect(result.distance).toBeCloseTo(expected.distance, 12);
    }
  });

  it('a nanoGPT-style checkpoint (nn.Linear, Hugging Face names) is transposed by its shapes', async () => {
    const linear: Weights = new Map(
      [...parent].map(([n, t]) => [n, /\.(c_attn|c_fc|c_proj)\.weight$/.test(n) && !n.includes('attn.c_proj') ? transposed(t) : t]),
    );
    // c_proj of the attention is square: only c_attn's shape can say the file is [out, in].
    linear.set('transformer.h.0.attn.c_proj.weight', transposed(parent.get('transformer.h.0.attn.c_proj.weight')!));
    linear.set('transformer.h.1.attn.c_proj.weight', transposed(parent.get('transformer.h.1.attn.c_proj.weight')!));
    const result = await compareModels(hf(parent), hf(linear, 'nanogpt'));
    expect(result.distance).toBe(0);
  });
});

describe('matchTensors: embeddings, heads and task heads', () => {
  it('compares an extended vocabulary on the rows both models have', async () => {
    const parent = llamaWeights(4);
    const grown = llamaWeights(5, LLAMA.vocab + 3);
    const child: Weights = new Map(perturbed(parent, 11, 0.01));
    for (const name of ['model.embed_tokens.weight', 'lm_head.weight']) {
      const values = toFloat32(grown.get(name)!);
      values.set(toFloat32(child.get(name)!));
      child.set(name, float32Tensor([LLAMA.vocab + 3, LLAMA.hidden], values));
    }
    const result = await compareModels(hf(parent), hf(child, 'child'));
    const embed = result.tensors.find((t) => t.aName === 'model.embed_tokens.weight')!;
    expect(embed.transform).toBe('shared-rows');
    expect(embed.elements).toBe(LLAMA.vocab * LLAMA.hidden);
    const shared = toFloat32(child.get('model.embed_tokens.weight')!).subarray(0, LLAMA.vocab * LLAMA.hidden);
    const expected = expectedDistances([[toFloat32(parent.get('model.embed_tokens.weight')!), shared]]);
    expect(embed.relL2).toBeCloseTo(expected.relL2[0], 12);
    expect(result.matchedParameters).toBe(result.totalParameters.a);
    expect(result.totalParameters.b - result.totalParameters.a).toBe(2 * 3 * LLAMA.hidden);
  });

  it('a stored copy of a tied head is excluded and not counted; a head-less model meets an untied head with its embedding', async () => {
    const tiedParent = llamaWeights(6, LLAMA.vocab, false);
    const withCopy: Weights = new Map([...tiedParent, ['lm_head.weight', tiedParent.get('model.embed_tokens.weight')!]]);
    const copy = await matchTensors(hf(tiedParent), hf(withCopy, 'copy'));
    expect(copy.excluded).toEqual([{ aName: null, bName: 'lm_head.weight', reason: 'tied to model.embed_tokens.weight: compared once, as the embedding' }]);
    expect(copy.totalParameters.b).toBe(copy.totalParameters.a);
    expect(copy.unmatched).toEqual([]);

    const untied = perturbed(llamaWeights(6), 12, 0.01);
    const matching = await matchTensors(hf(tiedParent), hf(untied, 'untied'));
    const head = matching.pairs.find((p) => p.b.name === 'lm_head.weight');
    expect([head?.a.name, head?.by]).toEqual(['model.embed_tokens.weight', 'tied-head']);
    expect(matching.unmatched).toEqual([]);
  });

  it('config.json tie_word_embeddings=false keeps an identical head as its own tensor', async () => {
    const weights = llamaWeights(6, LLAMA.vocab, false);
    weights.set('lm_head.weight', weights.get('model.embed_tokens.weight')!);
    const matching = await matchTensors(hf(weights, 'a', { tie_word_embeddings: false }), hf(weights, 'b', { tie_word_embeddings: false }));
    expect(matching.pairs.map((p) => p.a.name)).toContain('lm_head.weight');
    expect(matching.excluded).toEqual([]);
  });

  it('excludes classifier heads whose class count differs and lists what only one model has', async () => {
    const a: Weights = new Map([...llamaWeights(2), ['score.weight', float32Tensor([10, LLAMA.hidden])]]);
    const b: Weights = new Map([...llamaWeights(2), ['score.weight', float32Tensor([3, LLAMA.hidden])], ['extra.adapter', float32Tensor([4])]]);
    const matching = await matchTensors(hf(a), hf(b, 'b'));
    expect(matching.excluded).toEqual([{ aName: 'score.weight', bName: 'score.weight', reason: 'shapes differ: [10, 16] vs [3, 16]' }]);
    expect(matching.unmatched).toEqual([{ name: 'extra.adapter', side: 'b' }]);
  });
});

describe('matchTensors: ONNX exports with generated initializer names', () => {
  it('pairs onnx::MatMul_N initializers by position and shape, transposed back to [out, in]', async () => {
    const parent = llamaWeights(13);
    const child = perturbed(parent, 14, 0.02);
    const onnx: Weights = new Map();
    let id = 100;
    for (const [name, t] of child) {
      const linear = t.shape.length === 2 && /_proj\.weight$|^lm_head/.test(name);
      onnx.set(linear ? `onnx::MatMul_${id++}` : name, linear ? transposed(t) : t);
    }
    const result = await compareModels(hf(parent), memorySource(onnx, 'model.onnx', { format: 'onnx' }));
    expect(result.unmatched).toEqual([]);
    const names = [...parent.keys()];
    expect(result.tensors.map((t) => t.aName)).toEqual(names);
    const q = result.tensors.find((t) => t.aName === 'model.layers.0.self_attn.q_proj.weight')!;
    expect([q.bName, q.transform]).toEqual(['onnx::MatMul_100', 'transpose']);
    const expected = expectedDistances(names.map((n) => [toFloat32(parent.get(n)!), toFloat32(child.get(n)!)]));
    result.tensors.forEach((t, i) => expect(t.relL2, t.aName).toBeCloseTo(expected.relL2[i], 12));
  });
});
