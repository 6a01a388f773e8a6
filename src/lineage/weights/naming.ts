/**
 * Canonical tensor names across naming schemes. The canonical form is llama.cpp's GGUF naming
 * (gguf-py/gguf/constants.py TENSOR_NAMES, tensor_mapping.py): `token_embd.weight`,
 * `blk.N.attn_q.weight`, `v.blk.N.ln1.bias`, ... It already names every role once and GGUF files
 * use it as is, so a Hugging Face checkpoint and its GGUF conversion meet on the same key.
 *
 * Each family lists its stems next to the llama.cpp stem; the same table reads both ways, so
 * `fromCanonical(toCanonical(name))` gives the family's preferred spelling back.
 */

export type NamingFamily = 'llama' | 'llama-meta' | 'gpt2' | 'bert' | 'vit' | 'gguf';

interface FamilyNaming {
  /** What a task model puts before the backbone's stems (`model.`, `transformer.`); preferred first. */
  prefixes: readonly string[];
  /** [stem in this family, llama.cpp stem], under a prefix; {N} is the block number. */
  stems: readonly (readonly [string, string])[];
  /** Stems outside the backbone (heads), never prefixed. */
  topLevel: readonly (readonly [string, string])[];
}

/** Hugging Face LlamaForCausalLM and the models that kept its names (Mistral, Qwen2, Qwen3). */
const LLAMA: FamilyNaming = {
  prefixes: ['model.', ''],
  stems: [
    ['embed_tokens', 'token_embd'],
    ['norm', 'output_norm'],
    ['layers.{N}.input_layernorm', 'blk.{N}.attn_norm'],
    ['layers.{N}.self_attn.q_proj', 'blk.{N}.attn_q'],
    ['layers.{N}.self_attn.k_proj', 'blk.{N}.attn_k'],
    ['layers.{N}.self_attn.v_proj', 'blk.{N}.attn_v'],
    ['layers.{N}.self_attn.o_proj', 'blk.{N}.attn_output'],
    ['layers.{N}.self_attn.q_norm', 'blk.{N}.attn_q_norm'],
    ['layers.{N}.self_attn.k_norm', 'blk.{N}.attn_k_norm'],
    ['layers.{N}.post_attention_layernorm', 'blk.{N}.ffn_norm'],
    ['layers.{N}.mlp.gate_proj', 'blk.{N}.ffn_gate'],
    ['layers.{N}.mlp.up_proj', 'blk.{N}.ffn_up'],
    ['layers.{N}.mlp.down_proj', 'blk.{N}.ffn_down'],
  ],
  topLevel: [['lm_head', 'output']],
};

/** Meta's original checkpoints (consolidated.*.pth, Mistral's consolidated.safetensors). */
const LLAMA_META: FamilyNaming = {
  prefixes: [''],
  stems: [
    ['tok_embeddings', 'token_embd'],
    ['norm', 'output_norm'],
    ['output', 'output'],
    ['layers.{N}.attention_norm', 'blk.{N}.attn_norm'],
    ['layers.{N}.attention.wq', 'blk.{N}.attn_q'],
    ['layers.{N}.attention.wk', 'blk.{N}.attn_k'],
    ['layers.{N}.attention.wv', 'blk.{N}.attn_v'],
    ['layers.{N}.attention.wo', 'blk.{N}.attn_output'],
    ['layers.{N}.ffn_norm', 'blk.{N}.ffn_norm'],
    ['layers.{N}.feed_forward.w1', 'blk.{N}.ffn_gate'],
    ['layers.{N}.feed_forward.w3', 'blk.{N}.ffn_up'],
    ['layers.{N}.feed_forward.w2', 'blk.{N}.ffn_down'],
  ],
  topLevel: [],
};

