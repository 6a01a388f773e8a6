/**
 * Small Llama- and GPT-2-shaped models for the weight-comparison tests, and their conversions to
 * other naming schemes, written here from the converters' formulas (convert_hf_to_gguf.py) rather
 * than with the code under test.
 */
import { type Tensor, type Weights, float32Tensor, toFloat32 } from '../../../src/tensor.js';
import { type SyntheticTensorSpec, hash32, syntheticStateDict } from '../../../src/testing/synthetic-weights.js';

export const LLAMA = { vocab: 24, hidden: 16, heads: 4, kvHeads: 2, ffn: 20, layers: 2 } as const;
const HEAD_DIM = LLAMA.hidden / LLAMA.heads;

export function llamaSpecs(vocab: number = LLAMA.vocab, withHead = true): SyntheticTensorSpec[] {
  const { hidden, kvHeads, ffn, layers } = LLAMA;
  const specs: SyntheticTensorSpec[] = [{ name: 'model.embed_tokens.weight', shape: [vocab, hidden], kind: 'embedding' }];
  for (let l = 0; l < layers; l++) {
    const p = `model.layers.${l}`;
    specs.push(
      { name: `${p}.input_layernorm.weight`, shape: [hidden] },
      { name: `${p}.self_attn.q_proj.weight`, shape: [hidden, hidden] },
      { name: `${p}.self_attn.k_proj.weight`, shape: [kvHeads * HEAD_DIM, hidden] },
      { name: `${p}.self_attn.v_proj.weight`, shape: [kvHeads * HEAD_DIM, hidden] },
      { name: `${p}.self_attn.o_proj.weight`, shape: [hidden, hidden] },
      { name: `${p}.post_attention_layernorm.weight`, shape: [hidden] },
      { name: `${p}.mlp.gate_proj.weight`, shape: [ffn, hidden] },
      { name: `${p}.mlp.up_proj.weight`, shape: [ffn, hidden] },
      { name: `${p}.mlp.down_proj.weight`, shape: [hidden, ffn] },
    );
  }
  specs.push({ name: 'model.norm.weight', shape: [hidden] });
  if (withHead) specs.push({ name: 'lm_head.weight', shape: [vocab, hidden] });
  return specs;
}

export function llamaWeights(seed: number, vocab?: number, withHead?: boolean): Weights {
  return syntheticStateDict(llamaSpecs(vocab, withHead), seed);
}

/** `base` plus uniform noise of amplitude `scale` (a fine-tuned child), deterministic in `seed`. */
export function perturbed(base: Weights, seed: number, scale: number): Weights {
  const out: Weights = new Map();
  let k = 0;
  for (const [name, t] of base) {
    const values = toFloat32(t);
    const next = new Float32Array(values.length);
    for (let i = 0; i < values.length; i++) next[i] = values[i] + scale * ((hash32(seed + k, i) / 2 ** 32) * 2 - 1);
    out.set(name, float32Tensor(t.shape, next));
    k++;
  }
  return out;
}

/** numpy's w.reshape(n0, n1, n2, n3).swapaxes(1, 2), flattened, by explicit index arithmetic. */
function swapAxes12(values: Float32Array, [n0, n1, n2, n3]: readonly number[]): Float32Array {
  const out = new Float32Array(values.length);
  for (let i0 = 0; i0 < n0; i0++)
    for (let i1 = 0; i1 < n1; i1++)
      for (let i2 = 0; i2 < n2; i2++) for (let i3 = 0; i3 < n3; i3++) out[((i0 * n2 + i2) * n1 + i1) * n3 + i3] = values[((i0 * n1 + i1) * n2 + i2) * n3 + i3];
  return out;
}

/** convert_hf_to_gguf's LlamaModel.permute: reshape(n_head, 2, rows // n_head // 2, cols).swapaxes(1, 2).reshape(rows, cols). */
export function llamaCppPermute(t: Tensor, nHead: number): Tensor {
  const rows = t.shape[0];
  const cols = t.shape.length > 1 ? t.shape[1] : 1;
  return float32Tensor(t.shape, swapAxes12(toFloat32(t), [nHead, 2, rows / nHead / 2, cols]));
}

export function transposed(t: Tensor): Tensor {
  const [r, c] = t.shape;
  const v = toFloat32(t);
  const out = new Float32Array(v.length);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = v[i * c + j];
  return float32Tensor([c, r], out);
}

const LLAMA_TO_GGUF: [RegExp, string][] = [
  [/^model\.embed_tokens\./, 'token_embd.'],
  [/^model\.norm\./, 'output_norm.'],
  [/^lm_head\./, 'output.'],
  [/^model\.layers\.(\d+)\.input_layernorm\./, 'blk.$1.attn_norm.'],
  [/^model\.layers\.(\d+)\.self_attn\.q_proj\./, 'blk.$1.attn_q.'],
  [/^model\.layers\.(\d+)\.self_attn\.k_proj\./, 'blk.$1.attn_k.'],
  [/^model\.layers\.(\d+)\.self_attn\.v_proj\./, 'blk.$1.attn_v.'],
  [/^model\.layers\.(\d+)\.self_attn\.o_proj\./, 'blk.$1.attn_output.'],
  [/^model\.layers\.(\d+)\.post_attention_layernorm\./, 'blk.$1.ffn_norm.'],
  [/^model\.layers\.(\d+)\.mlp\.gate_proj\./, 'blk.$1.ffn_gate.'],
  [/^model\.layers\.(\d+)\.mlp\.up_proj\./, 'blk.$1.ffn_up.'],
  [/^model\.layers\.(\d+)\.mlp\.down_proj\./, 'blk.$1.ffn_down.'],
];

