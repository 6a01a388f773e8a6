/**
 * UnsortedSegmentSum, which tfjs-backend-wasm 4.22 lacks; the gradient of gather (embeddings,
 * class-token lookups) needs it. A single pass over x: out[ids[i], ...] += x[i, ...], where ids
 * cover the leading axes of x; ids outside [0, numSegments) are dropped, as in TensorFlow.
 */
import type { KernelBackend, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';

export function unsortedSegmentSumConfig(backendName: string): KernelConfig {
  const kernelFunc: KernelFunc = ({ inputs, backend: anyBackend, attrs = {} }) => {
    const backend = anyBackend as KernelBackend;
    const { x, segmentIds } = inputs as { x: TensorInfo; segmentIds: TensorInfo };
    const numSegments = attrs['numSegments'] as number;
    const idsRank = segmentIds.shape.length;
    if (segmentIds.shape.some((d, i) => d !== x.shape[i])) {
      throw new Error(`UnsortedSegmentSum: segment ids of shape [${segmentIds.shape}] do not prefix x's shape [${x.shape}]`);
    }
    if (x.dtype !== 'float32' && x.dtype !== 'int32') {
      throw new Error(`UnsortedSegmentSum: unsupported dtype ${x.dtype}`);
    }
    const rowShape = x.shape.slice(idsRank);
    const rowSize = rowShape.reduce((p, d) => p * d, 1);
    const values = backend.readSync(x.dataId) as Float32Array | Int32Array;
    const ids = backend.readSync(segmentIds.dataId) as Int32Array;
    const out = x.dtype === 'float32' ? new Float32Array(numSegments * rowSize) : new Int32Array(numSegments * rowSize);
    for (let i = 0; i < ids.length; i++) {
      const segment = ids[i];
      if (segment < 0 || segment >= numSegments) continue;
      const src = i * rowSize;
      const dst = segment * rowSize;
      for (let j = 0; j < rowSize; j++) out[dst + j] += values[src + j];
    }
    const shape = [numSegments, ...rowShape];
    return { dataId: backend.write(out, shape, x.dtype), shape, dtype: x.dtype };
  };
  return { kernelName: 'UnsortedSegmentSum', backendName, kernelFunc };
}
