/** Running a detector in eval mode: softmax probabilities per example, and top-1 accuracy. */
import * as tf from '@tensorflow/tfjs-core';
import { initTfjs } from '../../runtime/tfjs/backend.js';
import { type DetectorConfig, inputSlots } from './config.js';
import { ACTIVATION_BUDGET, type DetectorExample, assembleBatch, groupBatches, splitByActivationBudget } from './examples.js';
import type { LoadedDetector } from './io.js';
import { DetectorModel } from './model.js';

export const EVAL_BATCH = 16;

/**
 * Softmax over each example's candidates (plus "no parent" last when the detector has it), with
 * BatchNorm on its running statistics. Examples are batched by signature; results are in input order.
 */
export function candidateProbabilities(
  model: DetectorModel,
  config: DetectorConfig,
  examples: readonly DetectorExample[],
  batchSize = EVAL_BATCH,
  activationBudget = ACTIVATION_BUDGET,
): Float32Array[] {
  const out: Float32Array[] = new Array(examples.length);
  const order = Int32Array.from(examples.keys());
  const slots = inputSlots(config);
  const batches = groupBatches(examples, order, batchSize, slots).flatMap((b) => splitByActivationBudget(examples, b, slots, config.embed, activationBudget));
  for (const batch of batches) {
    const input = assembleBatch(
      batch.map((i) => examples[i]),
      config,
    );
    const probs = tf.tidy(() => tf.softmax(model.forward(input, false)));
    const values = probs.dataSync() as Float32Array;
    const width = probs.shape[1];
    probs.dispose();
    batch.forEach((index, b) => (out[index] = values.slice(b * width, (b + 1) * width)));
  }
  return out;
}

/** candidateProbabilities of a saved detector: its model is built on the wasm backend and freed after. */
export async function detectorProbabilities(detector: LoadedDetector, examples: readonly DetectorExample[]): Promise<Float32Array[]> {
  await initTfjs('wasm');
  const model = new DetectorModel(detector.config, detector.weights);
  try {
    return candidateProbabilities(model, detector.config, examples);
  } finally {
    model.dispose();
  }
}

/** Index of the largest value (the first on ties). */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/** Share of examples whose most probable candidate is the label; null for none. */
export function accuracy(examples: readonly DetectorExample[], probabilities: readonly Float32Array[]): number | null {
  if (examples.length === 0) return null;
  let right = 0;
  examples.forEach((e, i) => {
    if (argmax(probabilities[i]) === e.label) right++;
  });
  return right / examples.length;
}
