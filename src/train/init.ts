/**
 * Seeded weight initialisation for new models and new heads, following PyTorch's defaults so a
 * zoo trained here starts where a PyTorch user's would:
 *   Linear / Conv weight: kaiming_uniform(a = sqrt(5)) = U(-1/sqrt(fan_in), 1/sqrt(fan_in))
 *   their bias:           U(-1/sqrt(fan_in), 1/sqrt(fan_in))
 *   BatchNorm / LayerNorm: weight 1, bias 0; running_mean 0, running_var 1, num_batches_tracked 0
 *   other tensors (ViT cls_token, pos_embed): N(0, 0.02^2)
 * Every tensor draws from its own stream, deriveSeed(seed, `init:<name>`), so adding or removing
 * one tensor never changes the values of the others.
 */
import { archTemplate } from '../archs/registry.js';
import type { ArchSpec, ParamSpec } from '../archs/types.js';
import { deriveSeed } from '../data/random.js';
import { initialValues, type ValueInit } from '../init-values.js';
import { type Tensor, type Weights, makeTensor, shapeSize } from '../tensor.js';

/** What a tensor is, judged from its name and the shapes of its siblings. */
type InitKind = ValueInit | { kind: 'count' };

function fanIn(shape: readonly number[]): number {
  return shape.slice(1).reduce((a, b) => a * b, 1);
}

function kindOf(name: string, shape: readonly number[], shapes: ReadonlyMap<string, readonly number[]>): InitKind {
  if (name.endsWith('.num_batches_tracked')) return { kind: 'count' };
  if (name.endsWith('.running_mean')) return { kind: 'zeros' };
  if (name.endsWith('.running_var')) return { kind: 'ones' };
  if (name.endsWith('.weight')) return shape.length >= 2 ? { kind: 'uniform', fanIn: fanIn(shape) } : { kind: 'ones' };
  if (name.endsWith('.bias')) {
    const weight = shapes.get(`${name.slice(0, -'.bias'.length)}.weight`);
    return weight && weight.length >= 2 ? { kind: 'uniform', fanIn: fanIn(weight) } : { kind: 'zeros' };
  }
  return { kind: 'normal', std: 0.02 };
}

function fill(name: string, shape: readonly number[], kind: InitKind, seed: number): Tensor {
  if (kind.kind === 'count') return makeTensor('int64', shape, new BigInt64Array(shapeSize(shape)));
  return makeTensor('float32', shape, initialValues(shape, kind, deriveSeed(seed, `init:${name}`)));
}

/** Initialises the tensors described by `params` (names and shapes) from `seed`. */
export function initParams(params: readonly Pick<ParamSpec, 'name' | 'shape'>[], seed: number): Weights {
  const shapes = new Map(params.map((p) => [p.name, p.shape] as const));
  const out: Weights = new Map();
  for (const p of params) out.set(p.name, fill(p.name, p.shape, kindOf(p.name, p.shape, shapes), seed));
  return out;
}

/** A freshly initialised state dict of a built-in architecture, in PyTorch's key order. */
export function initWeights(spec: ArchSpec, seed: number): Weights {
  return initParams(archTemplate(spec), seed);
}
