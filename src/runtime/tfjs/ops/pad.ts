/** Pad: constant, reflect and edge modes; negative pads crop. */
import * as tf from '@tensorflow/tfjs-core';
import { floatAttr, intsAttr, stringAttr } from '../../../graph/ir.js';
import { ChannelsLast, NCHW_AXIS_IN_NHWC, normalizeAxis, type OpContext, type OpKernel } from './types.js';

type Pairs = Array<[number, number]>;

function padPairs(ctx: OpContext, rank: number): { pairs: Pairs; value: number } {
  // Opset 11 moved pads and the constant value from attributes to inputs; opset 18 added axes.
  const pads = ctx.opset >= 11 ? ctx.numbers(1) : intsAttr(ctx.node, 'pads', undefined);
  if (!pads) return ctx.fail('pads are required');
  const value = ctx.opset >= 11 ? (ctx.has(2) ? (ctx.numbers(2)[0] ?? 0) : 0) : floatAttr(ctx.node, 'value', 0);
  const axes = ctx.opset >= 18 && ctx.has(3) ? ctx.numbers(3).map((a) => normalizeAxis(ctx, a, rank)) : Array.from({ length: rank }, (_, i) => i);
  if (pads.length !== 2 * axes.length) ctx.fail(`pads has ${pads.length} entries for ${axes.length} axes`);
  const pairs: Pairs = Array.from({ length: rank }, () => [0, 0]);
  axes.forEach((axis, i) => (pairs[axis] = [pads[i], pads[i + axes.length]]));
  return { pairs, value };
}

/** Repeats the first / last slice of `axis` `before` / `after` times. */
function edgePad(x: tf.Tensor, axis: number, before: number, after: number): tf.Tensor {
  const dim = x.shape[axis];
  const edge = (start: number, times: number) => {
    const begin = x.shape.map((_, i) => (i === axis ? start : 0));
    const size = x.shape.map((d, i) => (i === axis ? 1 : d));
    return tf.tile(
      tf.slice(x, begin, size),
      x.shape.map((_, i) => (i === axis ? times : 1)),
    );
  };
  const parts = [...(before > 0 ? [edge(0, before)] : []), x, ...(after > 0 ? [edge(dim - 1, after)] : [])];
  return parts.length === 1 ? x : tf.concat(parts, axis);
}

function applyPad(ctx: OpContext, x: tf.Tensor, pairs: Pairs, value: number): tf.Tensor {
  const mode = stringAttr(ctx.node, 'mode', 'constant');
  // Negative pads remove elements: crop first, then pad with what remains.
  if (pairs.some(([a, b]) => a < 0 || b < 0)) {
    const begin = pairs.map(([a]) => Math.max(-a, 0));
    const size = x.shape.map((d, i) => d - begin[i] - Math.max(-pairs[i][1], 0));
    if (size.some((s) => s < 0)) ctx.fail(`negative pads remove more than the input [${x.shape.join(',')}] holds`);
    x = tf.slice(x, begin, size);
  }
  const positive = pairs.map(([a, b]) => [Math.max(a, 0), Math.max(b, 0)] as [number, number]);
  if (positive.every(([a, b]) => a === 0 && b === 0)) return tf.clone(x);
  switch (mode) {
    case 'constant':
      return tf.pad(x, positive, value);
    case 'reflect':
      if (positive.some(([a, b], i) => Math.max(a, b) >= x.shape[i])) ctx.fail('reflect pads must be smaller than the padded dimension');
      return tf.mirrorPad(x, positive, 'reflect');
    case 'edge':
      return positive.reduce((y, [a, b], axis) => (a > 0 || b > 0 ? edgePad(y, axis, a, b) : y), x);
    default:
      return ctx.fail(`mode='${mode}' is not supported`);
  }
}

const pad: OpKernel = (ctx) => {
  const rank = ctx.shape(0).length;
  const { pairs, value } = padPairs(ctx, rank);
  if (ctx.isChannelsLast(0)) {
    const nhwc: Pairs = [
      [0, 0],
      [0, 0],
      [0, 0],
      [0, 0],
    ];
    pairs.forEach((p, axis) => (nhwc[NCHW_AXIS_IN_NHWC[axis]] = p));
    return new ChannelsLast(applyPad(ctx, ctx.channelsLast(0), nhwc, value) as tf.Tensor4D);
  }
  return applyPad(ctx, ctx.input(0), pairs, value);
};

export const PAD_OPS = { Pad: pad } satisfies Record<string, OpKernel>;
