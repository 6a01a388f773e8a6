/**
 * The detector's questions on a zoo folder (written by `lineage zoo build`): one per child, whose
 * candidates are every model of its parent's generation. The zoo is read by src/zoo/manifest.ts,
 * which here also requires every model's generation and task.
 */
import { type Zoo, type ZooModel, readZooManifest } from '../../zoo/manifest.js';

/** The manifest fields the detector reads beyond id, file and parent. */
const DETECTOR_FIELDS = ['generation', 'task'] as const;
type DetectorField = (typeof DETECTOR_FIELDS)[number];

/** A zoo whose every model gives its generation and task. */
export type DetectorZoo = Zoo<DetectorField>;
export type DetectorZooModel = ZooModel<DetectorField>;

export function readZoo(dir: string): Promise<DetectorZoo> {
  return readZooManifest(dir, { require: DETECTOR_FIELDS });
}

/** A child with a parent in the zoo and its candidate parents: every model of the parent's generation. */
export interface LineageQuestion {
  /** `<zoo name>/<child id>`: unique across zoos, and what splits are made of. */
  key: string;
  zoo: DetectorZoo;
  child: DetectorZooModel;
  candidates: DetectorZooModel[];
  /** Index of the true parent in `candidates`. */
  parentIndex: number;
}

export function lineageQuestions(zoo: DetectorZoo): LineageQuestion[] {
  const byId = new Map(zoo.models.map((m) => [m.entry.id, m]));
  const questions: LineageQuestion[] = [];
  for (const child of zoo.models) {
    if (child.entry.parent === null) continue;
    const parent = byId.get(child.entry.parent)!;
    const candidates = zoo.models.filter((m) => m.entry.generation === parent.entry.generation && m !== child);
    questions.push({ key: `${zoo.name}/${child.entry.id}`, zoo, child, candidates, parentIndex: candidates.indexOf(parent) });
  }
  return questions;
}
