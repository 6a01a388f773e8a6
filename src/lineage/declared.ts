/**
 * Lineage a model declares about itself, read where files carry it and never used for scoring:
 * `config.json` (`base_model`, `_name_or_path`), the model card's YAML front matter (`README.md`
 * in the model's folder: `base_model: id` or a list), a PEFT adapter's
 * `base_model_name_or_path`, and GGUF's `general.base_model.N.name` / `.repo_url` /
 * `.organization`. Only what is declared is reported: a missing field is not a claim.
 */
import { join } from 'node:path';
import { statInput, readInputFile } from '../formats/input-file.js';
import type { ModelSource } from '../source/types.js';

export interface DeclaredParent {
  /** The id as declared (a hub id such as `meta-llama/Llama-2-7b-hf`, or a path). */
  id: string;
  /** Where it was found: `config.json: _name_or_path`, `README.md: base_model`, `GGUF: general.base_model.0.name`, ... */
  source: string;
}

/** Model cards are small; a larger README is not read (it is a hostile input like any file). */
const MAX_CARD_BYTES = 1 << 20;

function fromConfig(config: Readonly<Record<string, unknown>> | undefined, file: string): DeclaredParent[] {
  if (!config) return [];
  const out: DeclaredParent[] = [];
  for (const key of ['base_model', 'base_model_name_or_path', '_name_or_path']) {
    const value = config[key];
    if (typeof value === 'string' && value.trim() !== '') out.push({ id: value.trim(), source: `${file}: ${key}` });
  }
  return out;
}

function fromGguf(metadata: Readonly<Record<string, string>>): DeclaredParent[] {
  const out: DeclaredParent[] = [];
  const count = Number(metadata['general.base_model.count'] ?? '0');
  for (let i = 0; i < (Number.isSafeInteger(count) ? Math.min(count, 64) : 0); i++) {
    for (const field of ['repo_url', 'name']) {
      const key = `general.base_model.${i}.${field}`;
      const value = metadata[key];
      if (value) {
        const org = metadata[`general.base_model.${i}.organization`];
        const id = field === 'name' && org ? `${org}/${value}` : value;
        out.push({ id, source: `GGUF: ${key}` });
        break;
      }
    }
  }
  return out;
}

/** `base_model:` from YAML front matter: a scalar, a flow list `[a, b]` or a block list of `- a` lines. */
export function frontMatterBaseModels(text: string): string[] {
  const lines = text.split(/\r?\n/);
  if (lines[0]?.trim() !== '---') return [];
  const end = lines.indexOf('---', 1);
  const body = lines.slice(1, end < 0 ? lines.length : end);
  const unquote = (v: string) => v.trim().replace(/^["']|["']$/g, '');
  for (let i = 0; i < body.length; i++) {
    const match = /^base_model\s*:\s*(.*)$/.exec(body[i]);
    if (!match) continue;
    const value = match[1].trim();
    if (value.startsWith('['))
      return value
        .replace(/^\[|\]$/g, '')
        .split(',')
        .map(unquote)
        .filter(Boolean);
    if (value !== '') return [unquote(value)];
    const items: string[] = [];
    for (let j = i + 1; j < body.length && /^\s*-\s+/.test(body[j]); j++) items.push(unquote(body[j].replace(/^\s*-\s+/, '')));
    return items;
  }
  return [];
}

async function fromModelCard(folder: string): Promise<DeclaredParent[]> {
  const card = join(folder, 'README.md');
  try {
    const stat = await statInput(card);
    if (!stat.isFile() || stat.size > MAX_CARD_BYTES) return [];
  } catch {
    return [];
  }
  const text = new TextDecoder().decode(await readInputFile(card));
  return frontMatterBaseModels(text).map((id) => ({ id, source: 'README.md: base_model' }));
}

/** A model given as a folder (a model in memory, or a file, has no card of its own). */
async function isFolder(path: string): Promise<boolean> {
  try {
    return (await statInput(path)).isDirectory();
  } catch {
    return false;
  }
}

/** Everything `source` declares about its parent(s), first the most explicit, duplicates removed. */
export async function declaredParents(source: ModelSource): Promise<DeclaredParent[]> {
  // A model card belongs to a model folder; a README beside a single file may describe anything.
  const card = (await isFolder(source.path)) ? await fromModelCard(source.path) : [];
  const configName = source.format === 'peft-lora' ? 'adapter_config.json' : 'config.json';
  const all = [...card, ...fromConfig(source.config, configName), ...fromGguf(source.metadata)];
  const seen = new Set<string>();
  return all.filter((d) => !seen.has(d.id) && seen.add(d.id));
}
