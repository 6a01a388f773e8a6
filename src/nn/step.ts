/**
 * One optimizer step: the one way the zoo trainer and the learned detector update a network. The
 * loops around it differ on purpose (the trainer counts steps over fixed-size batches, the
 * detector counts epochs over batches grouped by candidate count and evaluates after each), so
 * they share this step, the optimizers and the StepLR schedule rather than a loop.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Optimizer } from './optimizers.js';
import type { ParameterSet } from './parameter-set.js';

/** Builds the loss from the set's variables; the tensors it makes in between are freed after the gradient. */
export type LossFn = () => tf.Scalar;

export interface LossPart {
  /** The part's weight in the step's loss, e.g. its examples / the batch's; a step's shares sum to 1. */
  share: number;
  loss: LossFn;
}

/**
 * Takes the gradient of sum_i share_i * loss_i over `parts` (or of one loss) with respect to every
 * variable of `params`, one part at a time so that only one part's activations are alive at once,
 * and applies it with `optimizer` at rate `lr`. Returns that loss as it was before the update.
 * Variables the loss does not reach get no gradient and keep their values (PyTorch skips
 * parameters whose grad is None).
 */
export function trainStep(params: ParameterSet, optimizer: Optimizer, lr: number, loss: LossFn | readonly LossPart[]): number {
  const parts = typeof loss === 'function' ? [{ share: 1, loss }] : loss;
  const names = new Map([...params.variables].map(([name, v]) => [v.name, name]));
  const variables = [...params.variables.values()];
  const summed = new Map<string, tf.Tensor>();
  let total = 0;
  try {
    for (const part of parts) {
      const { value, grads } = tf.variableGrads(part.loss, variables);
      for (const [variableName, g] of Object.entries(grads)) {
        const name = names.get(variableName)!;
        const scaled = part.share === 1 ? g : tf.mul(g, part.share);
        if (scaled !== g) g.dispose();
        const previous = summed.get(name);
        if (!previous) {
          summed.set(name, scaled);
          continue;
        }
        summed.set(name, tf.add(previous, scaled));
        previous.dispose();
        scaled.dispose();
      }
      total += (value.dataSync() as Float32Array)[0] * part.share;
      value.dispose();
    }
    optimizer.step(params.variables, summed, lr);
  } finally {
    for (const g of summed.values()) g.dispose();
  }
  return total;
}
