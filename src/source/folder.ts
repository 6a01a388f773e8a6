/**
 * A Hugging Face style model folder: `config.json` (optional, parsed into `config`) and one weights
 * file, found by name. A .gguf file is taken only when it is the folder's one .gguf file.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { isJsonObject } from '../base/validate.js';
import { check, FormatError } from '../formats/errors.js';
import { FOLDER_CANDIDATES } from '../formats/index.js';
import { withInputFile } from '../formats/input-file.js';
import { checkJsonNesting } from '../formats/safetensors/header.js';

export const PYTORCH_SHARD_INDEX = 'pytorch_model.bin.index.json';
/** Weights file names in the order they are looked for. */
export const SOURCE_FOLDER_CANDIDATES: readonly string[] = [...FOLDER_CANDIDATES, PYTORCH_SHARD_INDEX];

/** Real configs are a few KiB (label maps make some a few hundred); more is not a config. */
export const MAX_CONFIG_BYTES = 4 * 1024 * 1024;
/** Real configs nest a few levels (text_config -> rope_scaling -> a list); JSON past this is hostile. */
export const MAX_CONFIG_DEPTH = 32;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

async function exists(path: string): Promise<boolean> {
  return fs.stat(path).then(
    () => true,
    () => false,
  );
}

/** The folder's config.json as an object, or undefined when it has none. */
async function readConfig(folder: string): Promise<Record<string, unknown> | undefined> {
  const path = join(folder, 'config.json');
  if (!(await exists(path))) return undefined;
  return readFolderJson(path);
}

/** A JSON object file of a model folder (config.json, adapter_config.json): size- and depth-capped, as hostile input. */
export async function readFolderJson(path: string): Promise<Record<string, unknown>> {
  const bytes = await withInputFile(path, (input) => {
    check(input.size <= MAX_CONFIG_BYTES, path, `is ${input.size} bytes, more than the ${MAX_CONFIG_BYTES}-byte limit for a model config`);
    return input.readAll();
  });
  checkJsonNesting(bytes, MAX_CONFIG_DEPTH, path, 'config', 0);
  let parsed: unknown;
  try {
    parsed = JSON.parse(utf8.decode(bytes));
  } catch (err) {
    throw new FormatError(path, `is not valid JSON (${(err as Error).message})`);
  }
  check(isJsonObject(parsed), path, 'must be a JSON object');
  return parsed;
}

async function findWeights(folder: string): Promise<string> {
  for (const name of SOURCE_FOLDER_CANDIDATES) {
    const candidate = join(folder, name);
    if (await exists(candidate)) return candidate;
  }
  let names: string[];
  try {
    names = await fs.readdir(folder);
  } catch (err) {
    throw new FormatError(folder, `cannot list folder (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  const ggufs = names.filter((name) => name.toLowerCase().endsWith('.gguf')).sort();
  if (ggufs.length === 1) return join(folder, ggufs[0]);
  if (ggufs.length > 1) {
    const shown = ggufs.slice(0, 5).join(', ') + (ggufs.length > 5 ? ', ...' : '');
    throw new FormatError(folder, `holds ${ggufs.length} .gguf files (${shown}); give the path of the one to open`);
  }
  throw new FormatError(folder, `is a folder without a model file (looked for ${SOURCE_FOLDER_CANDIDATES.join(', ')} and a single *.gguf)`);
}

/** The weights file of a model folder and its parsed config.json, if any. */
export async function resolveModelFolder(folder: string): Promise<{ file: string; config?: Record<string, unknown> }> {
  const file = await findWeights(folder);
  const config = await readConfig(folder);
  return config === undefined ? { file } : { file, config };
}
