/**
 * Reading a zoo folder (written by `lineage zoo build`): DIR/manifest.json
 *   {"zoo": {"name"}, "models": [{"id", "file", "arch", "parent", "generation", "task", ...}],
 *    "probes": {"<task>": "probes/<task>.npy"}}
 * Only the fields the detector needs are read; each is checked, and paths must stay inside DIR.
 */
import { promises as fs } from 'node:fs';
import { basename, isAbsolute, join, normalize, resolve, sep } from 'node:path';
import { FormatError } from '../../formats/errors.js';

export interface ZooModel {
  id: string;
  /** Absolute path of the model file. */
  file: string;
  arch: string;
  parent: string | null;
  generation: number;
  task: string;
}

export interface Zoo {
  dir: string;
  name: string;
  models: ZooModel[];
  /** task -> absolute path of its probe .npy */
  probes: Map<string, string>;
}

function insideDir(dir: string, relative: unknown, manifest: string, what: string): string {
  if (typeof relative !== 'string' || relative === '') throw new FormatError(manifest, `${what} must be a non-empty relative path`);
  if (isAbsolute(relative) || normalize(relative).split(sep).includes('..')) {
    throw new FormatError(manifest, `${what} '${relative}' leaves the zoo folder`);
  }
  return resolve(dir, relative);
}

export async function readZoo(dir: string): Promise<Zoo> {
  const manifest = join(dir, 'manifest.json');
  let text: string;
  try {
    text = await fs.readFile(manifest, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new FormatError(manifest, code === 'ENOENT' ? 'not found (is this a zoo folder made by `lineage zoo build`?)' : `cannot read (${code ?? String(err)})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new FormatError(manifest, `invalid JSON (${(err as Error).message})`);
  }
  const root = parsed as { zoo?: { name?: unknown }; models?: unknown; probes?: unknown } | null;
  if (typeof root !== 'object' || root === null || !Array.isArray(root.models) || typeof root.probes !== 'object' || root.probes === null || Array.isArray(root.probes)) {
    throw new FormatError(manifest, 'not a zoo manifest (expected {"models": [...], "probes": {...}})');
  }
  const name = typeof root.zoo?.name === 'string' && root.zoo.name !== '' ? root.zoo.name : basename(resolve(dir));
  const models: ZooModel[] = [];
  const ids = new Set<string>();
  root.models.forEach((raw: unknown, i: number) => {
    const m = raw as Record<string, unknown> | null;
    const at = `models[${i}]`;
    if (typeof m !== 'object' || m === null) throw new FormatError(manifest, `${at} must be an object`);
    if (typeof m.id !== 'string' || m.id === '') throw new FormatError(manifest, `${at}.id must be a non-empty string`);
    if (ids.has(m.id)) throw new FormatError(manifest, `model id ${m.id} appears twice`);
    ids.add(m.id);
    if (m.parent !== null && typeof m.parent !== 'string') throw new FormatError(manifest, `${at}.parent must be a model id or null`);
    if (typeof m.generation !== 'number' || !Number.isSafeInteger(m.generation) || m.generation < 0) {
      throw new FormatError(manifest, `${at}.generation must be an integer >= 0`);
    }
    if (typeof m.task !== 'string') throw new FormatError(manifest, `${at}.task must be a string`);
    models.push({
      id: m.id,
      file: insideDir(dir, m.file, manifest, `${at}.file`),
      arch: typeof m.arch === 'string' ? m.arch : '',
      parent: m.parent as string | null,
      generation: m.generation,
      task: m.task,
    });
  });
  for (const m of models) {
    if (m.parent !== null && !ids.has(m.parent)) throw new FormatError(manifest, `model ${m.id} names parent ${m.parent}, which is not in the zoo`);
  }
  const probes = new Map<string, string>();
  for (const [task, file] of Object.entries(root.probes as Record<string, unknown>)) probes.set(task, insideDir(dir, file, manifest, `probes.${task}`));
  return { dir, name, models, probes };
}

/** A child with a parent in the zoo and its candidate parents: every model of the parent's generation. */
export interface LineageQuestion {
  /** `<zoo name>/<child id>`: unique across zoos, and what splits are made of. */
  key: string;
  zoo: Zoo;
  child: ZooModel;
  candidates: ZooModel[];
  /** Index of the true parent in `candidates`. */
  parentIndex: number;
}

export function lineageQuestions(zoo: Zoo): LineageQuestion[] {
  const byId = new Map(zoo.models.map((m) => [m.id, m]));
  const questions: LineageQuestion[] = [];
  for (const child of zoo.models) {
    if (child.parent === null) continue;
    const parent = byId.get(child.parent)!;
    const candidates = zoo.models.filter((m) => m.generation === parent.generation && m.id !== child.id);
    questions.push({ key: `${zoo.name}/${child.id}`, zoo, child, candidates, parentIndex: candidates.indexOf(parent) });
  }
  return questions;
}
