import { selectExamples } from '../select.js';
import type { Dataset } from '../types.js';
import { renamed } from './raw.js';

/** Keeps the examples of `classes` (ascending, distinct) and relabels them 0..k-1 in that order. */
export function classSubset(ds: Dataset, classes: readonly number[], id = `subset=${classes.join(',')}`): Dataset {
  const sorted = [...classes].sort((a, b) => a - b);
  const ok = sorted.length > 0 && sorted.every((c, i) => Number.isInteger(c) && c >= 0 && c < ds.numClasses && (i === 0 || c !== sorted[i - 1]));
  if (!ok) throw new Error(`${ds.name}: class subset [${classes.join(', ')}] must list distinct classes in 0..${ds.numClasses - 1}`);
  const newLabel = new Int32Array(ds.numClasses).fill(-1);
  sorted.forEach((c, i) => (newLabel[c] = i));
  const keep: number[] = [];
  for (let i = 0; i < ds.labels.length; i++) if (newLabel[ds.labels[i]] >= 0) keep.push(i);
  const picked = selectExamples(ds, keep);
  const labels = picked.labels.map((y) => newLabel[y]);
  const names = ds.classNames;
  return {
    ...picked,
    name: renamed(ds, id),
    labels,
    numClasses: sorted.length,
    ...(names ? { classNames: sorted.map((c) => names[c]) } : {}),
  };
}