/** Hugging Face GPT2LMHeadModel / GPT2Model (Conv1D weights stored [in, out]). */
const GPT2: FamilyNaming = {
  prefixes: ['transformer.', ''],
  stems: [
    ['wte', 'token_embd'],
    ['wpe', 'position_embd'],
    ['ln_f', 'output_norm'],
    ['h.{N}.ln_1', 'blk.{N}.attn_norm'],
    ['h.{N}.attn.c_attn', 'blk.{N}.attn_qkv'],
    ['h.{N}.attn.c_proj', 'blk.{N}.attn_output'],
    ['h.{N}.ln_2', 'blk.{N}.ffn_norm'],
    ['h.{N}.mlp.c_fc', 'blk.{N}.ffn_up'],
    ['h.{N}.mlp.c_proj', 'blk.{N}.ffn_down'],
  ],
  topLevel: [['lm_head', 'output']],
};

/** Hugging Face BertModel / BertFor* (TensorFlow-era LayerNorm.gamma/beta read as weight/bias). */
const BERT: FamilyNaming = {
  prefixes: ['bert.', ''],
  stems: [
    ['embeddings.word_embeddings', 'token_embd'],
    ['embeddings.position_embeddings', 'position_embd'],
    ['embeddings.token_type_embeddings', 'token_types'],
    ['embeddings.LayerNorm', 'token_embd_norm'],
    ['encoder.layer.{N}.attention.self.query', 'blk.{N}.attn_q'],
    ['encoder.layer.{N}.attention.self.key', 'blk.{N}.attn_k'],
    ['encoder.layer.{N}.attention.self.value', 'blk.{N}.attn_v'],
    ['encoder.layer.{N}.attention.output.dense', 'blk.{N}.attn_output'],
    ['encoder.layer.{N}.attention.output.LayerNorm', 'blk.{N}.attn_output_norm'],
    ['encoder.layer.{N}.intermediate.dense', 'blk.{N}.ffn_up'],
    ['encoder.layer.{N}.output.dense', 'blk.{N}.ffn_down'],
    ['encoder.layer.{N}.output.LayerNorm', 'blk.{N}.layer_output_norm'],
  ],
  topLevel: [],
};

/** Hugging Face ViTModel / ViTForImageClassification, named like llama.cpp's vision encoders (mmproj). */
const VIT: FamilyNaming = {
  prefixes: ['vit.', ''],
  stems: [
    ['embeddings.cls_token', 'v.class_embd'],
    ['embeddings.position_embeddings', 'v.position_embd'],
    ['embeddings.patch_embeddings.projection', 'v.patch_embd'],
    ['encoder.layer.{N}.layernorm_before', 'v.blk.{N}.ln1'],
    ['encoder.layer.{N}.attention.attention.query', 'v.blk.{N}.attn_q'],
    ['encoder.layer.{N}.attention.attention.key', 'v.blk.{N}.attn_k'],
    ['encoder.layer.{N}.attention.attention.value', 'v.blk.{N}.attn_v'],
    ['encoder.layer.{N}.attention.output.dense', 'v.blk.{N}.attn_out'],
    ['encoder.layer.{N}.layernorm_after', 'v.blk.{N}.ln2'],
    ['encoder.layer.{N}.intermediate.dense', 'v.blk.{N}.ffn_up'],
    ['encoder.layer.{N}.output.dense', 'v.blk.{N}.ffn_down'],
    ['layernorm', 'v.post_ln'],
  ],
  topLevel: [],
};

const NAMED_FAMILIES: Record<Exclude<NamingFamily, 'gguf'>, FamilyNaming> = { llama: LLAMA, 'llama-meta': LLAMA_META, gpt2: GPT2, bert: BERT, vit: VIT };

/** GGUF names are canonical already: the family is every llama.cpp stem above, mapped to itself. */
const GGUF: FamilyNaming = {
  prefixes: [''],
  stems: [...new Set(Object.values(NAMED_FAMILIES).flatMap((f) => [...f.stems, ...f.topLevel].map(([, gguf]) => gguf)))].map((s) => [s, s] as const),
  topLevel: [],
};

export const NAMING_FAMILIES: readonly NamingFamily[] = ['llama', 'llama-meta', 'gpt2', 'bert', 'vit', 'gguf'];

function naming(family: NamingFamily): FamilyNaming {
  return family === 'gguf' ? GGUF : NAMED_FAMILIES[family];
}

const SUFFIXES: Readonly<Record<string, string>> = { '.weight': '.weight', '.bias': '.bias', '.gamma': '.weight', '.beta': '.bias' };

