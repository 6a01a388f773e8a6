/**
 * The value distributions new weights start from (PyTorch's defaults), shared by the zoo trainer's
 * models and the learned detector so both draw the same numbers from the same stream.
 */
import { Rng } from '../base/random.js';
import { shapeSize } from '../tensor.js';

/** uniform: U(-1/sqrt(fanIn), 1/sqrt(fanIn)) (kaiming_uniform with a = sqrt(5)); normal: N(0, std^2). */
export type ValueInit = { kind: 'uniform'; fanIn: number } | { kind: 'normal'; std: number } | { kind: 'ones' } | { kind: 'zeros' };

/** Fresh float32 values of `shape` drawn from a generator seeded with `seed` (one stream per tensor). */
export function initialValues(shape: readonly number[], init: ValueInit, seed: number): Float32Array {
  const data = new Float32Array(shapeSize(shape));
  const rng = new Rng(seed);
  switch (init.kind) {
    case 'uniform': {
      const bound = 1 / Math.sqrt(Math.max(1, init.fanIn));
      for (let i = 0; i < data.length; i++) data[i] = (2 * rng.next() - 1) * bound;
      break;
    }
    case 'normal':
      for (let i = 0; i < data.length; i++) data[i] = rng.normal() * init.std;
      break;
    case 'ones':
      data.fill(1);
      break;
    case 'zeros':
      break;
  }
  return data;
}
