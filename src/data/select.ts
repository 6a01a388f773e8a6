/** Picking examples out of a dataset by index, the building block of splits, subsets and batches. */
import { type AnyDataset, type Dataset, datasetSize, exampleSize } from './types.js';
import { Rng, deriveSeed } from '../base/random.js';

function gather<A extends Float32Array | Int32Array>(source: A, indices: ArrayLike<number>, stride: number, make: (n: number) => A): A {
  const out = make(indices.length * stride);
  for (let i = 0; i < indices.length; i++) {
    const from = indices[i] * stride;
    out.set(source.subarray(from, from + stride), i * stride);
  }
  return out;
}

/** A copy holding examples `indices` (in that order) with all their targets. */
export function selectExamples<T extends AnyDataset>(ds: T, indices: ArrayLike<number>): T {
  const n = datasetSize(ds);
  for (let i = 0; i < indices.length; i++) {
    const k = indices[i];
    if (!Number.isInteger(k) || k < 0 || k >= n) throw new Error(`${ds.name}: example index ${k} out of range 0..${n - 1}`);
  }
  const inputs = gather(ds.inputs, indices, exampleSize(ds.shape), (m) => new Float32Array(m));
  const ints = (m: number): Int32Array => new Int32Array(m);
  const floats = (m: number): Float32Array => new Float32Array(m);
  switch (ds.kind) {
    case 'segmentation':
      return { ...ds, inputs, masks: gather(ds.masks, indices, ds.shape[1] * ds.shape[2], ints) };
    case 'detection':
      return {
        ...ds,
        inputs,
        boxes: gather(ds.boxes, indices, ds.maxObjects * 4, floats),
        classes: gather(ds.classes, indices, ds.maxObjects, ints),
      };
    default:
      return { ...ds, inputs, labels: gather(ds.labels, indices, 1, ints) };
  }
}

/** Number of examples of each class. */
export function classCounts(labels: Int32Array, numClasses: number): number[] {
  const counts = new Array<number>(numClasses).fill(0);
  for (const y of labels) counts[y] += 1;
  return counts;
}

/** Indices of each class, in dataset order. */
export function indicesByClass(labels: Int32Array, numClasses: number): number[][] {
  const byClass: number[][] = Array.from({ length: numClasses }, () => []);
  for (let i = 0; i < labels.length; i++) byClass[labels[i]].push(i);
  return byClass;
}

/**
 * Splits indices into train/test so every class keeps its share: class quotas are apportioned by
 * largest remainder, so the train size is exactly round(N * (1 - testFraction)). Which examples of a
 * class go where, and the order of each split, come from `seed`.
 */
export function stratifiedSplit(labels: Int32Array, numClasses: number, testFraction: number, seed: number): { train: Int32Array; test: Int32Array } {
  if (!(testFraction > 0 && testFraction < 1)) throw new Error(`test fraction must be in (0, 1), got ${testFraction}`);
  const byClass = indicesByClass(labels, numClasses);
  const target = Math.round(labels.length * (1 - testFraction));
  const quota = byClass.map((idx) => idx.length * (1 - testFraction));
  const take = quota.map(Math.floor);
  let missing = target - take.reduce((a, b) => a + b, 0);
  const order = quota.map((q, c) => c).sort((a, b) => quota[b] - take[b] - (quota[a] - take[a]) || a - b);
  for (const c of order) {
    if (missing <= 0) break;
    if (take[c] < byClass[c].length) {
      take[c] += 1;
      missing -= 1;
    }
  }
  const train: number[] = [];
  const test: number[] = [];
  const rng = new Rng(deriveSeed(seed, 'split'));
  byClass.forEach((idx, c) => {
    const shuffled = rng.shuffle(Int32Array.from(idx));
    for (let i = 0; i < shuffled.length; i++) (i < take[c] ? train : test).push(shuffled[i]);
  });
  return {
    train: rng.shuffle(Int32Array.from(train)),
    test: rng.shuffle(Int32Array.from(test)),
  };
}

/** Checks that every label is an integer class in range; returns the dataset for chaining. */
export function checkLabels(ds: Dataset): Dataset {
  for (let i = 0; i < ds.labels.length; i++) {
    const y = ds.labels[i];
    if (y < 0 || y >= ds.numClasses) throw new Error(`${ds.name}: label ${y} of example ${i} is outside 0..${ds.numClasses - 1}`);
  }
  return ds;
}
