/** Slice (opset 1 attributes or opset 10+ inputs, with steps) and Gather. Both stay differentiable on every backend. */
import * as tf from '@tensorflow/tfjs-core';
import { intAttr, intsAttr } from '../../../graph/ir.js';
import { ChannelsLast, NCHW_AXIS_IN_NHWC, normalizeAxis, type OpContext, type OpKernel } from './types.js';

interface AxisSlice {
  axis: number;
  /** First element taken. */
  start: number;
  count: number;
  step: number;
}

/** Resolves ONNX starts/ends/steps (negative and out-of-range values clamp like numpy). */
function resolveSlices(ctx: OpContext, shape: readonly number[]): AxisSlice[] {
  let starts: number[] | undefined;
  let ends: number[] | undefined;
  let axes: number[] | undefined;
  let steps: number[] | undefined;
  if (ctx.opset >= 10) {
    starts = ctx.numbers(1);
    ends = ctx.numbers(2);
    if (ctx.has(3)) axes = ctx.numbers(3);
    if (ctx.has(4)) steps = ctx.numbers(4);
  } else {
    starts = intsAttr(ctx.node, 'starts', undefined);
    ends = intsAttr(ctx.node, 'ends', undefined);
    axes = intsAttr(ctx.node, 'axes', undefined);
  }
  if (!starts || !ends || starts.length !== ends.length) return ctx.fail('starts and ends must be given with equal lengths');
  const n = starts.length;
  const resolvedAxes = (axes ?? starts.map((_, i) => i)).map((a) => normalizeAxis(ctx, a, shape.length));
  const resolvedSteps = steps ?? starts.map(() => 1);
  if (resolvedAxes.length !== n || resolvedSteps.length !== n || new Set(resolvedAxes).size !== n) {
    ctx.fail('starts, ends, axes and steps must have equal lengths and distinct axes');
  }
  return resolvedAxes.map((axis, i) => {
    const dim = shape[axis];
    const step = resolvedSteps[i];
    if (step === 0) ctx.fail('a step of 0 is invalid');
    const relative = (v: number) => (v < 0 ? v + dim : v);
    const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
    let start: number;
    let end: number;
    let count: number;
    if (step > 0) {
      start = clamp(relative(starts[i]), 0, dim);
      end = clamp(relative(ends[i]), 0, dim);
      count = Math.max(0, Math.ceil((end - start) / step));
    } else {
      start = clamp(relative(starts[i]), 0, dim - 1);
      end = clamp(relative(ends[i]), -1, dim - 1);
      count = Math.max(0, Math.ceil((start - end) / -step));
    }
    return { axis, start, count, step };
  });
}

/** Takes `count` elements every `step` from `start` along one axis, with pad/reshape/slice/reverse only. */
function sliceAxis(x: tf.Tensor, { axis, start, count, step }: AxisSlice): tf.Tensor {
  const shape = x.shape;
  const stride = Math.abs(step);
  const span = count === 0 ? 0 : (count - 1) * stride + 1;
  const low = step > 0 ? start : start - span + 1;
  const begin = shape.map((_, i) => (i === axis ? (count === 0 ? 0 : low) : 0));
  const size = shape.map((d, i) => (i === axis ? span : d));
  let y = tf.slice(x, begin, size);
  if (stride > 1 && count > 1) {
    const pre = shape.slice(0, axis).reduce((a, b) => a * b, 1);
    const post = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
    const padded = tf.pad(tf.reshape(y, [pre, span, post]), [
      [0, 0],
      [0, count * stride - span],
      [0, 0],
    ]);
    const picked = tf.slice(tf.reshape(padded, [pre, count, stride, post]), [0, 0, 0, 0], [pre, count, 1, post]);
    y = tf.reshape(
      picked,
      shape.map((d, i) => (i === axis ? count : d)),
    );
  }
  return step < 0 && count > 1 ? tf.reverse(y, axis) : y;
}

const slice: OpKernel = (ctx) => {
  const slices = resolveSlices(ctx, ctx.shape(0));
  if (ctx.isChannelsLast(0)) {
    let y: tf.Tensor = ctx.channelsLast(0);
    for (const s of slices) y = sliceAxis(y, { ...s, axis: NCHW_AXIS_IN_NHWC[s.axis] });
    return new ChannelsLast(y as tf.Tensor4D);
  }
  let y = ctx.input(0);
  for (const s of slices) y = sliceAxis(y, s);
  return y;
};

const gather: OpKernel = (ctx) => {
  const shape = ctx.shape(0);
  const axis = normalizeAxis(ctx, intAttr(ctx.node, 'axis', 0), shape.length);
  const dim = shape[axis];
  const indexShape = ctx.shape(1);
  const indices = ctx.numbers(1).map((i) => {
    const j = i < 0 ? i + dim : i;
    if (!Number.isInteger(j) || j < 0 || j >= dim) ctx.fail(`index ${i} is out of range for axis ${axis} of size ${dim}`);
    return j;
  });
  const x = ctx.input(0);
  if (indexShape.length === 0) {
    // A scalar index (e.g. the class token x[:, 0]): a slice, whose gradient every backend has.
    const picked = sliceAxis(x, { axis, start: indices[0], count: 1, step: 1 });
    return tf.reshape(
      picked,
      shape.filter((_, i) => i !== axis),
    );
  }
  return tf.gather(x, tf.tensor(indices, indexShape, 'int32'), axis);
};

export const INDEXING_OPS = { Slice: slice, Gather: gather } satisfies Record<string, OpKernel>;
