import { Rng } from '../../base/random.js';
import { indicesByClass, selectExamples } from '../select.js';
import type { Dataset } from '../types.js';
import { renamed } from './raw.js';

/** k seeded examples of every class, kept in dataset order. */
export function fewShot(ds: Dataset, k: number, seed: number, id = `fewshot=${k}:s${seed}`): Dataset {
  if (!Number.isInteger(k) || k < 1) throw new Error(`${ds.name}: few-shot k must be a positive integer, got ${k}`);
  const rng = new Rng(seed);
  const keep: number[] = [];
  indicesByClass(ds.labels, ds.numClasses).forEach((idx, c) => {
    if (idx.length < k) throw new Error(`${ds.name}: few-shot k=${k} but class ${c} has only ${idx.length} examples`);
    for (const i of rng.shuffle(Int32Array.from(idx)).subarray(0, k)) keep.push(i);
  });
  keep.sort((a, b) => a - b);
  return { ...selectExamples(ds, keep), name: renamed(ds, id) };
}
