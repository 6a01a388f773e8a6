/**
 * Shape manipulation: Shape, Reshape, Flatten, Transpose, Unsqueeze, Squeeze, Concat, Expand,
 * ConstantOfShape, Split.
 * Shape-like values (Shape's output, Reshape's target) are int32 tensors; reading them back is a
 * synchronous copy of a few numbers on the CPU-side backends we run.
 */
import * as tf from '@tensorflow/tfjs-core';
import { intAttr, intsAttr } from '../../../graph/ir.js';
import { ChannelsLast, NCHW_AXIS_IN_NHWC, normalizeAxis, type OpContext, type OpKernel, product } from './types.js';

const shapeOp: OpKernel = (ctx) => {
  const shape = ctx.shape(0);
  const rank = shape.length;
  // Opset 15 added start/end, clamped like Python slicing.
  const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + rank : v, 0), rank);
  const start = clamp(intAttr(ctx.node, 'start', 0));
  const end = clamp(intAttr(ctx.node, 'end', rank));
  return tf.tensor1d(shape.slice(start, Math.max(start, end)), 'int32');
};

function reshapeTarget(ctx: OpContext, input: readonly number[], requested: readonly number[]): number[] {
  const allowZero = intAttr(ctx.node, 'allowzero', 0) !== 0;
  const target = requested.map((d, i) => {
    if (d === 0 && !allowZero) {
      if (i >= input.length) ctx.fail(`shape [${requested.join(',')}] copies dimension ${i}, which input [${input.join(',')}] lacks`);
      return input[i];
    }
    return d;
  });
  const inferred = target.filter((d) => d === -1).length;
  const known = product(target.filter((d) => d !== -1));
  const size = product(input);
  if (inferred > 1 || target.some((d) => d < -1) || (inferred === 0 && known !== size) || (inferred === 1 && (known === 0 || size % known !== 0))) {
    ctx.fail(`cannot reshape [${input.join(',')}] to [${requested.join(',')}]`);
  }
  return target.map((d) => (d === -1 ? size / known : d));
}

const reshape: OpKernel = (ctx) => {
  const requested = ctx.opset >= 5 ? ctx.numbers(1) : intsAttr(ctx.node, 'shape', undefined);
  if (!requested) return ctx.fail('the target shape is missing');
  return tf.reshape(ctx.input(0), reshapeTarget(ctx, ctx.shape(0), requested));
};

const flatten: OpKernel = (ctx) => {
  const shape = ctx.shape(0);
  const axisAttr = intAttr(ctx.node, 'axis', 1);
  const axis = axisAttr < 0 ? axisAttr + shape.length : axisAttr;
  if (axis < 0 || axis > shape.length) ctx.fail(`axis ${axisAttr} is out of range for rank ${shape.length}`);
  return tf.reshape(ctx.input(0), [product(shape.slice(0, axis)), product(shape.slice(axis))]);
};

const transpose: OpKernel = (ctx) => {
  const rank = ctx.shape(0).length;
  const perm = intsAttr(ctx.node, 'perm', undefined) ?? Array.from({ length: rank }, (_, i) => rank - 1 - i);
  if (perm.length !== rank || [...perm].sort((a, b) => a - b).some((p, i) => p !== i)) {
    ctx.fail(`perm [${perm.join(',')}] is not a permutation of ${rank} axes`);
  }
  // From channels-last, one transpose does both the layout change and the requested permutation.
  if (ctx.isChannelsLast(0))
    return tf.transpose(
      ctx.channelsLast(0),
      perm.map((p) => NCHW_AXIS_IN_NHWC[p]),
    );
  return tf.transpose(ctx.input(0), perm);
};

function axesInput(ctx: OpContext, required: boolean): number[] | undefined {
  // Opset 13 moved axes from an attribute to an input.
  const axes = ctx.opset >= 13 ? (ctx.has(1) ? ctx.numbers(1) : undefined) : intsAttr(ctx.node, 'axes', undefined);
  if (!axes && required) ctx.fail('axes are required');
  return axes;
}

const unsqueeze: OpKernel = (ctx) => {
  const shape = ctx.shape(0);
  const axes = axesInput(ctx, true) as number[];
  const rank = shape.length + axes.length;
  const positions = new Set(axes.map((a) => normalizeAxis(ctx, a, rank)));
  if (positions.size !== axes.length) ctx.fail(`axes [${axes.join(',')}] repeat an axis`);
  const out: number[] = [];
  let next = 0;
  for (let i = 0; i < rank; i++) out.push(positions.has(i) ? 1 : shape[next++]);
  return tf.reshape(ctx.input(0), out);
};

const squeeze: OpKernel = (ctx) => {
  const shape = ctx.shape(0);
  const axes = axesInput(ctx, false);
  const drop = axes ? new Set(axes.map((a) => normalizeAxis(ctx, a, shape.length))) : new Set(shape.flatMap((d, i) => (d === 1 ? [i] : [])));
  for (const a of drop) if (shape[a] !== 1) ctx.fail(`cannot squeeze axis ${a} of size ${shape[a]}`);
  return tf.reshape(
    ctx.input(0),
    shape.filter((_, i) => !drop.has(i)),
  );
};

