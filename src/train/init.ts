/**
 * Seeded weights for new models, new heads and adapters: PyTorch's default distributions
 * (nn/params.ts pytorchDefaultSpecs), each tensor from the stream deriveSeed(seed, `init:<name>`).
 */
import { archTemplate } from '../archs/registry.js';
import type { ArchSpec } from '../archs/types.js';
import { initialWeights, pytorchDefaultSpecs } from '../nn/params.js';
import type { Weights } from '../tensor.js';

/** The seed stream of every tensor the trainer creates. */
export const INIT_STREAM = 'init';

/** Initialises the state-dict tensors named in `tensors` (names and shapes) from `seed`. */
export function initParams(tensors: readonly { name: string; shape: readonly number[] }[], seed: number): Weights {
  return initialWeights(pytorchDefaultSpecs(tensors), seed, INIT_STREAM);
}

/** A freshly initialised state dict of a built-in architecture, in PyTorch's key order. */
export function initWeights(spec: ArchSpec, seed: number): Weights {
  return initParams(archTemplate(spec), seed);
}
