import type { Dataset } from '../types.js';
import { renamed, requireRaw } from './raw.js';

/** x -> 1 - x: white-on-black becomes black-on-white. */
export function invert(ds: Dataset, id = 'invert'): Dataset {
  requireRaw(ds, 'inversion');
  return { ...ds, name: renamed(ds, id), inputs: ds.inputs.map((x) => 1 - x) };
}
