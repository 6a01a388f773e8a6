/**
 * Parameter specs: how a network declares its tensors (name, shape, trained or buffer, initial
 * distribution), and the one function that turns specs into seeded initial weights. The zoo
 * trainer's models and heads and the learned detector both declare their tensors this way.
 *
 * Every tensor draws from its own stream, deriveSeed(seed, `<stream>:<name>`), so adding or
 * removing one tensor never changes the values of the others.
 */
import { deriveSeed } from '../base/random.js';
import { type Weights, makeTensor, shapeSize } from '../tensor.js';
import { type ValueInit, initialValues } from './init-values.js';

/** A float distribution, or an int64 counter starting at 0 (BatchNorm's num_batches_tracked). */
export type ParamInit = ValueInit | { kind: 'counter' };

export interface ParamSpec {
  name: string;
  shape: number[];
  /** Buffers (BatchNorm running statistics and counters) are saved but not trained. */
  buffer: boolean;
  init: ParamInit;
}

/** Fresh tensors for `specs`, in spec order, seeded per tensor from `seed` and the owner's `stream`. */
export function initialWeights(specs: readonly ParamSpec[], seed: number, stream: string): Weights {
  const out: Weights = new Map();
  for (const { name, shape, init } of specs) {
    if (init.kind === 'counter') out.set(name, makeTensor('int64', shape, new BigInt64Array(shapeSize(shape))));
    else out.set(name, makeTensor('float32', shape, initialValues(shape, init, deriveSeed(seed, `${stream}:${name}`))));
  }
  return out;
}

function fanIn(shape: readonly number[]): number {
  return shape.slice(1).reduce((a, b) => a * b, 1);
}

/**
 * Specs for PyTorch state-dict tensors, the distribution judged from each name and the shapes of
 * its siblings, following PyTorch's defaults so a model initialised here starts where a PyTorch
 * user's would:
 *   Linear / Conv weight: kaiming_uniform(a = sqrt(5)) = U(-1/sqrt(fan_in), 1/sqrt(fan_in))
 *   their bias:           U(-1/sqrt(fan_in), 1/sqrt(fan_in))
 *   BatchNorm / LayerNorm: weight 1, bias 0; running_mean 0, running_var 1, num_batches_tracked 0
 *   other tensors (ViT cls_token, pos_embed): N(0, 0.02^2)
 */
export function pytorchDefaultSpecs(tensors: readonly { name: string; shape: readonly number[] }[]): ParamSpec[] {
  const shapes = new Map(tensors.map((t) => [t.name, t.shape] as const));
  return tensors.map(({ name, shape }) => {
    const spec = (buffer: boolean, init: ParamInit): ParamSpec => ({ name, shape: [...shape], buffer, init });
    if (name.endsWith('.num_batches_tracked')) return spec(true, { kind: 'counter' });
    if (name.endsWith('.running_mean')) return spec(true, { kind: 'zeros' });
    if (name.endsWith('.running_var')) return spec(true, { kind: 'ones' });
    if (name.endsWith('.weight')) return spec(false, shape.length >= 2 ? { kind: 'uniform', fanIn: fanIn(shape) } : { kind: 'ones' });
    if (name.endsWith('.bias')) {
      const weight = shapes.get(`${name.slice(0, -'.bias'.length)}.weight`);
      return spec(false, weight && weight.length >= 2 ? { kind: 'uniform', fanIn: fanIn(weight) } : { kind: 'zeros' });
    }
    return spec(false, { kind: 'normal', std: 0.02 });
  });
}
