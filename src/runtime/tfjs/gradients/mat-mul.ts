/**
 * Gradient of BatchMatMul. Fixes over tfjs-core 4.22: gradients are summed over broadcast batch
 * axes (tfjs returned the broadcast shape and the tape rejected it, e.g. x[B,T,D] @ W[D,E]), and a
 * shared 2-D b gets its gradient from ONE product over all B*M rows instead of B products + a sum.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GradConfig, Tensor } from '@tensorflow/tfjs-core';
import { gradient, unbroadcast } from './grad-util.js';

function gradA(dy: Tensor, a: Tensor, b: Tensor, transposeA: boolean, transposeB: boolean): Tensor {
  const full = transposeA ? tf.matMul(b, dy, transposeB, true) : tf.matMul(dy, b, false, !transposeB);
  return unbroadcast(full, a.shape);
}

function gradB(dy: Tensor, a: Tensor, b: Tensor, transposeA: boolean, transposeB: boolean): Tensor {
  const bIsOneMatrix = b.shape.slice(0, -2).every((d) => d === 1);
  if (bIsOneMatrix && !transposeA && a.rank > 2) {
    const rowsA = tf.reshape(a, [-1, a.shape[a.rank - 1]]);
    const rowsDy = tf.reshape(dy, [-1, dy.shape[dy.rank - 1]]);
    const product = transposeB ? tf.matMul(rowsDy, rowsA, true, false) : tf.matMul(rowsA, rowsDy, true, false);
    return tf.reshape(product, b.shape);
  }
  const full = transposeB ? tf.matMul(dy, a, true, transposeA) : tf.matMul(a, dy, !transposeA, false);
  return unbroadcast(full, b.shape);
}

export const matMulGradients: GradConfig[] = [
  gradient('BatchMatMul', { inputs: ['a', 'b'] }, (dy, [a, b], attrs) => {
    const transposeA = attrs['transposeA'] === true;
    const transposeB = attrs['transposeB'] === true;
    return { a: () => gradA(dy, a, b, transposeA, transposeB), b: () => gradB(dy, a, b, transposeA, transposeB) };
  }),
];
