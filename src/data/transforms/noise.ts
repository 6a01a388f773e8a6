import { Rng } from '../../base/random.js';
import type { Dataset } from '../types.js';
import { renamed, requireRaw } from './raw.js';

/** Adds seeded Gaussian noise of standard deviation `sigma`, then clips to [0, 1] to stay a pixel. */
export function addNoise(ds: Dataset, sigma: number, seed: number, id = `noise=${sigma}:s${seed}`): Dataset {
  requireRaw(ds, 'noise');
  if (!(Number.isFinite(sigma) && sigma >= 0)) throw new Error(`${ds.name}: noise sigma must be a finite number >= 0, got ${sigma}`);
  const rng = new Rng(seed);
  const inputs = new Float32Array(ds.inputs.length);
  for (let i = 0; i < inputs.length; i++) inputs[i] = Math.min(1, Math.max(0, ds.inputs[i] + sigma * rng.normal()));
  return { ...ds, name: renamed(ds, id), inputs };
}
