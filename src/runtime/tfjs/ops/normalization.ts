/** BatchNormalization (inference, running statistics) and LayerNormalization. */
import * as tf from '@tensorflow/tfjs-core';
import { floatAttr, intAttr } from '../../../graph/ir.js';
import { ChannelsLast, normalizeAxis, type OpKernel } from './types.js';

const batchNormalization: OpKernel = (ctx) => {
  if (intAttr(ctx.node, 'training_mode', 0) !== 0) ctx.fail('training_mode=1 is not supported (inference statistics only)');
  if (ctx.node.outputs.slice(1).some((o) => o)) ctx.fail('the running mean/var outputs are not supported');
  const shape = ctx.shape(0);
  if (shape.length < 2) ctx.fail(`input must have rank >= 2, got [${shape.join(',')}]`);
  const channels = shape[1];
  const [scale, bias, mean, variance] = [1, 2, 3, 4].map((i) => ctx.input(i));
  for (const p of [scale, bias, mean, variance]) {
    if (p.size !== channels) ctx.fail(`parameters must have ${channels} elements (channels), got [${p.shape.join(',')}]`);
  }
  const epsilon = floatAttr(ctx.node, 'epsilon', 1e-5);
  // y = x * k + (b - mean * k) with k = scale / sqrt(var + eps): two passes over x instead of four.
  const k = tf.mul(tf.reshape(scale, [channels]), tf.rsqrt(tf.add(tf.reshape(variance, [channels]), epsilon)));
  const shift = tf.sub(tf.reshape(bias, [channels]), tf.mul(tf.reshape(mean, [channels]), k));
  if (ctx.isChannelsLast(0)) return new ChannelsLast(tf.add(tf.mul(ctx.channelsLast(0), k), shift));
  const perChannel = [channels, ...shape.slice(2).map(() => 1)];
  return tf.add(tf.mul(ctx.input(0), tf.reshape(k, perChannel)), tf.reshape(shift, perChannel));
};

const layerNormalization: OpKernel = (ctx) => {
  const x = ctx.input(0);
  const axis = normalizeAxis(ctx, intAttr(ctx.node, 'axis', -1), x.rank);
  const epsilon = floatAttr(ctx.node, 'epsilon', 1e-5);
  const axes = Array.from({ length: x.rank - axis }, (_, i) => axis + i);
  const mean = tf.mean(x, axes, true);
  const centered = tf.sub(x, mean);
  const invStdDev = tf.rsqrt(tf.add(tf.mean(tf.square(centered), axes, true), epsilon));
  let y = tf.mul(tf.mul(centered, invStdDev), ctx.input(1));
  const bias = ctx.optional(2);
  if (bias) y = tf.add(y, bias);
  return [y, mean, invStdDev];
};

export const NORMALIZATION_OPS = { BatchNormalization: batchNormalization, LayerNormalization: layerNormalization } satisfies Record<string, OpKernel>;
