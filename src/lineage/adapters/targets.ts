/**
 * The modules a PEFT LoRA adapter changes, read from its tensor names and shapes and checked against
 * its adapter_config.json. PEFT saves, for a module `M` of the wrapped model, `base_model.model.M.lora_A.weight`
 * [r, in] and `...lora_B.weight` [out, r] (embeddings: `M.lora_embedding_A` [r, vocab] and
 * `M.lora_embedding_B` [dim, r]); merging adds scale * B A to `M.weight`.
 */
import { join } from 'node:path';
import { check, FormatError } from '../../formats/errors.js';
import { ADAPTER_CONFIG, type LoraConfig, PEFT_LORA_FORMAT, parseLoraConfig } from '../../source/peft.js';
import type { ModelSource, SourceTensor } from '../../source/types.js';

/** What PeftModel puts before the wrapped model's own parameter names. */
export const PEFT_PREFIX = 'base_model.model.';

export interface LoraTarget {
  /** The base tensor the update applies to, named as the wrapped model names it (model.layers.0.self_attn.q_proj.weight). */
  module: string;
  /** Adapter tensor names of the factors: A [r, in], B [out, r]. */
  a: string;
  b: string;
  rank: number;
  /** lora_alpha / r, or lora_alpha / sqrt(r) for rsLoRA. */
  scale: number;
  /** The base stores the weight [in, out] (Conv1D with fan_in_fan_out, and every embedding): the update is (B A) transposed. */
  fanInFanOut: boolean;
}

/** The base-model name of an adapter tensor name: PEFT's wrapper prefix dropped. */
export function baseName(adapterName: string): string {
  return adapterName.startsWith(PEFT_PREFIX) ? adapterName.slice(PEFT_PREFIX.length) : adapterName;
}

const LINEAR = /^(.+)\.lora_([AB])\.weight$/;
const EMBEDDING = /^(.+)\.lora_embedding_([AB])$/;
/** Tensors of LoRA variants whose merge is not W + scale B A. */
const UNSUPPORTED: readonly [RegExp, string][] = [
  [/\.lora_magnitude_vector(\.weight)?$/, 'is a DoRA magnitude vector; DoRA adapters are not supported'],
  [/\.lora_B\.bias$/, 'is a LoRA bias (lora_bias); adapters with trained lora_B biases are not supported'],
];

interface Factor {
  module: string;
  embedding: boolean;
  tensor: SourceTensor;
}

/** The A and B factors of each module, keyed by the module's prefixed name, in file order. */
function collectFactors(adapter: ModelSource): Map<string, { a?: Factor; b?: Factor }> {
  const modules = new Map<string, { a?: Factor; b?: Factor }>();
  for (const tensor of adapter.tensors) {
    for (const [pattern, problem] of UNSUPPORTED) check(!pattern.test(tensor.name), adapter.file, `tensor "${tensor.name}" ${problem}`);
    const linear = LINEAR.exec(tensor.name);
    const m = linear ?? EMBEDDING.exec(tensor.name);
    if (m === null) continue;
    const entry = modules.get(m[1]) ?? {};
    const side = m[2] === 'A' ? 'a' : 'b';
    check(entry[side] === undefined, adapter.file, `holds two lora_${m[2]} tensors for module "${m[1]}"`);
    entry[side] = { module: m[1], embedding: linear === null, tensor };
    modules.set(m[1], entry);
  }
  return modules;
}

/** Whether a rank_pattern / alpha_pattern key names `module` (PEFT matches keys at a dot boundary at the end of the name). */
function keyNames(key: string, module: string): boolean {
  return module === key || module.endsWith(`.${key}`);
}

/** Pattern keys PEFT would read as regular expressions; read here as names only. */
function isPlainKey(key: string): boolean {
  return /^[\w.-]+$/.test(key);
}

function patternValue(pattern: Readonly<Record<string, number>>, module: string): number | undefined {
  for (const [key, value] of Object.entries(pattern)) if (keyNames(key, module)) return value;
  return undefined;
}

