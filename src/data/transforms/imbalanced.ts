import { Rng } from '../../base/random.js';
import { indicesByClass, selectExamples } from '../select.js';
import type { Dataset } from '../types.js';
import { renamed } from './raw.js';

/**
 * Exponential long tail: class c keeps round(nMax * ratio^(-c/(C-1))) examples (at least 1), so
 * class 0 keeps nMax and the last class nMax / ratio.
 */
export function imbalancedCounts(nMax: number, numClasses: number, ratio: number): number[] {
  return Array.from({ length: numClasses }, (_, c) => {
    const share = numClasses === 1 ? 1 : ratio ** (-c / (numClasses - 1));
    return Math.max(1, Math.round(nMax * share));
  });
}

/** Long-tailed copy; nMax is the size of the smallest class, so every class can supply its count. */
export function imbalanced(ds: Dataset, ratio: number, seed: number, id = `imbalanced=${ratio}:s${seed}`): Dataset {
  if (!(Number.isFinite(ratio) && ratio >= 1)) throw new Error(`${ds.name}: imbalance ratio must be a number >= 1, got ${ratio}`);
  const byClass = indicesByClass(ds.labels, ds.numClasses);
  const nMax = byClass.reduce((n, idx) => Math.min(n, idx.length), Number.POSITIVE_INFINITY);
  if (nMax < 1) throw new Error(`${ds.name}: cannot make an imbalanced task, a class has no examples`);
  const counts = imbalancedCounts(nMax, ds.numClasses, ratio);
  const rng = new Rng(seed);
  const keep: number[] = [];
  byClass.forEach((idx, c) => {
    for (const i of rng.shuffle(Int32Array.from(idx)).subarray(0, counts[c])) keep.push(i);
  });
  keep.sort((a, b) => a - b);
  return { ...selectExamples(ds, keep), name: renamed(ds, id) };
}
