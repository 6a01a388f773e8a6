/**
 * GatherV2 with batchDims > 0, which tfjs-backend-wasm 4.22 gets wrong (later batches read the
 * wrong indices). Rewritten as a plain gather: x as [B,O,D,S] -> [O, B*D, S], indices shifted by
 * b*D, one batchDims=0 gather on axis 1, then back to [B,O,J,S]. batchDims = 0 goes to the
 * original kernel untouched.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { BackendKernels, withScratch } from './backend-kernels.js';

export function gatherBatchedConfig(backendName: string, original: KernelFunc): KernelConfig {
  const kernelFunc: KernelFunc = (args) => {
    const { inputs, backend, attrs = {} } = args;
    const { x, indices } = inputs as { x: TensorInfo; indices: TensorInfo };
    const rawBatchDims = (attrs['batchDims'] as number | undefined) ?? 0;
    const batchDims = rawBatchDims < 0 ? rawBatchDims + indices.shape.length : rawBatchDims;
    if (batchDims === 0) return original(args);
    const axis = tf.util.parseAxisParam(attrs['axis'] as number, x.shape)[0];
    const info = tf.backend_util.segment_util.collectGatherOpShapeInfo(x, indices, axis, batchDims);
    const { batchSize, outerSize, dimSize, sliceSize } = info;
    const k = new BackendKernels(backend, backendName);
    const perBatch = indices.shape.reduce((p, d) => p * d, 1) / batchSize;
    const raw = k.backend.readSync(indices.dataId) as Int32Array;
    const shifted = new Int32Array(raw.length);
    for (let i = 0; i < raw.length; i++) {
      if (!(raw[i] >= 0 && raw[i] < dimSize)) throw new Error(`GatherV2: the index value ${raw[i]} is not in [0, ${dimSize - 1}]`);
      shifted[i] = Math.floor(i / perBatch) * dimSize + raw[i];
    }
    return withScratch(k, (keep) => {
      const x4 = keep(k.reshape(x, [batchSize, outerSize, dimSize, sliceSize]));
      const merged = keep(k.reshape(keep(k.transpose(x4, [1, 0, 2, 3])), [outerSize, batchSize * dimSize, sliceSize]));
      const flatIndices = keep(k.fromValues(shifted, [shifted.length], 'int32'));
      const gathered = keep(k.runFunc(original, { x: merged, indices: flatIndices }, { axis: 1, batchDims: 0 }));
      const split = keep(k.reshape(gathered, [outerSize, batchSize, perBatch, sliceSize]));
      return k.reshape(keep(k.transpose(split, [1, 0, 2, 3])), info.outputShape);
    });
  };
  return { kernelName: 'GatherV2', backendName, kernelFunc };
}
