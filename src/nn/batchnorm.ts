/**
 * BatchNorm's running statistics after a training-mode pass, as PyTorch updates them:
 *   running_mean <- (1 - m) running_mean + m mean_b
 *   running_var  <- (1 - m) running_var  + m var_b * n / (n - 1)      (m = 0.1, n values per channel)
 * where mean_b and the biased var_b are the batch's statistics.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ParameterSet } from './parameter-set.js';

export const BN_MOMENTUM = 0.1;

export interface BatchStatisticsUpdate {
  /** Buffer names of the running statistics. */
  runningMean: string;
  runningVar: string;
  /** The batch's per-channel mean and biased variance (any shape with one value per channel). */
  mean: tf.Tensor;
  variance: tf.Tensor;
  /** Values per channel behind the statistics. */
  count: number;
}

/** Moves the running statistics towards the batch's; the batch statistics stay the caller's to dispose. */
export function updateRunningStatistics(params: ParameterSet, update: BatchStatisticsUpdate): void {
  const m = BN_MOMENTUM;
  const unbiased = update.count > 1 ? update.count / (update.count - 1) : 1;
  const mean = params.buffer(update.runningMean);
  const variance = params.buffer(update.runningVar);
  const nextMean = tf.tidy(() => tf.add(tf.mul(mean, 1 - m), tf.mul(tf.reshape(update.mean, mean.shape), m)));
  const nextVar = tf.tidy(() => tf.add(tf.mul(variance, 1 - m), tf.mul(tf.reshape(update.variance, variance.shape), m * unbiased)));
  params.setBuffer(update.runningMean, nextMean);
  params.setBuffer(update.runningVar, nextVar);
}
