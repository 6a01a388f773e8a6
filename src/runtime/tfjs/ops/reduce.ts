/** ReduceMean and Softmax. */
import * as tf from '@tensorflow/tfjs-core';
import { intAttr, intsAttr } from '../../../graph/ir.js';
import { ChannelsLast, NCHW_AXIS_IN_NHWC, normalizeAxis, type OpContext, type OpKernel, type OpOutput, product } from './types.js';

function reduceAxes(ctx: OpContext, rank: number): number[] | 'none' {
  // Opset 18 moved axes from an attribute to an optional input.
  const given = ctx.opset >= 18 ? (ctx.has(1) ? ctx.numbers(1) : undefined) : intsAttr(ctx.node, 'axes', undefined);
  if (!given || given.length === 0) {
    return ctx.opset >= 18 && intAttr(ctx.node, 'noop_with_empty_axes', 0) !== 0 ? 'none' : Array.from({ length: rank }, (_, i) => i);
  }
  const axes = [...new Set(given.map((a) => normalizeAxis(ctx, a, rank)))];
  return axes.sort((a, b) => a - b);
}

/** Reduces a channels-last input without going back to NCHW (e.g. a mean over H and W). */
function reduceMeanChannelsLast(ctx: OpContext, axes: number[], keepDims: boolean): OpOutput {
  const mapped = axes.map((a) => NCHW_AXIS_IN_NHWC[a]);
  const y = tf.mean(ctx.channelsLast(0), mapped, keepDims);
  if (keepDims) return new ChannelsLast(y as tf.Tensor4D);
  // The kept NHWC axes, named by their NCHW axis, in NHWC order; sort them back into NCHW order.
  const kept = [0, 2, 3, 1].filter((a) => !axes.includes(a));
  const perm = kept.map((_, i) => i).sort((i, j) => kept[i] - kept[j]);
  return perm.every((p, i) => p === i) ? y : tf.transpose(y, perm);
}

const reduceMean: OpKernel = (ctx) => {
  const shape = ctx.shape(0);
  const axes = reduceAxes(ctx, shape.length);
  if (axes === 'none') return tf.clone(ctx.input(0));
  const keepDims = intAttr(ctx.node, 'keepdims', 1) !== 0;
  if (ctx.isChannelsLast(0)) return reduceMeanChannelsLast(ctx, axes, keepDims);
  return tf.mean(ctx.input(0), axes, keepDims);
};

function softmaxAlong(x: tf.Tensor, axis: number): tf.Tensor {
  if (axis === x.rank - 1) return tf.softmax(x);
  const e = tf.exp(tf.sub(x, tf.max(x, axis, true)));
  return tf.div(e, tf.sum(e, axis, true));
}

const softmax: OpKernel = (ctx) => {
  const x = ctx.input(0);
  if (ctx.opset >= 13) return softmaxAlong(x, normalizeAxis(ctx, intAttr(ctx.node, 'axis', -1), x.rank));
  // Before opset 13: softmax of the input flattened to 2-D at `axis` (default 1).
  const axis = normalizeAxis(ctx, intAttr(ctx.node, 'axis', 1), x.rank);
  const rows = product(x.shape.slice(0, axis));
  return tf.reshape(tf.softmax(tf.reshape(x, [rows, x.size / Math.max(rows, 1)])), x.shape);
};

export const REDUCE_OPS = { ReduceMean: reduceMean, Softmax: softmax } satisfies Record<string, OpKernel>;
