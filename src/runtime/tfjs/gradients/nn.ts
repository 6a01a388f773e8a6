/** Gradients of pooling, normalization and resizing kernels (ported from tfjs-core 4.22). */
import * as tf from '@tensorflow/tfjs-core';
import type { GradConfig, NamedAttrMap, NamedTensorMap, Tensor } from '@tensorflow/tfjs-core';
import { gradient, unbroadcast } from './grad-util.js';

function run(kernelName: string, inputs: NamedTensorMap, attrs: NamedAttrMap): Tensor {
  return tf.engine().runKernel(kernelName, inputs, attrs) as Tensor;
}

function batchNormGrads(dy: Tensor, saved: Tensor[], attrs: NamedAttrMap): Record<string, () => Tensor> {
  const [x, mean, variance, scale] = saved;
  const epsilon = attrs['varianceEpsilon'] as number;
  const scaleValue: Tensor = scale ?? tf.scalar(1);
  // mean/variance/scale/offset broadcast against x (rank 1 over the last axis, or full rank).
  const invStd = tf.rsqrt(tf.add(variance, epsilon));
  const xMinusMean = tf.sub(x, mean);
  const dyTimesScale = tf.mul(dy, scaleValue);
  return {
    x: () => tf.reshape(tf.mul(tf.mul(dy, invStd), scaleValue), x.shape),
    mean: () => unbroadcast(tf.mul(tf.neg(invStd), dyTimesScale), mean.shape),
    variance: () => unbroadcast(tf.mul(tf.mul(tf.mul(tf.pow(invStd, 3), -0.5), xMinusMean), dyTimesScale), mean.shape),
    scale: () => unbroadcast(tf.mul(dy, tf.mul(xMinusMean, invStd)), mean.shape),
    offset: () => unbroadcast(dy, mean.shape),
  };
}

export const nnGradients: GradConfig[] = [
  gradient('MaxPool', { inputs: ['x'], outputs: [true] }, (dy, [x, y], attrs) => ({
    x: () => run('MaxPoolGrad', { dy, input: x, output: y }, attrs),
  })),
  gradient('AvgPool', { inputs: ['x'] }, (dy, [x], attrs) => ({ x: () => run('AvgPoolGrad', { dy, input: x }, attrs) })),
  gradient('MaxPool3D', { inputs: ['x'], outputs: [true] }, (dy, [x, y], attrs) => ({
    x: () => run('MaxPool3DGrad', { dy, input: x, output: y }, attrs),
  })),
  gradient('AvgPool3D', { inputs: ['x'] }, (dy, [x], attrs) => ({ x: () => run('AvgPool3DGrad', { dy, input: x }, attrs) })),
  gradient('FusedBatchNorm', { inputs: ['x', 'mean', 'variance', 'scale'] }, batchNormGrads),
  gradient('LRN', { inputs: ['x'], outputs: [true] }, (dy, [x, y], attrs) => ({ x: () => run('LRNGrad', { x, y, dy }, attrs) })),
  gradient('ResizeNearestNeighbor', { inputs: ['images'] }, (dy, [images], attrs) => ({
    images: () => run('ResizeNearestNeighborGrad', { images, dy }, attrs),
  })),
  gradient('ResizeBilinear', { inputs: ['images'] }, (dy, [images], attrs) => ({
    images: () => run('ResizeBilinearGrad', { images, dy }, attrs),
  })),
  gradient('Dilation2D', { inputs: ['x', 'filter'] }, (dy, [x, filter], attrs) => ({
    x: () => run('Dilation2DBackpropInput', { x, filter, dy }, attrs),
    filter: () => run('Dilation2DBackpropFilter', { x, filter, dy }, attrs),
  })),
];
