/**
 * MaxPoolGrad, replacing tfjs-backend-wasm 4.22's, which routes gradients to wrong pixels for many
 * shapes (e.g. [1,8,8,4] 2x2/2, [2,8,8,1]). Each dy value goes to the first maximum of its window
 * in row-major order, as in the cpu backend. A single pass in JS, channels innermost.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelBackend, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';

type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];

export function maxPoolGradConfig(backendName: string): KernelConfig {
  const kernelFunc: KernelFunc = ({ inputs, backend: anyBackend, attrs = {} }) => {
    const backend = anyBackend as KernelBackend;
    const { dy, input } = inputs as { dy: TensorInfo; input: TensorInfo };
    const info = tf.backend_util.computePool2DInfo(
      input.shape as [number, number, number, number],
      attrs['filterSize'] as number | [number, number],
      attrs['strides'] as number | [number, number],
      1,
      attrs['pad'] as Pad,
      attrs['dimRoundingMode'] as 'floor' | 'round' | 'ceil' | undefined,
    );
    const { batchSize, inHeight, inWidth, inChannels: channels, outHeight, outWidth } = info;
    const x = backend.readSync(input.dataId) as Float32Array;
    const grad = backend.readSync(dy.dataId) as Float32Array;
    const dx = new Float32Array(x.length);
    const best = new Float32Array(channels);
    const where = new Int32Array(channels);
    for (let b = 0; b < batchSize; b++) {
      for (let oh = 0; oh < outHeight; oh++) {
        const top = oh * info.strideHeight - info.padInfo.top;
        for (let ow = 0; ow < outWidth; ow++) {
          const left = ow * info.strideWidth - info.padInfo.left;
          best.fill(-Infinity);
          where.fill(-1);
          for (let r = Math.max(0, top); r < Math.min(inHeight, top + info.filterHeight); r++) {
            for (let c = Math.max(0, left); c < Math.min(inWidth, left + info.filterWidth); c++) {
              const base = ((b * inHeight + r) * inWidth + c) * channels;
              for (let d = 0; d < channels; d++) {
                if (x[base + d] > best[d]) {
                  best[d] = x[base + d];
                  where[d] = base + d;
                }
              }
            }
          }
          const out = ((b * outHeight + oh) * outWidth + ow) * channels;
          for (let d = 0; d < channels; d++) if (where[d] >= 0) dx[where[d]] += grad[out + d];
        }
      }
    }
    return { dataId: backend.write(dx, input.shape, 'float32'), shape: input.shape, dtype: 'float32' };
  };
  return { kernelName: 'MaxPoolGrad', backendName, kernelFunc };
}
