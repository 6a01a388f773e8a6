/** Registers our gradients (see grad-util.ts for why tfjs-core in Node has none). */
import * as tf from '@tensorflow/tfjs-core';
import type { GradConfig } from '@tensorflow/tfjs-core';
import { binaryGradients } from './binary.js';
import { convGradients } from './conv.js';
import { matMulGradients } from './mat-mul.js';
import { nnGradients } from './nn.js';
import { reductionGradients } from './reduction.js';
import { shapeGradients } from './shape.js';
import { unaryGradients } from './unary.js';

export const ALL_GRADIENTS: readonly GradConfig[] = [
  ...unaryGradients,
  ...binaryGradients,
  ...reductionGradients,
  ...shapeGradients,
  ...matMulGradients,
  ...convGradients,
  ...nnGradients,
];

let registered = false;

/** Idempotent; replaces any gradient already registered for the same kernel (ours are the fixed ones). */
export function registerGradients(): void {
  if (registered) return;
  for (const config of ALL_GRADIENTS) {
    if (tf.getGradient(config.kernelName) !== undefined) tf.unregisterGradient(config.kernelName);
    tf.registerGradient(config);
  }
  registered = true;
}
