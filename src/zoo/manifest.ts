/**
 * The one reader of a zoo folder's DIR/manifest.json, and the manifest's types (the builder,
 * src/train/zoo-build.ts, writes it):
 *   {"zoo": {"name", "scale"}, "models": [{"id", "file", "arch", "parent", "generation", "task", ...}],
 *    "probes": {"<task>": "probes/<task>.npy"}}
 * The file is treated as hostile: every field a reader uses is type-checked, ids are unique,
 * parents are in the zoo and form no loop, and every path stays inside DIR. Each problem is a
 * FormatError naming the manifest. Purpose-specific views (tree, bench, detector) build on this.
 */
import { promises as fs } from 'node:fs';
import { isAbsolute, join, resolve, sep } from 'node:path';
import { FormatError } from '../formats/errors.js';
import type { Metrics } from '../train/evaluate.js';

export const MANIFEST = 'manifest.json';

export interface ManifestModel {
  id: string;
  file: string;
  arch: string;
  parent: string | null;
  generation: number;
  task: string;
  setting: string;
  seed: number;
  hyper: Record<string, unknown>;
  accuracy: number;
  metrics: Metrics;
  /** LoRA children: the adapter-only file. */
  adapter?: string;
  steps: number;
  finalLoss: number;
  headReplaced: boolean;
  frozenLayers?: string[];
}

export interface ZooManifest {
  zoo: { name: string; scale: number };
  models: ManifestModel[];
  probes: Record<string, string>;
}

/** Entry fields that are type-checked when present (and can be required by a reader). */
export type CheckedField = 'arch' | 'generation' | 'task' | 'setting' | 'seed' | 'hyper' | 'adapter';

/**
 * A model entry as far as it was checked. The builder's remaining fields (accuracy, metrics,
 * steps, ...) stay on the object as written, unchecked: no reader interprets them.
 */
export type ManifestEntry = Pick<ManifestModel, 'id' | 'file' | 'parent'> & Partial<Pick<ManifestModel, CheckedField>>;

export interface CheckedModel<K extends CheckedField = never> {
  entry: ManifestEntry & Required<Pick<ManifestModel, K>>;
  /** The model file: the zoo folder joined with entry.file. */
  path: string;
  /** Parent links up to a root (0 for roots); the manifest's own `generation` may differ. */
  depth: number;
}

export interface CheckedZoo<K extends CheckedField = never> {
  dir: string;
  /** DIR/manifest.json, the file to name in errors. */
  file: string;
  /** zoo.name when the manifest gives one. */
  name?: string;
  models: CheckedModel<K>[];
  /** task -> probe path relative to DIR, as written. */
  probeFiles: Record<string, string>;
  /** task -> probe path (DIR joined with the relative one). */
  probes: Map<string, string>;
}

export interface ReadZooManifestOptions<K extends CheckedField> {
  /** Entry fields every model must have. */
  require?: readonly K[];
  /** Accept a manifest with no models (one a build has only begun). */
  allowEmpty?: boolean;
}

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/** `value` as a path relative to DIR that names something inside it; returns DIR joined with it. */
function insideZoo(dir: string, value: unknown, file: string, what: string): string {
  if (typeof value !== 'string' || value === '') throw new FormatError(file, `${what} must be a non-empty path`);
  if (value.includes('\0')) throw new FormatError(file, `${what} contains a NUL character`);
  if (isAbsolute(value)) throw new FormatError(file, `${what} '${value}' must be a path relative to the zoo folder`);
  const root = resolve(dir);
  const full = resolve(root, value);
  if (full === root) throw new FormatError(file, `${what} '${value}' names the zoo folder itself`);
  if (!full.startsWith(root + sep)) throw new FormatError(file, `${what} '${value}' points outside the zoo folder`);
  return join(dir, value);
}

const FIELD_CHECKS: Record<Exclude<CheckedField, 'adapter'>, [test: (v: unknown) => boolean, expected: string]> = {
  arch: [(v) => typeof v === 'string', 'a string'],
  generation: [(v) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0, 'an integer >= 0'],
  task: [(v) => typeof v === 'string', 'a string'],
  setting: [(v) => typeof v === 'string', 'a string'],
  seed: [(v) => typeof v === 'number' && Number.isFinite(v), 'a number'],
  hyper: [isObject, 'an object'],
};

