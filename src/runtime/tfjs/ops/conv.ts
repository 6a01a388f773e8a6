/**
 * Conv and ConvTranspose, 1-D and 2-D, computed channels-last (tfjs's layout). 1-D problems run as
 * 2-D ones of height 1. Dilations go to tfjs when the backend's backprop kernels take them (our
 * wasm fixes); elsewhere the kernel is spread with zeros, which every backend can differentiate.
 */
import * as tf from '@tensorflow/tfjs-core';
import { intAttr, intsAttr, stringAttr } from '../../../graph/ir.js';
import { hasDilatedBackprop } from '../kernels/register.js';
import { windowGeometry } from './padding.js';
import { channelsLastInput, lift, lower1d, spatialRank } from './spatial.js';
import { ChannelsLast, type OpContext, type OpKernel, type OpOutput } from './types.js';

type Pads4 = [[number, number], [number, number], [number, number], [number, number]];
type Shape4 = [number, number, number, number];

/** Spreads an ONNX kernel [M, C, KH, KW] along spatial axis 2 + i by dilations[i]. */
function spreadKernel(w: tf.Tensor4D, dilations: readonly number[]): tf.Tensor4D {
  let out = w;
  for (let i = 0; i < 2; i++) {
    const d = dilations[i];
    if (d === 1) continue;
    const shape: Shape4 = [...out.shape];
    const k = shape[2 + i];
    const prefix = shape.slice(0, 2 + i).reduce((a, b) => a * b, 1);
    const suffix = shape.slice(3 + i).reduce((a, b) => a * b, 1);
    const spread = tf.pad(tf.reshape(out, [prefix, k, 1, suffix]), [
      [0, 0],
      [0, 0],
      [0, d - 1],
      [0, 0],
    ]);
    const cut = tf.slice(tf.reshape(spread, [prefix, k * d, suffix]), [0, 0, 0], [prefix, (k - 1) * d + 1, suffix]);
    shape[2 + i] = (k - 1) * d + 1;
    out = tf.reshape(cut, shape);
  }
  return out;
}

/** ONNX [M, C/g, KH, KW] -> tfjs conv filter [KH, KW, C/g, M]. */
function convFilter(w: tf.Tensor): tf.Tensor4D {
  return tf.transpose(w as tf.Tensor4D, [2, 3, 1, 0]);
}

interface Conv2dSpec {
  strides: [number, number];
  dilations: [number, number];
  pads: Pads4;
  group: number;
}

function conv2dChannelsLast(x: tf.Tensor4D, weight: tf.Tensor4D, spec: Conv2dSpec): tf.Tensor4D {
  const { group, strides, pads } = spec;
  const dilated = spec.dilations.some((d) => d !== 1);
  // tfjs refuses strides and dilations both > 1; spread the kernel then, as on backends without our fixes.
  const native = !dilated || (hasDilatedBackprop(tf.getBackend()) && strides.every((s) => s === 1));
  const w = native ? weight : spreadKernel(weight, spec.dilations);
  const dilations: [number, number] = native ? spec.dilations : [1, 1];
  const channels = x.shape[3];
  if (group === 1) return tf.conv2d(x, convFilter(w), strides, pads, 'NHWC', dilations);
  if (group === channels && w.shape[1] === 1) {
    // Depthwise: ONNX output channel c*mult + j is tfjs's depthwise channel c*mult + j.
    const [m, , kh, kw] = w.shape;
    const filter = tf.transpose(tf.reshape(w, [channels, m / channels, kh, kw]), [2, 3, 0, 1]) as tf.Tensor4D;
    return tf.depthwiseConv2d(x, filter, strides, pads, 'NHWC', dilations);
  }
  const xs = tf.split(x, group, 3);
  const ws = tf.split(w, group, 0);
  return tf.concat(
    xs.map((xi, i) => tf.conv2d(xi as tf.Tensor4D, convFilter(ws[i]), strides, pads, 'NHWC', dilations)),
    3,
  );
}