/** Splits `a.b.weight` into the stem and the canonical suffix (`.gamma` reads as `.weight`). */
function splitSuffix(name: string): { stem: string; suffix: string } {
  for (const [written, canonical] of Object.entries(SUFFIXES)) {
    if (name.endsWith(written)) return { stem: name.slice(0, -written.length), suffix: canonical };
  }
  return { stem: name, suffix: '' };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const patternCache = new Map<string, RegExp>();

/** The block number of `stem` under `template`, '' for a template without {N}, undefined if no match. */
function matchStem(template: string, stem: string): string | undefined {
  let pattern = patternCache.get(template);
  if (pattern === undefined) {
    pattern = new RegExp(`^${escapeRegExp(template).replace('\\{N\\}', '(\\d+)')}$`);
    patternCache.set(template, pattern);
  }
  const m = pattern.exec(stem);
  if (m === null) return undefined;
  return m[1] ?? '';
}

function translate(stem: string, table: readonly (readonly [string, string])[], from: 0 | 1): string | undefined {
  for (const row of table) {
    const block = matchStem(row[from], stem);
    if (block !== undefined) return row[1 - from].replace('{N}', block);
  }
  return undefined;
}

/** The llama.cpp name of tensor `name` under `family`'s naming, or undefined when the family has no such tensor. */
export function toCanonical(name: string, family: NamingFamily): string | undefined {
  const { stem, suffix } = splitSuffix(name);
  const spec = naming(family);
  const top = translate(stem, spec.topLevel, 0);
  if (top !== undefined) return top + suffix;
  for (const prefix of spec.prefixes) {
    if (!stem.startsWith(prefix)) continue;
    const canonical = translate(stem.slice(prefix.length), spec.stems, 0);
    if (canonical !== undefined) return canonical + suffix;
  }
  return undefined;
}

/** The family's preferred name for a canonical (llama.cpp) name, or undefined when it has none. */
export function fromCanonical(key: string, family: NamingFamily): string | undefined {
  const { stem, suffix } = splitSuffix(key);
  const spec = naming(family);
  const top = translate(stem, spec.topLevel, 1);
  if (top !== undefined) return top + suffix;
  const inner = translate(stem, spec.stems, 1);
  return inner === undefined ? undefined : spec.prefixes[0] + inner + suffix;
}

/**
 * The naming family that explains most of `names`; GGUF files are always 'gguf'. Undefined when
 * no family names any of them (a ResNet, an ONNX export with generated names only).
 */
export function detectFamily(names: readonly string[], format?: string): NamingFamily | undefined {
  if (format === 'gguf') return 'gguf';
  let best: NamingFamily | undefined;
  let bestCount = 0;
  for (const family of NAMING_FAMILIES) {
    let count = 0;
    for (const name of names) if (toCanonical(name, family) !== undefined) count++;
    if (count > bestCount) {
      best = family;
      bestCount = count;
    }
  }
  return best;
}

/** Canonical keys of the token embedding and the LM head, the tensors a tied model shares. */
export const TOKEN_EMBEDDING = 'token_embd.weight';
export const LM_HEAD = 'output.weight';

/** Embeddings whose rows grow with the vocabulary or context: compared on the rows both models have. */
const ROW_EXTENSIBLE = new Set([TOKEN_EMBEDDING, LM_HEAD, 'position_embd.weight', 'token_types.weight']);

export function isRowExtensible(key: string | undefined): boolean {
  return key !== undefined && ROW_EXTENSIBLE.has(key);
}

/** Query and key projections, whose rows llama.cpp permutes for its rotary embedding (see rope.ts). */
export function ropePermutedRole(key: string | undefined): 'q' | 'k' | undefined {
  const m = key === undefined ? null : /^blk\.\d+\.attn_([qk])\.(weight|bias)$/.exec(key);
  return m === null ? undefined : (m[1] as 'q' | 'k');
}

/** GPT-2's Conv1D weights: stored [in, out] by Hugging Face, [out, in] by llama.cpp and nn.Linear. */
export function isConv1dRole(key: string | undefined): boolean {
  return key !== undefined && /^blk\.\d+\.(attn_qkv|attn_output|ffn_up|ffn_down)\.weight$/.test(key);
}
