/**
 * Reads what `lineage tree --zoo DIR` needs from DIR/manifest.json: model ids, files, true parents
 * and probe files. Only the fields used here are checked; paths are resolved against DIR and must
 * stay inside it.
 */
import { promises as fs } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { FormatError } from '../formats/errors.js';

export interface ZooEntry {
  id: string;
  /** Path of the model file (DIR joined with the manifest's relative path). */
  path: string;
  parent: string | null;
  task?: string;
}

export interface ZooInfo {
  dir: string;
  models: ZooEntry[];
  /** task -> probe path. */
  probes: Map<string, string>;
}

function inside(dir: string, rel: string, file: string, what: string): string {
  const full = resolve(dir, rel);
  const root = resolve(dir);
  if (full !== root && !full.startsWith(root + sep)) throw new FormatError(file, `${what} '${rel}' points outside the zoo folder`);
  return join(dir, rel);
}

export async function readZooInfo(dir: string): Promise<ZooInfo> {
  const file = join(dir, 'manifest.json');
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    throw new FormatError(file, `cannot read the zoo manifest (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new FormatError(file, `invalid JSON (${(err as Error).message})`);
  }
  const doc = parsed as { models?: unknown; probes?: unknown } | null;
  if (!doc || typeof doc !== 'object' || !Array.isArray(doc.models)) throw new FormatError(file, 'not a zoo manifest (expected {"models": [...], "probes": {...}})');
  const ids = new Set<string>();
  const models: ZooEntry[] = doc.models.map((raw: unknown, i: number) => {
    const m = raw as { id?: unknown; file?: unknown; parent?: unknown; task?: unknown } | null;
    if (!m || typeof m.id !== 'string' || m.id === '') throw new FormatError(file, `models[${i}] has no string id`);
    if (typeof m.file !== 'string' || m.file === '') throw new FormatError(file, `model ${m.id} has no file`);
    if (m.parent !== null && m.parent !== undefined && typeof m.parent !== 'string') throw new FormatError(file, `model ${m.id}: parent must be an id or null`);
    if (ids.has(m.id)) throw new FormatError(file, `model id ${m.id} appears twice`);
    ids.add(m.id);
    return { id: m.id, path: inside(dir, m.file, file, `model ${m.id}: file`), parent: (m.parent as string | null | undefined) ?? null, ...(typeof m.task === 'string' ? { task: m.task } : {}) };
  });
  if (models.length === 0) throw new FormatError(file, 'the zoo lists no models');
  for (const m of models) if (m.parent !== null && !ids.has(m.parent)) throw new FormatError(file, `model ${m.id}: parent ${m.parent} is not in the manifest`);
  const probes = new Map<string, string>();
  if (doc.probes !== undefined) {
    if (typeof doc.probes !== 'object' || doc.probes === null || Array.isArray(doc.probes)) throw new FormatError(file, 'probes must be an object {task: path}');
    for (const [task, rel] of Object.entries(doc.probes as Record<string, unknown>)) {
      if (typeof rel !== 'string') throw new FormatError(file, `probe of task ${task} must be a path`);
      probes.set(task, inside(dir, rel, file, `probe of task ${task}`));
    }
  }
  return { dir, models, probes };
}

/** The probe of the first root's task when the manifest has one, else the first probe listed. */
export function defaultZooProbe(zoo: ZooInfo): string | undefined {
  for (const m of zoo.models) if (m.parent === null && m.task && zoo.probes.has(m.task)) return zoo.probes.get(m.task);
  return zoo.probes.values().next().value;
}