function checkKernel(ctx: OpContext, w: tf.Tensor): number[] {
  const fromWeight = w.shape.slice(2);
  const kernel = intsAttr(ctx.node, 'kernel_shape', fromWeight) as number[];
  if (kernel.length !== fromWeight.length || kernel.some((k, i) => k !== fromWeight[i])) {
    ctx.fail(`kernel_shape [${kernel.join(',')}] does not match the weight shape [${w.shape.join(',')}]`);
  }
  return kernel;
}

/** A 1-D ONNX weight [A, B, K] as [A, B, 1, K]. */
function liftWeight(w: tf.Tensor): tf.Tensor4D {
  if (w.rank === 4) return w as tf.Tensor4D;
  const [a, b, k] = w.shape as number[];
  return tf.reshape(w, [a, b, 1, k]);
}

const conv: OpKernel = (ctx) => {
  const rank = spatialRank(ctx);
  const xShape = ctx.shape(0);
  const w = ctx.input(1);
  const wShape = w.shape as number[];
  const group = intAttr(ctx.node, 'group', 1);
  if (w.rank !== xShape.length) ctx.fail(`weight of shape [${w.shape.join(',')}] does not fit input [${xShape.join(',')}]`);
  if (group < 1 || xShape[1] !== wShape[1] * group || wShape[0] % group !== 0) {
    ctx.fail(`input channels ${xShape[1]}, weight [${w.shape.join(',')}] and group ${group} are inconsistent`);
  }
  const g = windowGeometry(ctx, xShape.slice(2), checkKernel(ctx, w));
  const padBegin = lift(g.padBegin, 0, rank);
  const padEnd = lift(g.padEnd, 0, rank);
  const spec: Conv2dSpec = {
    strides: lift(g.strides, 1, rank) as [number, number],
    dilations: lift(g.dilations, 1, rank) as [number, number],
    pads: [
      [0, 0],
      [padBegin[0], padEnd[0]],
      [padBegin[1], padEnd[1]],
      [0, 0],
    ],
    group,
  };
  const x = channelsLastInput(ctx, rank);
  let y = conv2dChannelsLast(x, liftWeight(w), spec);
  const bias = ctx.optional(2);
  if (bias) y = tf.add(y, bias);
  return rank === 1 ? lower1d(y) : new ChannelsLast(y);
};

/** `y[start : start + size]` along `axis`, zero-filled where that range leaves y. */
function cropOrPad(y: tf.Tensor4D, axis: number, start: number, size: number): tf.Tensor4D {
  const full = y.shape[axis];
  if (start === 0 && size === full) return y;
  const lo = Math.min(Math.max(start, 0), full);
  const hi = Math.max(Math.min(start + size, full), lo);
  const begin = [0, 0, 0, 0];
  const extent = [...y.shape];
  begin[axis] = lo;
  extent[axis] = hi - lo;
  let out = tf.slice(y, begin, extent);
  const before = lo - start;
  const after = start + size - hi;
  if (before > 0 || after > 0) {
    const pads: Pads4 = [
      [0, 0],
      [0, 0],
      [0, 0],
      [0, 0],
    ];
    pads[axis] = [before, after];
    out = tf.pad(out, pads);
  }
  return out;
}

interface TransposeGeometry {
  /** Output size and the amount cropped at the start of each spatial axis of the full result. */
  out: number[];
  cropBegin: number[];
}

