/**
 * What the benchmark needs from a built zoo: each model's file, true parent, generation (depth in
 * the family tree, 0 for roots), task, learning setting, and the probe of each task.
 */
import { FormatError } from '../formats/errors.js';
import { readZooManifest } from '../zoo/manifest.js';

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
  const zoo = await readZooManifest(dir);
  const models = zoo.models.map(({ entry: m, path, depth }) => {
    if (m.parent !== null && (m.task === undefined || !zoo.probes.has(m.task))) throw new FormatError(zoo.file, `model ${m.id}: no probe for its task ${m.task ?? '(none)'}`);
    const task = m.task ?? '';
    return { id: m.id, path, parent: m.parent, generation: depth, task, group: settingGroup(task, m.setting || 'full') };
  });
  return { dir, name: zoo.name ?? dir, models, probes: zoo.probes };
}

/** The ancestor of `id` at `generation` (the model itself at its own generation). */
export function ancestorAt(zoo: BenchZoo, id: string, generation: number): string {
  const byId = new Map(zoo.models.map((m) => [m.id, m]));
  let m = byId.get(id);
  while (m && m.generation > generation) m = m.parent === null ? undefined : byId.get(m.parent);
  if (!m || m.generation !== generation) throw new RangeError(`${id} has no ancestor at generation ${generation}`);
  return m.id;
}
