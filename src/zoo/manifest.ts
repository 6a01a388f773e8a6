/**
 * The one reader of a zoo folder's DIR/manifest.json, and the manifest's types (the builder,
 * src/train/zoo-build.ts, writes it):
 *   {"zoo": {"name", "scale"}, "models": [{"id", "file", "arch", "parent", "generation", "task", ...}],
 *    "probes": {"<task>": "probes/<task>.npy"}}
 * The file is treated as hostile: every field a reader uses is type-checked, ids are unique,
 * parents are in the zoo and form no loop, and every path stays inside DIR. Each problem is a
 * InputError naming the manifest. Its result, a `Zoo`, is the one view of a zoo that the tree,
 * the benchmark, the detector and the builder read; each asks for the fields it needs (`require`).
 */
import { promises as fs } from 'node:fs';
import { basename, isAbsolute, join, resolve, sep } from 'node:path';
import { type JsonObject, isFiniteNumber, isIntegerAtLeast, isJsonObject, isNonEmptyString } from '../base/validate.js';
import { InputError } from '../base/errors.js';

export const MANIFEST = 'manifest.json';

/** Test metrics the builder records per model (src/train/evaluate.ts computes them and says how, per task kind). */
export interface Metrics {
  /** The headline number: accuracy for classification, pixel or class accuracy for segmentation and detection. */
  accuracy: number;
  meanIoU?: number;
  examples: number;
}

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

export interface ZooModel<K extends CheckedField = never> {
  /** The entry as written, with the fields K the reader required. */
  entry: ManifestEntry & Required<Pick<ManifestModel, K>>;
  /** The model file: the zoo folder joined with entry.file (which is relative to it). */
  path: string;
  /** Parent links up to a root (0 for roots); the manifest's own `generation` may differ. */
  depth: number;
}

export interface Zoo<K extends CheckedField = never> {
  dir: string;
  /** DIR/manifest.json, the file to name in errors. */
  file: string;
  /** zoo.name, or the folder's own name when the manifest gives none. */
  name: string;
  models: ZooModel<K>[];
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
  /** Every child (a model with a parent) must have a task whose probe is listed: its features are taken on it. */
  childProbes?: boolean;
}

/** `value` as a path relative to DIR that names something inside it; returns DIR joined with it. */
function insideZoo(dir: string, value: unknown, file: string, what: string): string {
  if (!isNonEmptyString(value)) throw new InputError(file, `${what} must be a non-empty path`);
  if (value.includes('\0')) throw new InputError(file, `${what} contains a NUL character`);
  if (isAbsolute(value)) throw new InputError(file, `${what} '${value}' must be a path relative to the zoo folder`);
  const root = resolve(dir);
  const full = resolve(root, value);
  if (full === root) throw new InputError(file, `${what} '${value}' names the zoo folder itself`);
  if (!full.startsWith(root + sep)) throw new InputError(file, `${what} '${value}' points outside the zoo folder`);
  return join(dir, value);
}

const FIELD_CHECKS: Record<Exclude<CheckedField, 'adapter'>, [test: (v: unknown) => boolean, expected: string]> = {
  arch: [(v) => typeof v === 'string', 'a string'],
  generation: [(v) => isIntegerAtLeast(v, 0), 'an integer >= 0'],
  task: [(v) => typeof v === 'string', 'a string'],
  setting: [(v) => typeof v === 'string', 'a string'],
  seed: [isFiniteNumber, 'a number'],
  hyper: [isJsonObject, 'an object'],
};

function checkEntry(dir: string, raw: unknown, i: number, file: string, required: ReadonlySet<CheckedField>): ManifestEntry {
  const at = `models[${i}]`;
  if (!isJsonObject(raw)) throw new InputError(file, `${at} must be an object`);
  if (!isNonEmptyString(raw.id)) throw new InputError(file, `${at}.id must be a non-empty string`);
  insideZoo(dir, raw.file, file, `${at}.file`);
  if (raw.parent !== null && typeof raw.parent !== 'string') throw new InputError(file, `${at}.parent must be a model id or null`);
  for (const [field, [test, expected]] of Object.entries(FIELD_CHECKS)) {
    if (raw[field] === undefined) continue;
    if (!test(raw[field])) throw new InputError(file, `${at}.${field} must be ${expected}`);
  }
  if (raw.adapter !== undefined) insideZoo(dir, raw.adapter, file, `${at}.adapter`);
  for (const field of required) if (raw[field] === undefined) throw new InputError(file, `${at}.${field} is missing`);
  return raw as unknown as ManifestEntry;
}