function convTransposeGeometry(
  ctx: OpContext,
  spatial: readonly number[],
  kernel: readonly number[],
): TransposeGeometry & { strides: number[]; dilations: number[] } {
  const rank = spatial.length;
  const zeros = spatial.map(() => 0);
  const ones = spatial.map(() => 1);
  const strides = intsAttr(ctx.node, 'strides', ones) as number[];
  const dilations = intsAttr(ctx.node, 'dilations', ones) as number[];
  const pads = intsAttr(ctx.node, 'pads', [...zeros, ...zeros]) as number[];
  const outputPadding = intsAttr(ctx.node, 'output_padding', zeros) as number[];
  const outputShape = intsAttr(ctx.node, 'output_shape', undefined);
  const autoPad = stringAttr(ctx.node, 'auto_pad', 'NOTSET');
  if (strides.length !== rank || dilations.length !== rank || pads.length !== 2 * rank || outputPadding.length !== rank) {
    ctx.fail(`strides/dilations/pads/output_padding do not match ${rank} spatial dimensions`);
  }
  if (!['NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID'].includes(autoPad)) ctx.fail(`auto_pad='${autoPad}' is not supported`);
  const out: number[] = [];
  const cropBegin: number[] = [];
  for (let i = 0; i < rank; i++) {
    const span = (kernel[i] - 1) * dilations[i] + 1;
    const natural = strides[i] * (spatial[i] - 1) + outputPadding[i] + span;
    if (outputShape || autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
      const size = outputShape ? outputShape[outputShape.length - rank + i] : spatial[i] * strides[i];
      const total = natural - size;
      // As ONNX Runtime: SAME_UPPER crops the smaller half at the start, otherwise the larger one.
      const begin = autoPad === 'SAME_UPPER' ? Math.floor(total / 2) : total - Math.floor(total / 2);
      out.push(size);
      cropBegin.push(begin);
    } else if (autoPad === 'VALID') {
      out.push(natural);
      cropBegin.push(0);
    } else {
      out.push(natural - pads[i] - pads[i + rank]);
      cropBegin.push(pads[i]);
    }
    if (out[i] < 1) ctx.fail(`output size ${out[i]} along spatial axis ${i} is not positive`);
  }
  return { out, cropBegin, strides, dilations };
}

const convTranspose: OpKernel = (ctx): OpOutput => {
  const rank = spatialRank(ctx);
  const xShape = ctx.shape(0);
  const w = ctx.input(1);
  const group = intAttr(ctx.node, 'group', 1);
  if (w.rank !== xShape.length || group < 1 || w.shape[0] !== xShape[1] || xShape[1] % group !== 0) {
    ctx.fail(`input [${xShape.join(',')}], weight [${w.shape.join(',')}] and group ${group} are inconsistent`);
  }
  const g = convTransposeGeometry(ctx, xShape.slice(2), checkKernel(ctx, w));
  const strides = lift(g.strides, 1, rank) as [number, number];
  const out = lift(g.out, 1, rank);
  const cropBegin = lift(g.cropBegin, 0, rank);
  const wd = spreadKernel(liftWeight(w), lift(g.dilations, 1, rank));
  const x = channelsLastInput(ctx, rank);
  const [n, h, wIn] = x.shape;
  const [, mg, kh, kw] = wd.shape;
  const fullShape: Shape4 = [n, (h - 1) * strides[0] + kh, (wIn - 1) * strides[1] + kw, mg];
  const xs = group === 1 ? [x] : tf.split(x, group, 3);
  const ws = group === 1 ? [wd] : tf.split(wd, group, 0);
  // tfjs filter for the transpose: [KH, KW, out channels, in channels] from ONNX [in, out, KH, KW].
  const parts = xs.map((xi, i) => tf.conv2dTranspose(xi as tf.Tensor4D, tf.transpose(ws[i] as tf.Tensor4D, [2, 3, 1, 0]), fullShape, strides, 'valid'));
  let y: tf.Tensor4D = parts.length === 1 ? parts[0] : tf.concat(parts, 3);
  y = cropOrPad(cropOrPad(y, 1, cropBegin[0], out[0]), 2, cropBegin[1], out[1]);
  const bias = ctx.optional(2);
  if (bias) y = tf.add(y, bias);
  return rank === 1 ? lower1d(y) : new ChannelsLast(y);
};

export const CONV_OPS = { Conv: conv, ConvTranspose: convTranspose } satisfies Record<string, OpKernel>;
