import { deriveSeed, permutation } from '../../base/random.js';
import type { Dataset } from '../types.js';
import { renamed } from './raw.js';

/** The seeded class mapping: old class c becomes mapping[c]. Depends only on (numClasses, seed). */
export function labelPermutation(numClasses: number, seed: number): Int32Array {
  return permutation(numClasses, deriveSeed(seed, 'labels'));
}

/** Relabels every example through a seeded permutation of the classes. */
export function permuteLabels(ds: Dataset, seed: number, id = `perm=s${seed}`): Dataset {
  const mapping = labelPermutation(ds.numClasses, seed);
  const names = ds.classNames;
  let classNames: string[] | undefined;
  if (names) {
    classNames = new Array<string>(ds.numClasses);
    mapping.forEach((to, from) => ((classNames as string[])[to] = names[from]));
  }
  return {
    ...ds,
    name: renamed(ds, id),
    labels: ds.labels.map((y) => mapping[y]),
    ...(classNames ? { classNames } : {}),
  };
}