const concat: OpKernel = (ctx) => {
  const count = ctx.node.inputs.length;
  const shapes = Array.from({ length: count }, (_, i) => ctx.shape(i));
  const rank = shapes[0].length;
  if (!ctx.node.attributes['axis']) ctx.fail('attribute axis is required');
  const axis = normalizeAxis(ctx, intAttr(ctx.node, 'axis', 0), rank);
  for (const s of shapes) {
    if (s.length !== rank || s.some((d, i) => i !== axis && d !== shapes[0][i])) {
      ctx.fail(`inputs [${shapes.map((x) => x.join(',')).join('] [')}] do not match outside axis ${axis}`);
    }
  }
  const indices = Array.from({ length: count }, (_, i) => i);
  if (rank === 4 && indices.some((i) => ctx.isChannelsLast(i))) {
    return new ChannelsLast(
      tf.concat(
        indices.map((i) => ctx.channelsLast(i)),
        NCHW_AXIS_IN_NHWC[axis],
      ),
    );
  }
  const parts = indices.map((i) => ctx.input(i));
  return parts.length === 1 ? tf.clone(parts[0]) : tf.concat(parts, axis);
};

function broadcastShape(ctx: OpContext, a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  return Array.from({ length: rank }, (_, i) => {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) ctx.fail(`shapes [${a.join(',')}] and [${b.join(',')}] do not broadcast`);
    return da === 1 ? db : da;
  });
}

const expand: OpKernel = (ctx) => {
  const shape = ctx.shape(0);
  const target = broadcastShape(ctx, shape, ctx.numbers(1));
  const x = ctx.input(0);
  return target.length === shape.length && target.every((d, i) => d === shape[i]) ? tf.clone(x) : tf.broadcastTo(x, target);
};

const constantOfShape: OpKernel = (ctx) => {
  const shape = ctx.numbers(0);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) ctx.fail(`invalid shape [${shape.join(',')}]`);
  const a = ctx.node.attributes['value'];
  let value = 0;
  let dtype: tf.DataType = 'float32';
  if (a) {
    if (a.type !== 'tensor' || a.value.data.length !== 1) return ctx.fail('value must be a one-element tensor');
    const t = a.value;
    value = Number(t.data[0]);
    if (t.dtype === 'bool') dtype = 'bool';
    else if (t.dtype === 'int64' || t.dtype === 'int32' || t.dtype === 'uint8') dtype = 'int32';
    else if (t.dtype !== 'float32' && t.dtype !== 'float64') return ctx.fail(`value of type ${t.dtype} is not supported`);
  }
  return ctx.constant(`ConstantOfShape:${ctx.node.name}:${shape.join(',')}`, () => tf.fill(shape, value, dtype));
};

function splitSizes(ctx: OpContext, dim: number): number[] {
  // Opset 13 moved split from an attribute to an input; opset 18 added num_outputs.
  const given = ctx.opset >= 13 ? (ctx.has(1) ? ctx.numbers(1) : undefined) : intsAttr(ctx.node, 'split', undefined);
  const outputs = ctx.node.outputs.length;
  if (given) {
    if (given.length !== outputs || given.reduce((a, b) => a + b, 0) !== dim || given.some((s) => s < 0)) {
      ctx.fail(`split [${given.join(',')}] does not divide ${dim} into ${outputs} outputs`);
    }
    return given;
  }
  const parts = intAttr(ctx.node, 'num_outputs', outputs);
  if (parts !== outputs) ctx.fail(`num_outputs ${parts} differs from the ${outputs} outputs`);
  // Uneven splits (opset 18) give ceil(dim / n) to every part but the last.
  const chunk = dim % parts === 0 || ctx.opset >= 18 ? Math.ceil(dim / parts) : Number.NaN;
  if (Number.isNaN(chunk)) ctx.fail(`cannot split ${dim} evenly into ${parts} outputs`);
  const sizes = Array.from({ length: parts }, (_, i) => Math.max(0, Math.min(chunk, dim - i * chunk)));
  if (sizes.some((s) => s === 0)) ctx.fail(`cannot split ${dim} into ${parts} non-empty outputs`);
  return sizes;
}

const split: OpKernel = (ctx) => {
  const shape = ctx.shape(0);
  const axis = normalizeAxis(ctx, intAttr(ctx.node, 'axis', 0), shape.length);
  const sizes = splitSizes(ctx, shape[axis]);
  if (ctx.isChannelsLast(0)) {
    return tf.split(ctx.channelsLast(0), sizes, NCHW_AXIS_IN_NHWC[axis]).map((t) => new ChannelsLast(t as tf.Tensor4D));
  }
  return tf.split(ctx.input(0), sizes, axis);
};

export const SHAPE_OPS = {
  Expand: expand,
  ConstantOfShape: constantOfShape,
  Split: split,
  Shape: shapeOp,
  Reshape: reshape,
  Flatten: flatten,
  Transpose: transpose,
  Unsqueeze: unsqueeze,
  Squeeze: squeeze,
  Concat: concat,
} satisfies Record<string, OpKernel>;
