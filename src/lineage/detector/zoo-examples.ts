/**
 * Detector examples from zoo folders: one per child with a parent in its zoo, whose candidates are
 * the compatible models of the parent's generation (the true parent among them). Each model file
 * is read once; features use the first probeRows rows of the child's task probe.
 */
import type { Tensor } from '../../tensor.js';
import { readProbe } from '../probe.js';
import type { DetectorExample } from './examples.js';
import { type InputOptions, type ModelSummary, candidateCompatibility, summarizeModel } from './summary.js';
import { type DetectorZoo, type DetectorZooModel, type LineageQuestion, lineageQuestions } from './zoo.js';
import { InputError } from '../../base/errors.js';

export interface ZooExampleOptions extends InputOptions {
  /** Also ask each child with its true parent removed; the answer is then "no parent". */
  noParent: boolean;
  onProgress?: (done: number, total: number) => void;
}

export interface ZooExamples {
  examples: DetectorExample[];
  /** Children left out, with why. */
  skipped: { key: string; reason: string }[];
}

/** Gives zoos with equal names distinct ones (`name`, `name#2`, ...), so example keys stay unique. */
export function distinctZooNames(zoos: DetectorZoo[]): DetectorZoo[] {
  const seen = new Map<string, number>();
  return zoos.map((z) => {
    const n = (seen.get(z.name) ?? 0) + 1;
    seen.set(z.name, n);
    return n === 1 ? z : { ...z, name: `${z.name}#${n}` };
  });
}

export async function zooExamples(zoos: readonly DetectorZoo[], options: ZooExampleOptions): Promise<ZooExamples> {
  const useFeatures = options.inputs.includes('features');
  const questions: LineageQuestion[] = zoos.flatMap((z) => lineageQuestions(z));
  const modelKey = (zoo: DetectorZoo, m: DetectorZooModel) => `${zoo.name}/${m.entry.id}`;
  const probeKey = (zoo: DetectorZoo, task: string) => `${zoo.name}:${task}`;

  // which probes each model is run on: its own task (as a child) and its children-candidates' tasks
  const needs = new Map<string, { zoo: DetectorZoo; model: DetectorZooModel; probes: Set<string> }>();
  const need = (zoo: DetectorZoo, m: DetectorZooModel, task: string | undefined) => {
    const key = modelKey(zoo, m);
    let entry = needs.get(key);
    if (!entry) needs.set(key, (entry = { zoo, model: m, probes: new Set() }));
    if (task !== undefined && useFeatures) entry.probes.add(task);
  };
  for (const q of questions) {
    need(q.zoo, q.child, q.child.entry.task);
    for (const c of q.candidates) need(q.zoo, c, q.child.entry.task);
  }

  const probes = new Map<string, Tensor<'float32'>>();
  for (const { zoo, probes: tasks } of needs.values()) {
    for (const task of tasks) {
      const key = probeKey(zoo, task);
      if (probes.has(key)) continue;
      const file = zoo.probes.get(task);
      if (!file) throw new InputError(zoo.file, `no probe file for task ${task} (needed for feature inputs)`);
      probes.set(key, await readProbe(file, options.probeRows));
    }
  }

  const summaries = new Map<string, ModelSummary>();
  let done = 0;
  for (const [key, { zoo, model, probes: tasks }] of needs) {
    const own = new Map([...tasks].map((t) => [probeKey(zoo, t), probes.get(probeKey(zoo, t))!]));
    const summary = await summarizeModel(model.path, options, own);
    summary.id = model.entry.id;
    summaries.set(key, summary);
    options.onProgress?.(++done, needs.size);
  }

  const examples: DetectorExample[] = [];
  const skipped: ZooExamples['skipped'] = [];
  for (const q of questions) {
    const child = summaries.get(modelKey(q.zoo, q.child))!;
    const parent = summaries.get(modelKey(q.zoo, q.candidates[q.parentIndex]))!;
    const compatible = q.candidates.map((c) => summaries.get(modelKey(q.zoo, c))!).filter((c) => candidateCompatibility(child, c).ok);
    const label = compatible.indexOf(parent);
    if (label < 0) {
      const why = candidateCompatibility(child, parent);
      skipped.push({ key: q.key, reason: `its parent ${parent.id} cannot be a candidate: ${why.ok ? 'unknown' : why.reason}` });
      continue;
    }
    const probe = probeKey(q.zoo, q.child.entry.task);
    examples.push({ key: q.key, child, candidates: compatible, probe, label });
    if (options.noParent && compatible.length > 1) {
      const others = compatible.filter((c) => c !== parent);
      examples.push({ key: q.key, child, candidates: others, probe, label: others.length });
    }
  }
  return { examples, skipped };
}
