import { describe, expect, it } from 'vitest';
import { type NamingFamily, detectFamily, fromCanonical, toCanonical } from '../../../src/lineage/weights/naming.js';

/**
 * [checkpoint name, llama.cpp name] as written by convert_hf_to_gguf.py / gguf-py's
 * tensor_mapping.py (and, for ViT, llama.cpp's vision-encoder names). Each is checked both ways.
 */
const TABLES: Record<Exclude<NamingFamily, 'gguf'>, [string, string][]> = {
  llama: [
    ['model.embed_tokens.weight', 'token_embd.weight'],
    ['model.layers.0.input_layernorm.weight', 'blk.0.attn_norm.weight'],
    ['model.layers.0.self_attn.q_proj.weight', 'blk.0.attn_q.weight'],
    ['model.layers.0.self_attn.q_proj.bias', 'blk.0.attn_q.bias'],
    ['model.layers.0.self_attn.k_proj.weight', 'blk.0.attn_k.weight'],
    ['model.layers.0.self_attn.v_proj.weight', 'blk.0.attn_v.weight'],
    ['model.layers.12.self_attn.o_proj.weight', 'blk.12.attn_output.weight'],
    ['model.layers.3.self_attn.q_norm.weight', 'blk.3.attn_q_norm.weight'],
    ['model.layers.3.self_attn.k_norm.weight', 'blk.3.attn_k_norm.weight'],
    ['model.layers.31.post_attention_layernorm.weight', 'blk.31.ffn_norm.weight'],
    ['model.layers.1.mlp.gate_proj.weight', 'blk.1.ffn_gate.weight'],
    ['model.layers.1.mlp.up_proj.weight', 'blk.1.ffn_up.weight'],
    ['model.layers.1.mlp.down_proj.weight', 'blk.1.ffn_down.weight'],
    ['model.norm.weight', 'output_norm.weight'],
    ['lm_head.weight', 'output.weight'],
  ],
  'llama-meta': [
    ['tok_embeddings.weight', 'token_embd.weight'],
    ['layers.2.attention.wq.weight', 'blk.2.attn_q.weight'],
    ['layers.2.attention.wk.weight', 'blk.2.attn_k.weight'],
    ['layers.2.attention.wv.weight', 'blk.2.attn_v.weight'],
    ['layers.2.attention.wo.weight', 'blk.2.attn_output.weight'],
    ['layers.2.attention_norm.weight', 'blk.2.attn_norm.weight'],
    ['layers.2.ffn_norm.weight', 'blk.2.ffn_norm.weight'],
    ['layers.2.feed_forward.w1.weight', 'blk.2.ffn_gate.weight'],
    ['layers.2.feed_forward.w3.weight', 'blk.2.ffn_up.weight'],
    ['layers.2.feed_forward.w2.weight', 'blk.2.ffn_down.weight'],
    ['norm.weight', 'output_norm.weight'],
    ['output.weight', 'output.weight'],
  ],
  gpt2: [
    ['transformer.wte.weight', 'token_embd.weight'],
    ['transformer.wpe.weight', 'position_embd.weight'],
    ['transformer.h.0.ln_1.weight', 'blk.0.attn_norm.weight'],
    ['transformer.h.0.ln_1.bias', 'blk.0.attn_norm.bias'],
    ['transformer.h.0.attn.c_attn.weight', 'blk.0.attn_qkv.weight'],
    ['transformer.h.0.attn.c_attn.bias', 'blk.0.attn_qkv.bias'],
    ['transformer.h.0.attn.c_proj.weight', 'blk.0.attn_output.weight'],
    ['transformer.h.0.ln_2.weight', 'blk.0.ffn_norm.weight'],
    ['transformer.h.11.mlp.c_fc.weight', 'blk.11.ffn_up.weight'],
    ['transformer.h.11.mlp.c_proj.bias', 'blk.11.ffn_down.bias'],
    ['transformer.ln_f.weight', 'output_norm.weight'],
    ['lm_head.weight', 'output.weight'],
  ],
  bert: [
    ['bert.embeddings.word_embeddings.weight', 'token_embd.weight'],
    ['bert.embeddings.position_embeddings.weight', 'position_embd.weight'],
    ['bert.embeddings.token_type_embeddings.weight', 'token_types.weight'],
    ['bert.embeddings.LayerNorm.weight', 'token_embd_norm.weight'],
    ['bert.encoder.layer.0.attention.self.query.weight', 'blk.0.attn_q.weight'],
    ['bert.encoder.layer.0.attention.self.key.bias', 'blk.0.attn_k.bias'],
    ['bert.encoder.layer.0.attention.self.value.weight', 'blk.0.attn_v.weight'],
    ['bert.encoder.layer.0.attention.output.dense.weight', 'blk.0.attn_output.weight'],
    ['bert.encoder.layer.0.attention.output.LayerNorm.bias', 'blk.0.attn_output_norm.bias'],
    ['bert.encoder.layer.5.intermediate.dense.weight', 'blk.5.ffn_up.weight'],
    ['bert.encoder.layer.5.output.dense.weight', 'blk.5.ffn_down.weight'],
    ['bert.encoder.layer.5.output.LayerNorm.weight', 'blk.5.layer_output_norm.weight'],
  ],
  vit: [
    ['vit.embeddings.cls_token', 'v.class_embd'],
    ['vit.embeddings.position_embeddings', 'v.position_embd'],
    ['vit.embeddings.patch_embeddings.projection.weight', 'v.patch_embd.weight'],
    ['vit.encoder.layer.0.layernorm_before.weight', 'v.blk.0.ln1.weight'],
    ['vit.encoder.layer.0.attention.attention.query.weight', 'v.blk.0.attn_q.weight'],
    ['vit.encoder.layer.0.attention.attention.key.weight', 'v.blk.0.attn_k.weight'],
    ['vit.encoder.layer.0.attention.attention.value.bias', 'v.blk.0.attn_v.bias'],
    ['vit.encoder.layer.0.attention.output.dense.weight', 'v.blk.0.attn_out.weight'],
    ['vit.encoder.layer.0.layernorm_after.bias', 'v.blk.0.ln2.bias'],
    ['vit.encoder.layer.7.intermediate.dense.weight', 'v.blk.7.ffn_up.weight'],
    ['vit.encoder.layer.7.output.dense.weight', 'v.blk.7.ffn_down.weight'],
    ['vit.layernorm.weight', 'v.post_ln.weight'],
  ],
};

