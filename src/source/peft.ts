/**
 * A PEFT LoRA adapter folder (`adapter_config.json` beside `adapter_model.safetensors` or
 * `adapter_model.bin`, as `PeftModel.save_pretrained` writes it) as a model source: its tensors
 * are the adapter's factors under PEFT's names, its config the validated adapter_config.json.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { isFiniteNumber, isIntegerAtLeast, isJsonObject, isStringList } from '../base/validate.js';
import { check, FormatError } from '../formats/errors.js';
import { SafetensorsFile } from '../formats/safetensors/file.js';
import { TorchCheckpointFile } from '../formats/torch/file.js';
import { readFolderJson } from './folder.js';
import { ListedSource } from './listed-source.js';
import { pytorchEntry } from './pytorch.js';
import { safetensorsEntry } from './safetensors.js';
import type { ModelSource } from './types.js';

export const ADAPTER_CONFIG = 'adapter_config.json';
/** Adapter weights file names in the order they are looked for. */
export const ADAPTER_WEIGHTS: readonly string[] = ['adapter_model.safetensors', 'adapter_model.bin'];
export const PEFT_LORA_FORMAT = 'peft-lora';

/** The fields of adapter_config.json that say how to apply a LoRA adapter. */
export interface LoraConfig {
  r: number;
  loraAlpha: number;
  /** Module names (matched as name suffixes) or one regular expression, as PEFT saved them. */
  targetModules: readonly string[] | string;
  /** The base stores these weights [in, out] (GPT-2's Conv1D): the update is (B A) transposed. */
  fanInFanOut: boolean;
  /** rsLoRA scales by lora_alpha / sqrt(r) instead of lora_alpha / r. */
  useRslora: boolean;
  /** DoRA adds a magnitude vector per module: not a plain W + scale B A update. */
  useDora: boolean;
  /** lora_bias adds a trained bias to lora_B. */
  loraBias: boolean;
  /** Per-module rank and alpha overrides, keyed by module name (or a pattern). */
  rankPattern: Readonly<Record<string, number>>;
  alphaPattern: Readonly<Record<string, number>>;
  /** base_model_name_or_path, when the config names one. */
  baseModel?: string;
}

/** A boolean field that may be absent (or null, as some writers leave unset options). */
function optionalBoolean(config: Readonly<Record<string, unknown>>, field: string, file: string): boolean {
  const value = config[field];
  if (value === undefined || value === null) return false;
  check(typeof value === 'boolean', file, `field "${field}" must be true or false, got ${JSON.stringify(value)}`);
  return value;
}

function patternMap(
  config: Readonly<Record<string, unknown>>,
  field: string,
  file: string,
  valid: (v: unknown) => boolean,
  what: string,
): Record<string, number> {
  const value = config[field];
  if (value === undefined || value === null) return {};
  check(isJsonObject(value), file, `field "${field}" must be an object of module name to ${what}`);
  const out: Record<string, number> = {};
  for (const [key, item] of Object.entries(value)) {
    check(valid(item), file, `field "${field}" entry "${key}" must be ${what}, got ${JSON.stringify(item)}`);
    out[key] = item as number;
  }
  return out;
}

/** Validates a parsed adapter_config.json; `file` is named in every error. */
export function parseLoraConfig(config: Readonly<Record<string, unknown>>, file: string): LoraConfig {
  const type = config.peft_type;
  check(type !== undefined, file, 'field "peft_type" is missing; a PEFT adapter config names its type (LORA)');
  check(type === 'LORA', file, () => `field "peft_type" is ${JSON.stringify(type)}; only LORA adapters are supported`);
  check(isIntegerAtLeast(config.r, 1), file, () => `field "r" must be a positive integer, got ${JSON.stringify(config.r) ?? 'nothing'}`);
  check(isFiniteNumber(config.lora_alpha), file, () => `field "lora_alpha" must be a finite number, got ${JSON.stringify(config.lora_alpha) ?? 'nothing'}`);
  const targets = config.target_modules;
  check(
    typeof targets === 'string' || isStringList(targets),
    file,
    () => `field "target_modules" must be a list of module names or a string, got ${JSON.stringify(targets) ?? 'nothing'}`,
  );
  const base = config.base_model_name_or_path;
  check(base === undefined || base === null || typeof base === 'string', file, 'field "base_model_name_or_path" must be a string');
  return {
    r: config.r,
    loraAlpha: config.lora_alpha,
    targetModules: targets,
    fanInFanOut: optionalBoolean(config, 'fan_in_fan_out', file),
    useRslora: optionalBoolean(config, 'use_rslora', file),
    useDora: optionalBoolean(config, 'use_dora', file),
    loraBias: optionalBoolean(config, 'lora_bias', file),
    rankPattern: patternMap(config, 'rank_pattern', file, (v) => isIntegerAtLeast(v, 1), 'a positive integer'),
    alphaPattern: patternMap(config, 'alpha_pattern', file, isFiniteNumber, 'a finite number'),
    ...(typeof base === 'string' ? { baseModel: base } : {}),
  };
}

async function isPresent(path: string): Promise<boolean> {
  return fs.stat(path).then(
    () => true,
    () => false,
  );
}

/**
 * The adapter config and weights file of `folder`, or undefined when it holds no adapter_config.json.
 * An adapter config wins over model weights beside it: the folder was saved as an adapter.
 */
export async function resolveAdapterFolder(folder: string): Promise<{ file: string; config: Record<string, unknown> } | undefined> {
  const configPath = join(folder, ADAPTER_CONFIG);
  if (!(await isPresent(configPath))) return undefined;
  const config = await readFolderJson(configPath);
  parseLoraConfig(config, configPath);
  for (const name of ADAPTER_WEIGHTS) {
    const file = join(folder, name);
    if (await isPresent(file)) return { file, config };
  }
  throw new FormatError(folder, `holds ${ADAPTER_CONFIG} but no adapter weights (looked for ${ADAPTER_WEIGHTS.join(', ')})`);
}

/** Opens the adapter weights `file` (safetensors or a torch.save zip) with the adapter's config. */
export async function openPeftSource(path: string, file: string, config: Record<string, unknown>): Promise<ModelSource> {
  const parts = { path, file, format: PEFT_LORA_FORMAT, config };
  if (file.endsWith('.safetensors')) {
    const st = await SafetensorsFile.open(file);
    return new ListedSource({ ...parts, metadata: st.metadata, entries: st.tensors.map((t) => safetensorsEntry(st, t.name)), close: () => st.close() });
  }
  const checkpoint = await TorchCheckpointFile.open(file);
  return new ListedSource({
    ...parts,
    metadata: checkpoint.metadata,
    entries: checkpoint.tensors.map((info) => pytorchEntry(checkpoint, info)),
    close: () => checkpoint.close(),
  });
}
