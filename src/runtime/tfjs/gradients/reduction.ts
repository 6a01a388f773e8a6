/** Gradients of reductions, scans and softmaxes (ported from tfjs-core 4.22; Cumsum fixed). */
import * as tf from '@tensorflow/tfjs-core';
import type { GradConfig, NamedAttrMap, Tensor } from '@tensorflow/tfjs-core';
import { gradient } from './grad-util.js';

type Axis = number | number[] | null | undefined;

function axesOf(axis: Axis, shape: readonly number[]): number[] {
  return axis === undefined || axis === null ? shape.map((_, i) => i) : tf.util.parseAxisParam(axis, [...shape]);
}

/** dy (reduced over `axes`) reshaped so that it broadcasts against x. */
function expandReduced(dy: Tensor, xShape: readonly number[], axes: number[]): Tensor {
  const shape = [...xShape];
  for (const axis of axes) shape[axis] = 1;
  return tf.reshape(dy, shape);
}

function sumOrMean(kernelName: string, divide: boolean): GradConfig {
  return gradient(kernelName, { inputs: ['x'] }, (dy, [x], attrs) => {
    const axes = axesOf(attrs['axis'] as Axis, x.shape);
    const count = divide ? axes.reduce((p, axis) => p * x.shape[axis], 1) : 1;
    return {
      x: () => {
        const spread = tf.mul(expandReduced(dy, x.shape, axes), tf.ones(x.shape, 'float32'));
        return divide ? tf.div(spread, count) : spread;
      },
    };
  });
}

/** The gradient flows to every element equal to the extremum (ties all receive it, as in tfjs). */
function minOrMax(kernelName: string, axisAttr: string): GradConfig {
  return gradient(kernelName, { inputs: ['x'], outputs: [true] }, (dy, [x, y], attrs) => {
    const axes = axesOf(attrs[axisAttr] as Axis, x.shape);
    return {
      x: () => {
        const yFull = y.rank < x.rank ? expandReduced(y, x.shape, axes) : y;
        const dyFull = dy.rank < x.rank ? expandReduced(dy, x.shape, axes) : dy;
        return tf.mul(dyFull, tf.cast(tf.equal(x, yFull), dy.dtype));
      },
    };
  });
}

function prodGrad(x: Tensor, dy: Tensor, attrs: NamedAttrMap): Tensor {
  const axis = attrs['axis'] as Axis;
  const axes = axesOf(axis, x.shape);
  const rank = x.rank;
  const permutation = tf.backend_util.getAxesPermutation(axes, rank);
  const permuted = permutation === null ? x : tf.transpose(x, permutation);
  const kept = permuted.shape.slice(0, rank - axes.length);
  const flatAxis = kept.length;
  const reducedSize = permuted.shape.slice(flatAxis).reduce((p, d) => p * d, 1);
  const flat = tf.reshape(permuted, [...kept, reducedSize]);
  // d prod / d x_i = product of all the others = exclusive cumprod from the left times from the right.
  const others = tf.mul(tf.cumprod(flat, flatAxis, true, false), tf.cumprod(flat, flatAxis, true, true));
  const grad = tf.reshape(tf.mul(tf.reshape(dy, [...kept, 1]), others), permuted.shape);
  return permutation === null ? grad : tf.transpose(grad, tf.backend_util.getUndoAxesPermutation(permutation));
}

export const reductionGradients: GradConfig[] = [
  sumOrMean('Sum', false),
  sumOrMean('Mean', true),
  minOrMax('Max', 'reductionIndices'),
  minOrMax('Min', 'axis'),
  gradient('Prod', { inputs: ['x'] }, (dy, [x], attrs) => ({ x: () => prodGrad(x, dy, attrs) })),
  // tfjs transposed the result once more when axis was not the last one (wrong shape or order).
  gradient('Cumsum', {}, (dy, _saved, attrs) => ({
    x: () => tf.cumsum(dy, attrs['axis'] as number, attrs['exclusive'] as boolean, !(attrs['reverse'] as boolean)),
  })),
  gradient('Softmax', { outputs: [true] }, (dy, [y], attrs) => {
    const dim = attrs['dim'] as number;
    return {
      logits: () => {
        const dyTimesY = tf.mul(dy, y);
        return tf.sub(dyTimesY, tf.mul(tf.sum(dyTimesY, [dim], true), y));
      },
    };
  }),
  gradient('LogSoftmax', { outputs: [true] }, (dy, [value], attrs) => ({
    logits: () => tf.sub(dy, tf.mul(tf.sum(dy, attrs['axis'] as number, true), tf.exp(value))),
  })),
];
