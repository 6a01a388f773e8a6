/**
 * Which matched tensor pairs the unit-matching test may use. The test permutes a matrix's rows, so
 * its rows must be units that independent training leaves with no preferred order: hidden units
 * (output channels, attention and MLP rows). Rows that mean the same thing in every model are not:
 * vocabulary entries of an embedding or LM head, positions, and the classes of a classifier head
 * (row i is class i in both models, so row i of two independent models can agree through the data
 * alone). Those, 1-d tensors and shared-rows pairs are left out with a reason.
 */
import type { ModelNaming } from '../weights/model-naming.js';
import type { TensorPair } from '../weights/types.js';

export interface SkippedPair {
  a_name: string;
  b_name: string;
  reason: string;
}

/** Canonical (llama.cpp) keys whose rows are vocabulary entries, positions or token types. */
const ENTRY_ROW_KEYS = new Set(['token_embd.weight', 'output.weight', 'position_embd.weight', 'token_types.weight', 'v.position_embd.weight', 'v.class_embd']);

/**
 * A module path component that names an output head (rows are classes or vocabulary entries): a
 * name heuristic for models outside the naming families. It also drops hidden layers inside a head
 * (VGG's classifier.0, BERT's cls.predictions.transform): less power, never a wrong unit.
 */
const HEAD_COMPONENT = /^(lm_head|head|classifier|score|fc|logits|predictions|vocab_projector|qa_outputs)$/;
/** A module path component that names an embedding table (rows are vocabulary entries or positions). */
const EMBEDDING_COMPONENT = /^(wte|wpe|tok_embeddings|embed_tokens|word_embeddings|position_embeddings|token_type_embeddings|embedding|embeddings|embed)$/;

function components(name: string): string[] {
  return name.split('.').slice(0, -1);
}

/** Why the rows of tensor `name` (canonical key `key`) are not exchangeable units, or undefined when they are. */
function entryRowReason(name: string, key: string | undefined): string | undefined {
  if (key !== undefined && ENTRY_ROW_KEYS.has(key)) return `rows are vocabulary or position entries (${key}), not exchangeable units`;
  const parts = components(name);
  if (parts.some((p) => HEAD_COMPONENT.test(p))) return 'an output head: rows are classes or vocabulary entries, shared by every model, not exchangeable units';
  if (parts.some((p) => EMBEDDING_COMPONENT.test(p))) return 'an embedding: rows are vocabulary or position entries, not exchangeable units';
  return undefined;
}

/** Why the pair cannot enter the test, or undefined when it can. */
export function ineligibleReason(pair: TensorPair, naming: { a: ModelNaming; b: ModelNaming }): string | undefined {
  const { a, b, transform } = pair;
  if (a.shape.length < 2 || b.shape.length < 2) return 'a 1-d tensor (bias, norm): no units to permute';
  if (transform.kind === 'shared-rows') return 'rows are vocabulary or position entries (shared-rows pair), not exchangeable units';
  const reason = entryRowReason(a.name, naming.a.keys.get(a.name)) ?? entryRowReason(b.name, naming.b.keys.get(b.name));
  if (reason !== undefined) return reason;
  if (a.shape[0] < 2) return 'fewer than 2 rows: no units to permute';
  return undefined;
}

/**
 * At most `max` of `pairs`, spread evenly over them (the k-th of n taken at index
 * floor((2k + 1) n / 2max)), so a large model is sampled from its first layers to its last.
 */
export function spreadEvenly<T>(items: readonly T[], max: number): { kept: T[]; left: T[] } {
  if (items.length <= max) return { kept: [...items], left: [] };
  const chosen = new Set<number>();
  for (let k = 0; k < max; k++) chosen.add(Math.floor(((2 * k + 1) * items.length) / (2 * max)));
  return { kept: items.filter((_, i) => chosen.has(i)), left: items.filter((_, i) => !chosen.has(i)) };
}