/** Each model's number of parent links up to its root; a loop is an InputError. */
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
        throw new InputError(file, `model ${entries[at].id}: its parent chain loops (${loop.join(' -> ')})`);
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

/** The manifest's text parsed as a JSON object with a models list. */
async function readDocument(file: string): Promise<JsonObject & { models: unknown[] }> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    const hint = code === 'ENOENT' ? '; is this a zoo folder made by `lineage zoo build`?' : '';
    throw new InputError(file, `cannot read the zoo manifest (${code})${hint}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new InputError(file, `invalid JSON (${(err as Error).message})`);
  }
  if (!isJsonObject(doc) || !Array.isArray(doc.models)) throw new InputError(file, 'not a zoo manifest (expected {"models": [...], "probes": {...}})');
  return doc as JsonObject & { models: unknown[] };
}

/** zoo.name when given, else the folder's own name. */
function zooName(doc: JsonObject, dir: string, file: string): string {
  const zoo = doc.zoo ?? {};
  if (!isJsonObject(zoo)) throw new InputError(file, 'zoo must be an object {"name": ...}');
  if (zoo.name === undefined) return basename(resolve(dir));
  if (!isNonEmptyString(zoo.name)) throw new InputError(file, 'zoo.name must be a non-empty string');
  return zoo.name;
}

/** Every entry checked, ids unique, every parent listed. */
function checkEntries(dir: string, models: readonly unknown[], file: string, required: ReadonlySet<CheckedField>): ManifestEntry[] {
  const seenAt = new Map<string, number>();
  const entries = models.map((raw, i) => {
    const entry = checkEntry(dir, raw, i, file, required);
    const first = seenAt.get(entry.id);
    if (first !== undefined) throw new InputError(file, `model id ${entry.id} appears twice (models[${first}] and models[${i}])`);
    seenAt.set(entry.id, i);
    return entry;
  });
  for (const e of entries) {
    if (e.parent !== null && !seenAt.has(e.parent)) throw new InputError(file, `model ${e.id}: parent ${e.parent} is not in the manifest`);
  }
  return entries;
}

function checkChildProbes(entries: readonly ManifestEntry[], probes: ReadonlyMap<string, string>, file: string): void {
  for (const m of entries) {
    if (m.parent !== null && (m.task === undefined || !probes.has(m.task)))
      throw new InputError(file, `model ${m.id}: no probe for its task ${m.task ?? '(none)'}`);
  }
}

export async function readZooManifest<K extends CheckedField = never>(dir: string, options: ReadZooManifestOptions<K> = {}): Promise<Zoo<K>> {
  const file = join(dir, MANIFEST);
  const doc = await readDocument(file);
  const name = zooName(doc, dir, file);
  const entries = checkEntries(dir, doc.models, file, new Set(options.require ?? []));
  if (entries.length === 0 && !options.allowEmpty) throw new InputError(file, 'the zoo lists no models');
  const depth = depths(entries, file);

  const listed = doc.probes ?? {};
  if (!isJsonObject(listed)) throw new InputError(file, 'probes must be an object {"<task>": "<path>"}');
  const probes = new Map(Object.entries(listed).map(([task, rel]) => [task, insideZoo(dir, rel, file, `probes.${task}`)]));
  if (options.childProbes) checkChildProbes(entries, probes, file);
  // fromEntries, not assignment: a task named __proto__ stays a plain key
  const probeFiles = Object.fromEntries(Object.entries(listed)) as Record<string, string>;
  const models = entries.map((entry, i) => ({ entry, path: join(dir, entry.file), depth: depth[i] })) as ZooModel<K>[];
  return { dir, file, name, models, probeFiles, probes };
}

/** The probe of the first root's task when the manifest lists one, else the first probe listed. */
export function defaultProbe(zoo: Zoo): string | undefined {
  for (const { entry } of zoo.models) if (entry.parent === null && entry.task && zoo.probes.has(entry.task)) return zoo.probes.get(entry.task);
  return zoo.probes.values().next().value;
}
