/**
 * Resize, nearest mode: each resized axis is a gather with source indices worked out on the host
 * from ONNX's coordinate transformation and rounding rules.
 */
import * as tf from '@tensorflow/tfjs-core';
import { intsAttr, stringAttr } from '../../../graph/ir.js';
import { ChannelsLast, NCHW_AXIS_IN_NHWC, normalizeAxis, type OpContext, type OpKernel } from './types.js';

type Transform = (x: number, scale: number, inSize: number, outSize: number) => number;

const TRANSFORMS: Record<string, Transform> = {
  half_pixel: (x, scale) => (x + 0.5) / scale - 0.5,
  pytorch_half_pixel: (x, scale, _in, out) => (out > 1 ? (x + 0.5) / scale - 0.5 : 0),
  align_corners: (x, _scale, inSize, out) => (out === 1 ? 0 : (x * (inSize - 1)) / (out - 1)),
  asymmetric: (x, scale) => x / scale,
  tf_half_pixel_for_nn: (x, scale) => (x + 0.5) / scale,
};

const ROUNDING: Record<string, (x: number) => number> = {
  round_prefer_floor: (x) => (x === Math.floor(x) + 0.5 ? Math.floor(x) : Math.round(x)),
  round_prefer_ceil: (x) => (x === Math.floor(x) + 0.5 ? Math.ceil(x) : Math.round(x)),
  floor: Math.floor,
  ceil: Math.ceil,
};

interface AxisResize {
  axis: number;
  scale: number;
  outSize: number;
}

function nonEmpty(ctx: OpContext, index: number): number[] | undefined {
  if (!ctx.has(index)) return undefined;
  const values = ctx.numbers(index);
  return values.length > 0 ? values : undefined;
}

function axisResizes(ctx: OpContext, shape: readonly number[]): AxisResize[] {
  const rank = shape.length;
  // Opset 10: (X, scales). Opset 11+: (X, roi, scales, sizes), optionally over `axes` (opset 18).
  const scales = ctx.opset >= 11 ? nonEmpty(ctx, 2) : nonEmpty(ctx, 1);
  const sizes = ctx.opset >= 11 ? nonEmpty(ctx, 3) : undefined;
  const axes = (intsAttr(ctx.node, 'axes', undefined) ?? shape.map((_, i) => i)).map((a) => normalizeAxis(ctx, a, rank));
  if (stringAttr(ctx.node, 'keep_aspect_ratio_policy', 'stretch') !== 'stretch') ctx.fail('only keep_aspect_ratio_policy=stretch is supported');
  if ((scales === undefined) === (sizes === undefined)) ctx.fail('exactly one of scales and sizes must be given');
  const given = (scales ?? sizes) as number[];
  if (given.length !== axes.length) ctx.fail(`${scales ? 'scales' : 'sizes'} has ${given.length} entries for ${axes.length} axes`);
  return axes.map((axis, i) => {
    const inSize = shape[axis];
    const outSize = sizes ? sizes[i] : Math.floor(inSize * given[i]);
    const scale = sizes ? outSize / inSize : given[i];
    if (!(outSize > 0) || !(scale > 0)) ctx.fail(`resizing axis ${axis} of size ${inSize} by ${given[i]} gives no output`);
    return { axis, scale, outSize };
  });
}

const resize: OpKernel = (ctx) => {
  const mode = stringAttr(ctx.node, 'mode', 'nearest');
  if (mode !== 'nearest') ctx.fail(`mode='${mode}' is not supported (only nearest)`);
  const shape = ctx.shape(0);
  const transformName = stringAttr(ctx.node, 'coordinate_transformation_mode', ctx.opset >= 11 ? 'half_pixel' : 'asymmetric');
  const transform = TRANSFORMS[transformName];
  if (!transform) ctx.fail(`coordinate_transformation_mode='${transformName}' is not supported`);
  const roundingName = stringAttr(ctx.node, 'nearest_mode', 'round_prefer_floor');
  const rounding = ROUNDING[roundingName];
  if (!rounding) ctx.fail(`nearest_mode='${roundingName}' is not supported`);
  const resizes = axisResizes(ctx, shape).filter((r) => !(r.scale === 1 && r.outSize === shape[r.axis]));
  const channelsLast = ctx.isChannelsLast(0);
  let y: tf.Tensor = channelsLast ? ctx.channelsLast(0) : ctx.input(0);
  for (const { axis, scale, outSize } of resizes) {
    const inSize = shape[axis];
    const source = Array.from({ length: outSize }, (_, o) => Math.min(Math.max(rounding(transform(o, scale, inSize, outSize)), 0), inSize - 1));
    const indices = ctx.constant(`resize:${ctx.node.name}:${axis}:${inSize}:${outSize}:${scale}`, () => tf.tensor1d(source, 'int32'));
    y = tf.gather(y, indices, channelsLast ? NCHW_AXIS_IN_NHWC[axis] : axis);
  }
  if (resizes.length === 0) y = tf.clone(y);
  return channelsLast ? new ChannelsLast(y as tf.Tensor4D) : y;
};

export const RESIZE_OPS = { Resize: resize } satisfies Record<string, OpKernel>;