function rename(name: string, table: [RegExp, string][]): string {
  for (const [pattern, replacement] of table) if (pattern.test(name)) return name.replace(pattern, replacement);
  throw new Error(`no GGUF name for ${name}`);
}

/** What convert_hf_to_gguf.py writes for a Llama: llama.cpp names, Q/K rows permuted when `permute`. */
export function llamaToGguf(hf: Weights, permute = true): Weights {
  const out: Weights = new Map();
  for (const [name, t] of hf) {
    let tensor = t;
    if (permute && name.includes('q_proj')) tensor = llamaCppPermute(t, LLAMA.heads);
    if (permute && name.includes('k_proj')) tensor = llamaCppPermute(t, LLAMA.kvHeads);
    out.set(rename(name, LLAMA_TO_GGUF), tensor);
  }
  return out;
}

export const GGUF_LLAMA_METADATA = {
  'general.architecture': 'llama',
  'llama.attention.head_count': String(LLAMA.heads),
  'llama.attention.head_count_kv': String(LLAMA.kvHeads),
};

export const GPT2 = { vocab: 20, positions: 8, hidden: 12, layers: 2 } as const;

/** Hugging Face GPT2LMHeadModel minus its (tied, unsaved) head; Conv1D weights [in, out]; the causal-mask buffers kept. */
export function gpt2Weights(seed: number): Weights {
  const { vocab, positions, hidden: d, layers } = GPT2;
  const specs: SyntheticTensorSpec[] = [
    { name: 'transformer.wte.weight', shape: [vocab, d], kind: 'embedding' },
    { name: 'transformer.wpe.weight', shape: [positions, d], kind: 'embedding' },
  ];
  for (let l = 0; l < layers; l++) {
    const p = `transformer.h.${l}`;
    specs.push(
      { name: `${p}.ln_1.weight`, shape: [d] },
      { name: `${p}.ln_1.bias`, shape: [d] },
      { name: `${p}.attn.c_attn.weight`, shape: [d, 3 * d], kind: 'fan_in' },
      { name: `${p}.attn.c_attn.bias`, shape: [3 * d] },
      { name: `${p}.attn.c_proj.weight`, shape: [d, d], kind: 'fan_in' },
      { name: `${p}.attn.c_proj.bias`, shape: [d] },
      { name: `${p}.ln_2.weight`, shape: [d] },
      { name: `${p}.ln_2.bias`, shape: [d] },
      { name: `${p}.mlp.c_fc.weight`, shape: [d, 4 * d], kind: 'fan_in' },
      { name: `${p}.mlp.c_fc.bias`, shape: [4 * d] },
      { name: `${p}.mlp.c_proj.weight`, shape: [4 * d, d], kind: 'fan_in' },
      { name: `${p}.mlp.c_proj.bias`, shape: [d] },
    );
  }
  specs.push({ name: 'transformer.ln_f.weight', shape: [d] }, { name: 'transformer.ln_f.bias', shape: [d] });
  const weights = syntheticStateDict(specs, seed);
  for (let l = 0; l < layers; l++) weights.set(`transformer.h.${l}.attn.bias`, float32Tensor([1, 1, positions, positions]));
  return weights;
}

const GPT2_TO_GGUF: [RegExp, string][] = [
  [/^transformer\.wte\./, 'token_embd.'],
  [/^transformer\.wpe\./, 'position_embd.'],
  [/^transformer\.ln_f\./, 'output_norm.'],
  [/^transformer\.h\.(\d+)\.ln_1\./, 'blk.$1.attn_norm.'],
  [/^transformer\.h\.(\d+)\.attn\.c_attn\./, 'blk.$1.attn_qkv.'],
  [/^transformer\.h\.(\d+)\.attn\.c_proj\./, 'blk.$1.attn_output.'],
  [/^transformer\.h\.(\d+)\.ln_2\./, 'blk.$1.ffn_norm.'],
  [/^transformer\.h\.(\d+)\.mlp\.c_fc\./, 'blk.$1.ffn_up.'],
  [/^transformer\.h\.(\d+)\.mlp\.c_proj\./, 'blk.$1.ffn_down.'],
];

/** convert_hf_to_gguf's GPT2Model: masks dropped, Conv1D weights transposed, `output` written as a copy of `token_embd`. */
export function gpt2ToGguf(hf: Weights): Weights {
  const out: Weights = new Map();
  for (const [name, t] of hf) {
    if (name.endsWith('.attn.bias')) continue;
    const conv1d = /\.(c_attn|c_proj|c_fc)\.weight$/.test(name);
    const ggufName = rename(name, GPT2_TO_GGUF);
    out.set(ggufName, conv1d ? transposed(t) : t);
    if (ggufName === 'token_embd.weight') out.set('output.weight', t);
  }
  return out;
}

/** Per-tensor and overall distances in float64 over aligned values, straight from the definitions. */
export function expectedDistances(pairs: readonly [Float32Array, Float32Array][]): { relL2: number[]; cos: number[]; distance: number } {
  const relL2: number[] = [];
  const cos: number[] = [];
  let totalDiff = 0;
  let totalA = 0;
  for (const [a, b] of pairs) {
    let diff = 0;
    let na = 0;
    let nb = 0;
    let dot = 0;
    for (let i = 0; i < a.length; i++) {
      diff += (b[i] - a[i]) ** 2;
      na += a[i] ** 2;
      nb += b[i] ** 2;
      dot += a[i] * b[i];
    }
    relL2.push(Math.sqrt(diff) / Math.sqrt(na));
    cos.push(dot / Math.sqrt(na * nb));
    totalDiff += diff;
    totalA += na;
  }
  return { relL2, cos, distance: Math.sqrt(totalDiff) / Math.sqrt(totalA) };
}
