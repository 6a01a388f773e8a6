/**
 * What the benchmark needs from a built zoo: each model's file, true parent, generation (depth in
 * the family tree, 0 for roots), task, learning setting, and the probe of each task.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { FormatError } from '../formats/errors.js';
import { readZooInfo } from '../cli/zoo-manifest.js';

export interface BenchModel {
  id: string;
  path: string;
  parent: string | null;
  generation: number;
  task: string;
  /** Row of the settings table: the manifest's setting, or the task kind for segmentation/detection. */
  group: string;
}

export interface BenchZoo {
  dir: string;
  name: string;
  models: BenchModel[];
  /** task -> probe path */
  probes: Map<string, string>;
}

/** Segmentation and detection are task kinds (a `seg=`/`det=` part of the task id), not settings. */
export function settingGroup(task: string, setting: string): string {
  const parts = task.split(':');
  if (parts.some((p) => p.startsWith('seg='))) return 'segmentation';
  if (parts.some((p) => p.startsWith('det='))) return 'detection';
  return setting;
}

export async function readBenchZoo(dir: string): Promise<BenchZoo> {
  const info = await readZooInfo(dir);
  const file = join(dir, 'manifest.json');
  const raw = JSON.parse(await fs.readFile(file, 'utf8')) as { zoo?: { name?: unknown }; models: { id: string; setting?: unknown }[] };
  const settings = new Map(raw.models.map((m) => [m.id, typeof m.setting === 'string' && m.setting !== '' ? m.setting : 'full']));
  const parentOf = new Map(info.models.map((m) => [m.id, m.parent]));
  const depth = (id: string): number => {
    let d = 0;
    for (let p = parentOf.get(id) ?? null; p !== null; p = parentOf.get(p) ?? null) {
      if (++d > parentOf.size) throw new FormatError(file, `model ${id}: its parent chain loops`);
    }
    return d;
  };
  const models = info.models.map((m) => {
    if (m.parent !== null && (m.task === undefined || !info.probes.has(m.task))) throw new FormatError(file, `model ${m.id}: no probe for its task ${m.task ?? '(none)'}`);
    const task = m.task ?? '';
    return { id: m.id, path: m.path, parent: m.parent, generation: depth(m.id), task, group: settingGroup(task, settings.get(m.id) ?? 'full') };
  });
  const name = typeof raw.zoo?.name === 'string' ? raw.zoo.name : dir;
  return { dir, name, models, probes: info.probes };
}

/** The ancestor of `id` at `generation` (the model itself at its own generation). */
export function ancestorAt(zoo: BenchZoo, id: string, generation: number): string {
  const byId = new Map(zoo.models.map((m) => [m.id, m]));
  let m = byId.get(id);
  while (m && m.generation > generation) m = m.parent === null ? undefined : byId.get(m.parent);
  if (!m || m.generation !== generation) throw new RangeError(`${id} has no ancestor at generation ${generation}`);
  return m.id;
}
