/**
 * What `lineage tree --zoo DIR` needs from DIR/manifest.json: model ids, files, true parents and
 * probe files (read and checked by src/zoo/manifest.ts).
 */
import { readZooManifest } from '../zoo/manifest.js';

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

export async function readZooInfo(dir: string): Promise<ZooInfo> {
  const zoo = await readZooManifest(dir);
  const models = zoo.models.map(({ entry, path }) => ({ id: entry.id, path, parent: entry.parent, ...(entry.task !== undefined ? { task: entry.task } : {}) }));
  return { dir, models, probes: zoo.probes };
}

/** The probe of the first root's task when the manifest has one, else the first probe listed. */
export function defaultZooProbe(zoo: ZooInfo): string | undefined {
  for (const m of zoo.models) if (m.parent === null && m.task && zoo.probes.has(m.task)) return zoo.probes.get(m.task);
  return zoo.probes.values().next().value;
}
