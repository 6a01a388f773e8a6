/** Installs our kernel fixes for one backend (wasm); each replaces a missing, wrong or slow kernel. */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc } from '@tensorflow/tfjs-core';
import { batchMatMulConfig } from './batch-mat-mul.js';
import { conv2dBackpropFilterConfig } from './conv2d-backprop-filter.js';
import { conv2dBackpropInputConfig } from './conv2d-backprop-input.js';
import { depthwiseBackpropFilterConfig } from './depthwise-backprop-filter.js';
import { depthwiseBackpropInputConfig } from './depthwise-backprop-input.js';
import { gatherBatchedConfig } from './gather-batched.js';
import { maxPoolGradConfig } from './max-pool-grad.js';
import { resizeBilinearGradConfig } from './resize-bilinear-grad.js';
import { resizeNearestGradConfig } from './resize-nearest-grad.js';
import { unsortedSegmentSumConfig } from './unsorted-segment-sum.js';

const fixedBackends = new Set<string>();

/**
 * Idempotent. Run it after the backend is initialized; wrapped kernels also carry the original's
 * setupFunc, so that a later (re)initialization still sets the original up.
 */
export function registerKernelFixes(backendName: string): void {
  if (fixedBackends.has(backendName)) return;
  const wrap = (kernelName: string, make: (backendName: string, original: KernelFunc) => KernelConfig): KernelConfig => {
    const original = tf.getKernel(kernelName, backendName);
    if (original === undefined) throw new Error(`backend ${backendName} has no ${kernelName} kernel to wrap`);
    return { ...make(backendName, original.kernelFunc), setupFunc: original.setupFunc };
  };
  const configs: KernelConfig[] = [
    conv2dBackpropFilterConfig(backendName),
    conv2dBackpropInputConfig(backendName),
    depthwiseBackpropFilterConfig(backendName),
    depthwiseBackpropInputConfig(backendName),
    unsortedSegmentSumConfig(backendName),
    maxPoolGradConfig(backendName),
    resizeNearestGradConfig(backendName),
    resizeBilinearGradConfig(backendName),
    wrap('BatchMatMul', batchMatMulConfig),
    wrap('GatherV2', gatherBatchedConfig),
  ];
  for (const config of configs) {
    if (tf.getKernel(config.kernelName, backendName) !== undefined) tf.unregisterKernel(config.kernelName, backendName);
    tf.registerKernel(config);
  }
  fixedBackends.add(backendName);
}

/** Whether the backprop kernels of `backendName` honour a `dilations` attr (only ours do). */
export function hasDilatedBackprop(backendName: string): boolean {
  return fixedBackends.has(backendName);
}
