import type { Dataset } from '../types.js';

/** Pixel-level transforms assume raw pixels in [0, 1] (0 = background). */
export function requireRaw(ds: Dataset, transform: string): void {
  if (ds.normalization) throw new Error(`${ds.name}: ${transform} must be applied before normalisation`);
}

/** Appends a transform's id to the dataset name, e.g. "mnist" -> "mnist:rot=90". */
export function renamed(ds: Dataset, step: string): string {
  return `${ds.name}:${step}`;
}
