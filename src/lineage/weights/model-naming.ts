/**
 * What the matcher needs to know about one model besides its tensor list: its naming family, the
 * canonical key of each tensor, how it stores rotary Q/K rows and GPT-2's Conv1D weights, and its
 * attention head counts (from GGUF metadata or config.json).
 */
import type { ModelSource } from '../../source/types.js';
import { type NamingFamily, detectFamily, isConv1dRole, toCanonical } from './naming.js';

/**
 * Row order of the rotary query/key projections. Hugging Face's Llama conversion permutes Meta's
 * interleaved pairs into two halves; llama.cpp's `permute` (convert_hf_to_gguf.py) undoes that for
 * the architectures below, so Meta checkpoints and those GGUF files share the interleaved order.
 */
export type RopeLayout = 'halves' | 'interleaved';

/** GGUF architectures whose converter applies `permute` to q_proj/k_proj (Qwen2, GPT-2, BERT: no). */
const PERMUTED_GGUF_ARCHITECTURES = new Set(['llama', 'granite', 'granitemoe', 'minicpm', 'deci']);

/** [rows, cols] of a 2-d weight as stored: nn.Linear and llama.cpp [out, in], Conv1D and ONNX MatMul [in, out]. */
export type Orientation = 'out-in' | 'in-out';

export interface HeadCounts {
  q: number;
  kv: number;
}

export interface ModelNaming {
  family: NamingFamily | undefined;
  /** GGUF `general.architecture`, when the file has one. */
  architecture: string | undefined;
  ropeLayout: RopeLayout;
  heads: HeadCounts | undefined;
  /** How this model stores GPT-2's Conv1D-role weights. */
  conv1d: Orientation;
  /** Canonical (llama.cpp) key of each tensor that the family names. */
  keys: ReadonlyMap<string, string>;
}

function positiveInteger(value: unknown): number | undefined {
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  return typeof n === 'number' && Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

/** Head counts from GGUF `<arch>.attention.head_count(_kv)` or config.json `num_attention_heads` / `num_key_value_heads` / `n_head`. */
export function headCounts(source: ModelSource): HeadCounts | undefined {
  return ggufHeadCounts(source) ?? configHeadCounts(source.config ?? {});
}

/** A per-layer head_count_kv (an array) says nothing about one tensor: then the metadata gives no counts. */
function ggufHeadCounts(source: ModelSource): HeadCounts | undefined {
  const arch = source.metadata['general.architecture'];
  if (arch === undefined) return undefined;
  const q = positiveInteger(source.metadata[`${arch}.attention.head_count`]);
  const kvText = source.metadata[`${arch}.attention.head_count_kv`];
  const kv = kvText === undefined ? q : positiveInteger(kvText);
  return q === undefined || kv === undefined ? undefined : { q, kv };
}

function configHeadCounts(config: Readonly<Record<string, unknown>>): HeadCounts | undefined {
  const q = positiveInteger(config.num_attention_heads) ?? positiveInteger(config.n_head);
  if (q === undefined) return undefined;
  return { q, kv: positiveInteger(config.num_key_value_heads) ?? q };
}

/** GPT-2 checkpoints written with nn.Linear (nanoGPT) keep Hugging Face's names: c_attn's shape tells [d, 3d] from [3d, d]. */
function conv1dOrientation(source: ModelSource, family: NamingFamily | undefined, keys: ReadonlyMap<string, string>): Orientation {
  if (family !== 'gpt2') return 'out-in';
  for (const t of source.tensors) {
    if (t.shape.length !== 2 || !/attn_qkv\.weight$/.test(keys.get(t.name) ?? '')) continue;
    if (t.shape[0] === 3 * t.shape[1]) return 'out-in';
    if (t.shape[1] === 3 * t.shape[0]) return 'in-out';
  }
  return 'in-out';
}

export function describeNaming(source: ModelSource): ModelNaming {
  const names = source.tensors.map((t) => t.name);
  const family = detectFamily(names, source.format);
  const keys = new Map<string, string>();
  if (family !== undefined) {
    for (const name of names) {
      const key = toCanonical(name, family);
      if (key !== undefined) keys.set(name, key);
    }
  }
  const architecture = source.metadata['general.architecture'];
  const interleaved = family === 'llama-meta' || (family === 'gguf' && architecture !== undefined && PERMUTED_GGUF_ARCHITECTURES.has(architecture));
  return {
    family,
    architecture,
    ropeLayout: interleaved ? 'interleaved' : 'halves',
    heads: headCounts(source),
    conv1d: conv1dOrientation(source, family, keys),
    keys,
  };
}

/** ONNX exports store a Linear's weight transposed as a MatMul input with a generated name. */
export function isGeneratedName(name: string): boolean {
  return /^onnx::/.test(name) || /^val_\d+$/.test(name);
}

/** How the 2-d tensor `name` of this model is oriented. */
export function orientationOf(naming: ModelNaming, name: string): Orientation {
  if (/^onnx::MatMul_/.test(name)) return 'in-out';
  return isConv1dRole(naming.keys.get(name)) ? naming.conv1d : 'out-in';
}