/** The rank the config gives `module`, checked against the rank the shapes show. */
function checkRank(config: LoraConfig, module: string, rank: number, file: string): void {
  const named = patternValue(config.rankPattern, module);
  if (named !== undefined) {
    check(rank === named, file, `module "${module}" has rank ${rank}, but adapter_config.json rank_pattern gives it ${named}`);
    return;
  }
  // A regular-expression key may name this module: then any of its ranks is one the config allows.
  const patternRanks = Object.entries(config.rankPattern).flatMap(([key, value]) => (isPlainKey(key) ? [] : [value]));
  check(rank === config.r || patternRanks.includes(rank), file, `module "${module}" has rank ${rank}, but adapter_config.json gives r = ${config.r}`);
}

function scaleOf(config: LoraConfig, module: string, rank: number): number {
  const alpha = patternValue(config.alphaPattern, module) ?? config.loraAlpha;
  return config.useRslora ? alpha / Math.sqrt(rank) : alpha / rank;
}

function target(config: LoraConfig, file: string, a: Factor, b: Factor): LoraTarget {
  for (const f of [a, b]) {
    check(
      f.tensor.shape.length === 2,
      file,
      `tensor "${f.tensor.name}" has shape [${f.tensor.shape.join(', ')}]; only 2-d LoRA factors (linear and embedding layers) are supported`,
    );
  }
  const [rank, inputs] = a.tensor.shape;
  const [outputs, bRank] = b.tensor.shape;
  check(
    rank === bRank,
    file,
    `tensors "${a.tensor.name}" [${rank}, ${inputs}] and "${b.tensor.name}" [${outputs}, ${bRank}] disagree on the rank (A is [r, in], B is [out, r])`,
  );
  const module = baseName(a.module);
  checkRank(config, module, rank, file);
  return {
    module: `${module}.weight`,
    a: a.tensor.name,
    b: b.tensor.name,
    rank,
    scale: scaleOf(config, module, rank),
    fanInFanOut: a.embedding || config.fanInFanOut,
  };
}

/** The configuration of a 'peft-lora' source, validated again (a source may come from elsewhere than openModelSource). */
export function adapterConfig(adapter: ModelSource): LoraConfig {
  const file = join(adapter.path, ADAPTER_CONFIG);
  if (adapter.format !== PEFT_LORA_FORMAT || adapter.config === undefined)
    throw new FormatError(adapter.path, `is not a PEFT LoRA adapter (no ${ADAPTER_CONFIG})`);
  const config = parseLoraConfig(adapter.config, file);
  check(!config.useDora, file, 'field "use_dora" is true; DoRA adapters are not supported');
  check(!config.loraBias, file, 'field "lora_bias" is true; adapters with trained lora_B biases are not supported');
  const patterns = Object.keys(config.alphaPattern).filter((key) => !isPlainKey(key));
  check(patterns.length === 0, file, () => `field "alpha_pattern" key "${patterns[0]}" is a regular expression; only module names are supported`);
  return config;
}

/** Every module the adapter changes, in file order; refuses factors whose shapes or ranks disagree. */
export function loraTargets(adapter: ModelSource): LoraTarget[] {
  const config = adapterConfig(adapter);
  const targets: LoraTarget[] = [];
  for (const [name, { a, b }] of collectFactors(adapter)) {
    check(
      a !== undefined && b !== undefined,
      adapter.file,
      `module "${name}" has lora_${a === undefined ? 'B' : 'A'} but no lora_${a === undefined ? 'A' : 'B'}`,
    );
    check(a.embedding === b.embedding, adapter.file, `module "${name}" mixes lora_embedding and lora factors`);
    targets.push(target(config, adapter.file, a, b));
  }
  check(targets.length > 0, adapter.file, 'holds no LoRA factors (no tensor named like *.lora_A.weight / *.lora_B.weight)');
  return targets;
}
