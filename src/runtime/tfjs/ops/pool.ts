/**
 * MaxPool, AveragePool and GlobalAveragePool, computed channels-last. Padding is applied
 * explicitly (-inf for max, zeros for average) and the average is rescaled where the window's
 * divisor differs from the kernel size, so the result does not depend on how a backend treats pads.
 */
import * as tf from '@tensorflow/tfjs-core';
import { intAttr, intsAttr } from '../../../graph/ir.js';
import { windowGeometry } from './padding.js';
import { channelsLastInput, lift, lower1d, spatialRank } from './spatial.js';
import { ChannelsLast, type OpContext, type OpKernel, type OpOutput } from './types.js';

type Pads4 = [[number, number], [number, number], [number, number], [number, number]];

interface PoolSetup {
  rank: 1 | 2;
  x: tf.Tensor4D;
  kernel: [number, number];
  strides: [number, number];
  /** Padding including ceil_mode's extra end padding. */
  pads: Pads4;
  geometry: ReturnType<typeof windowGeometry>;
}

function poolSetup(ctx: OpContext): PoolSetup {
  if (ctx.node.outputs.length > 1 && ctx.node.outputs[1]) ctx.fail('the Indices output is not supported');
  const rank = spatialRank(ctx);
  const kernel = intsAttr(ctx.node, 'kernel_shape', undefined);
  if (!kernel) return ctx.fail('kernel_shape is required');
  const geometry = windowGeometry(ctx, ctx.shape(0).slice(2), kernel);
  if (geometry.dilations.some((d) => d !== 1)) ctx.fail(`dilations [${geometry.dilations.join(',')}] are not supported`);
  const begin = lift(geometry.padBegin, 0, rank);
  const end = lift(
    geometry.padEnd.map((p, i) => p + geometry.extraEnd[i]),
    0,
    rank,
  );
  return {
    rank,
    x: channelsLastInput(ctx, rank),
    kernel: lift(geometry.kernel, 1, rank) as [number, number],
    strides: lift(geometry.strides, 1, rank) as [number, number],
    pads: [
      [0, 0],
      [begin[0], end[0]],
      [begin[1], end[1]],
      [0, 0],
    ],
    geometry,
  };
}

function hasPadding(pads: Pads4): boolean {
  return pads.some(([a, b]) => a > 0 || b > 0);
}

function finish(rank: 1 | 2, y: tf.Tensor4D): OpOutput {
  return rank === 1 ? lower1d(y) : new ChannelsLast(y);
}

const maxPool: OpKernel = (ctx) => {
  const { rank, x, kernel, strides, pads } = poolSetup(ctx);
  const padded = hasPadding(pads) ? tf.pad(x, pads, Number.NEGATIVE_INFINITY) : x;
  return finish(rank, tf.maxPool(padded, kernel, strides, 'valid'));
};

/** Per output position along one axis: how many of the window's cells count toward the divisor. */
function divisors(inSize: number, out: number, kernel: number, stride: number, begin: number, end: number, includePad: boolean): number[] {
  const lo = includePad ? -begin : 0;
  const hi = includePad ? inSize + end : inSize;
  return Array.from({ length: out }, (_, o) => {
    const start = o * stride - begin;
    return Math.min(start + kernel, hi) - Math.max(start, lo);
  });
}

const averagePool: OpKernel = (ctx) => {
  const { rank, x, kernel, strides, pads, geometry } = poolSetup(ctx);
  const includePad = intAttr(ctx.node, 'count_include_pad', 0) !== 0;
  let y = tf.avgPool(hasPadding(pads) ? tf.pad(x, pads) : x, kernel, strides, 'valid');
  const needsRescale = geometry.extraEnd.some((e) => e > 0) || (!includePad && hasPadding(pads));
  if (needsRescale) {
    const spatial = ctx.shape(0).slice(2);
    const perAxis = spatial.map((size, i) =>
      divisors(size, geometry.out[i], geometry.kernel[i], geometry.strides[i], geometry.padBegin[i], geometry.padEnd[i], includePad),
    );
    const [rows, cols] = lift(perAxis, [1], rank);
    const key = `avgpool-scale:${ctx.node.name}:${spatial.join(',')}`;
    const scale = ctx.constant(key, () => {
      const values = new Float32Array(rows.length * cols.length);
      const area = kernel[0] * kernel[1];
      rows.forEach((r, i) => cols.forEach((c, j) => (values[i * cols.length + j] = area / (r * c))));
      return tf.tensor4d(values, [1, rows.length, cols.length, 1]);
    });
    y = tf.mul(y, scale);
  }
  return finish(rank, y);
};

const globalAveragePool: OpKernel = (ctx) => {
  const shape = ctx.shape(0);
  if (shape.length < 3) ctx.fail(`input must have rank >= 3, got [${shape.join(',')}]`);
  if (ctx.isChannelsLast(0)) return tf.reshape(tf.mean(ctx.channelsLast(0), [1, 2]), [shape[0], shape[1], 1, 1]);
  const axes = shape.slice(2).map((_, i) => i + 2);
  return tf.mean(ctx.input(0), axes, true);
};

export const POOL_OPS = { MaxPool: maxPool, AveragePool: averagePool, GlobalAveragePool: globalAveragePool } satisfies Record<string, OpKernel>;
