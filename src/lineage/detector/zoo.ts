/**
 * What the detector needs from a zoo folder (written by `lineage zoo build`): each model's file,
 * arch, parent, generation and task, and the probe of each task. DIR/manifest.json is read and
 * checked by src/zoo/manifest.ts; here every model must also give its generation and task.
 */
import { basename, resolve } from 'node:path';
import { type ManifestModel, readZooManifest } from '../../zoo/manifest.js';

export interface ZooModel extends Pick<ManifestModel, 'id' | 'arch' | 'parent' | 'generation' | 'task'> {
  /** Absolute path of the model file (the manifest's is relative to the zoo folder). */
  file: string;
}

export interface Zoo {
  dir: string;
  name: string;
  models: ZooModel[];
  /** task -> absolute path of its probe .npy */
  probes: Map<string, string>;
}

export async function readZoo(dir: string): Promise<Zoo> {
  const zoo = await readZooManifest(dir, { require: ['generation', 'task'] });
  return {
    dir,
    name: zoo.name ?? basename(resolve(dir)),
    models: zoo.models.map(({ entry: m, path }) => ({ id: m.id, file: resolve(path), arch: m.arch ?? '', parent: m.parent, generation: m.generation, task: m.task })),
    probes: new Map([...zoo.probes].map(([task, path]) => [task, resolve(path)])),
  };
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
