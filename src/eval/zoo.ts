/**
 * What the benchmark reads off a zoo (src/zoo/manifest.ts's view): the settings-table row of a
 * model, and a model's ancestor at an earlier generation. Generations are depths in the family
 * tree (0 for roots), worked out from the parent links.
 */
import type { ZooModel, Zoo } from '../zoo/manifest.js';

/** Segmentation and detection are task kinds (a `seg=`/`det=` part of the task id), not settings. */
export function settingGroup(task: string, setting: string): string {
  const parts = task.split(':');
  if (parts.some((p) => p.startsWith('seg='))) return 'segmentation';
  if (parts.some((p) => p.startsWith('det='))) return 'detection';
  return setting;
}

/** Row of the settings table: the manifest's setting (an absent or empty one counts as full), or the task kind. */
export function settingOf(model: ZooModel): string {
  return settingGroup(model.entry.task ?? '', model.entry.setting || 'full');
}

/** The ancestor of `id` at `generation` (the model itself at its own generation). */
export function ancestorAt(zoo: Zoo, id: string, generation: number): string {
  const byId = new Map(zoo.models.map((m) => [m.entry.id, m]));
  let m = byId.get(id);
  while (m && m.depth > generation) m = m.entry.parent === null ? undefined : byId.get(m.entry.parent);
  if (!m || m.depth !== generation) throw new RangeError(`${id} has no ancestor at generation ${generation}`);
  return m.entry.id;
}