function checkEntry(dir: string, raw: unknown, i: number, file: string, required: ReadonlySet<CheckedField>): ManifestEntry {
  const at = `models[${i}]`;
  if (!isObject(raw)) throw new FormatError(file, `${at} must be an object`);
  if (typeof raw.id !== 'string' || raw.id === '') throw new FormatError(file, `${at}.id must be a non-empty string`);
  insideZoo(dir, raw.file, file, `${at}.file`);
  if (raw.parent !== null && typeof raw.parent !== 'string') throw new FormatError(file, `${at}.parent must be a model id or null`);
  for (const [field, [test, expected]] of Object.entries(FIELD_CHECKS)) {
    if (raw[field] === undefined) continue;
    if (!test(raw[field])) throw new FormatError(file, `${at}.${field} must be ${expected}`);
  }
  if (raw.adapter !== undefined) insideZoo(dir, raw.adapter, file, `${at}.adapter`);
  for (const field of required) if (raw[field] === undefined) throw new FormatError(file, `${at}.${field} is missing`);
  return raw as unknown as ManifestEntry;
}

/** Each model's number of parent links up to its root; a loop is a FormatError. */
function depths(entries: readonly ManifestEntry[], file: string): number[] {
  const index = new Map(entries.map((e, i) => [e.id, i]));
  const depth = new Array<number>(entries.length).fill(-1);
  entries.forEach((_, start) => {
    const chain: number[] = [];
    const onChain = new Map<number, number>();
    let at: number | undefined = start;
    while (at !== undefined && depth[at] < 0) {
      const seen = onChain.get(at);
      if (seen !== undefined) {
        const loop = [...chain.slice(seen), at].map((j) => entries[j].id);
        throw new FormatError(file, `model ${entries[at].id}: its parent chain loops (${loop.join(' -> ')})`);
      }
      onChain.set(at, chain.length);
      chain.push(at);
      const parent: string | null = entries[at].parent;
      at = parent === null ? undefined : index.get(parent);
    }
    let d = at === undefined ? -1 : depth[at];
    for (let k = chain.length - 1; k >= 0; k--) depth[chain[k]] = ++d;
  });
  return depth;
}

export async function readZooManifest<K extends CheckedField = never>(dir: string, options: ReadZooManifestOptions<K> = {}): Promise<CheckedZoo<K>> {
  const file = join(dir, MANIFEST);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    const hint = code === 'ENOENT' ? '; is this a zoo folder made by `lineage zoo build`?' : '';
    throw new FormatError(file, `cannot read the zoo manifest (${code})${hint}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new FormatError(file, `invalid JSON (${(err as Error).message})`);
  }
  if (!isObject(doc) || !Array.isArray(doc.models)) throw new FormatError(file, 'not a zoo manifest (expected {"models": [...], "probes": {...}})');
  const zoo = doc.zoo ?? {};
  if (!isObject(zoo)) throw new FormatError(file, 'zoo must be an object {"name": ...}');
  const name = zoo.name;
  if (name !== undefined && (typeof name !== 'string' || name === '')) throw new FormatError(file, 'zoo.name must be a non-empty string');

  const required = new Set<CheckedField>(options.require ?? []);
  const seenAt = new Map<string, number>();
  const entries = doc.models.map((raw: unknown, i: number) => {
    const entry = checkEntry(dir, raw, i, file, required);
    const first = seenAt.get(entry.id);
    if (first !== undefined) throw new FormatError(file, `model id ${entry.id} appears twice (models[${first}] and models[${i}])`);
    seenAt.set(entry.id, i);
    return entry;
  });
  if (entries.length === 0 && !options.allowEmpty) throw new FormatError(file, 'the zoo lists no models');
  for (const e of entries) {
    if (e.parent !== null && !seenAt.has(e.parent)) throw new FormatError(file, `model ${e.id}: parent ${e.parent} is not in the manifest`);
  }
  const depth = depths(entries, file);

  const listed = doc.probes ?? {};
  if (!isObject(listed)) throw new FormatError(file, 'probes must be an object {"<task>": "<path>"}');
  const probes = new Map(Object.entries(listed).map(([task, rel]) => [task, insideZoo(dir, rel, file, `probes.${task}`)]));
  // fromEntries, not assignment: a task named __proto__ stays a plain key
  const probeFiles = Object.fromEntries(Object.entries(listed)) as Record<string, string>;
  const models = entries.map((entry, i) => ({ entry, path: join(dir, entry.file), depth: depth[i] })) as CheckedModel<K>[];
  return { dir, file, ...(typeof name === 'string' ? { name } : {}), models, probeFiles, probes };
}
