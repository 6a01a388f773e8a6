/** Helpers shared by conv and pool ops: 1-D problems run as 2-D ones of height 1, channels-last. */
import * as tf from '@tensorflow/tfjs-core';
import type { OpContext } from './types.js';

export function spatialRank(ctx: OpContext): 1 | 2 {
  const rank = ctx.shape(0).length - 2;
  if (rank !== 1 && rank !== 2) ctx.fail(`only 1-D and 2-D are supported, got input shape [${ctx.shape(0).join(',')}]`);
  return rank as 1 | 2;
}

/** Input 0 channels-last as 4-D: [N, H, W, C], or [N, 1, L, C] for a 1-D input [N, C, L]. */
export function channelsLastInput(ctx: OpContext, rank: 1 | 2): tf.Tensor4D {
  if (rank === 2) return ctx.channelsLast(0);
  const x = ctx.input(0);
  const [n, c, l] = x.shape;
  return tf.reshape(tf.transpose(x, [0, 2, 1]), [n, 1, l, c]);
}

/** Back from [N, 1, L, C] to [N, C, L]. */
export function lower1d(y: tf.Tensor4D): tf.Tensor {
  const [n, , l, c] = y.shape;
  return tf.transpose(tf.reshape(y, [n, l, c]), [0, 2, 1]);
}

/** Prepends the height-1 axis's neutral value to a per-axis list of a 1-D op. */
export function lift<T>(values: readonly T[], neutral: T, rank: 1 | 2): T[] {
  return rank === 1 ? [neutral, ...values] : [...values];
}