describe('canonical (llama.cpp) tensor names', () => {
  for (const [family, table] of Object.entries(TABLES) as [Exclude<NamingFamily, 'gguf'>, [string, string][]][]) {
    it(`${family}: checkpoint name -> llama.cpp name`, () => {
      for (const [name, gguf] of table) expect(toCanonical(name, family), name).toBe(gguf);
    });
    it(`${family}: llama.cpp name -> checkpoint name`, () => {
      for (const [name, gguf] of table) expect(fromCanonical(gguf, family), gguf).toBe(name);
    });
    it(`${family}: GGUF names are their own canonical form`, () => {
      for (const [, gguf] of table) {
        expect(toCanonical(gguf, 'gguf')).toBe(gguf);
        expect(fromCanonical(gguf, 'gguf')).toBe(gguf);
      }
    });
  }

  it('reads a backbone saved without its task prefix (LlamaModel, GPT2Model, BertModel, ViTModel)', () => {
    expect(toCanonical('layers.4.self_attn.k_proj.weight', 'llama')).toBe('blk.4.attn_k.weight');
    expect(toCanonical('embed_tokens.weight', 'llama')).toBe('token_embd.weight');
    expect(toCanonical('h.2.mlp.c_fc.weight', 'gpt2')).toBe('blk.2.ffn_up.weight');
    expect(toCanonical('wte.weight', 'gpt2')).toBe('token_embd.weight');
    expect(toCanonical('encoder.layer.1.attention.self.query.weight', 'bert')).toBe('blk.1.attn_q.weight');
    expect(toCanonical('encoder.layer.1.attention.attention.query.weight', 'vit')).toBe('v.blk.1.attn_q.weight');
  });

  it('reads TensorFlow-era BERT LayerNorm gamma/beta as weight/bias', () => {
    expect(toCanonical('bert.encoder.layer.0.output.LayerNorm.gamma', 'bert')).toBe('blk.0.layer_output_norm.weight');
    expect(toCanonical('bert.embeddings.LayerNorm.beta', 'bert')).toBe('token_embd_norm.bias');
  });

  it('names outside the family map to nothing (heads, buffers, other families)', () => {
    expect(toCanonical('classifier.weight', 'vit')).toBeUndefined();
    expect(toCanonical('bert.pooler.dense.weight', 'bert')).toBeUndefined();
    expect(toCanonical('transformer.h.0.attn.bias', 'gpt2')).toBeUndefined();
    expect(toCanonical('model.layers.0.self_attn.q_proj.weight', 'gpt2')).toBeUndefined();
    expect(toCanonical('blk.0.attn_q.weight', 'llama')).toBeUndefined();
    expect(toCanonical('model.layers.x.self_attn.q_proj.weight', 'llama')).toBeUndefined();
    expect(fromCanonical('blk.0.attn_qkv.weight', 'llama')).toBeUndefined();
  });

  it('detects the family that names most tensors; GGUF files are always gguf', () => {
    for (const [family, table] of Object.entries(TABLES)) expect(detectFamily(table.map(([name]) => name))).toBe(family);
    expect(detectFamily(['token_embd.weight', 'blk.0.attn_q.weight'])).toBe('gguf');
    expect(detectFamily(['anything'], 'gguf')).toBe('gguf');
    expect(detectFamily(['conv1.weight', 'bn1.running_mean', 'fc.weight'])).toBeUndefined();
  });
});
