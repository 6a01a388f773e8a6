/**
 * ResizeNearestNeighborGrad, replacing tfjs-backend-wasm 4.22's (wrong for batch > 1). Each dy
 * pixel is added to the source pixel the forward resize copied it from, with the forward's exact
 * mapping (alignCorners, halfPixelCenters) - the cpu backend's gradient ignores halfPixelCenters.
 */
import type { KernelBackend, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';

/** The source index of each output index along one axis, as tfjs's forward resize computes it. */
export function nearestSources(inSize: number, outSize: number, alignCorners: boolean, halfPixelCenters: boolean): Int32Array {
  const aligned = alignCorners && outSize > 1;
  const ratio = (aligned ? inSize - 1 : inSize) / (aligned ? outSize - 1 : outSize);
  const sources = new Int32Array(outSize);
  for (let i = 0; i < outSize; i++) {
    const frac = halfPixelCenters ? ratio * (i + 0.5) : ratio * i;
    const nearest = Math.min(inSize - 1, alignCorners ? Math.round(frac) : Math.floor(frac));
    sources[i] = halfPixelCenters ? Math.max(0, nearest) : nearest;
  }
  return sources;
}

export function resizeNearestGradConfig(backendName: string): KernelConfig {
  const kernelFunc: KernelFunc = ({ inputs, backend: anyBackend, attrs = {} }) => {
    const backend = anyBackend as KernelBackend;
    const { images, dy } = inputs as { images: TensorInfo; dy: TensorInfo };
    const alignCorners = attrs['alignCorners'] === true;
    const halfPixelCenters = attrs['halfPixelCenters'] === true;
    const [batch, inHeight, inWidth, channels] = images.shape;
    const [, outHeight, outWidth] = dy.shape;
    const rows = nearestSources(inHeight, outHeight, alignCorners, halfPixelCenters);
    const cols = nearestSources(inWidth, outWidth, alignCorners, halfPixelCenters);
    const grad = backend.readSync(dy.dataId) as Float32Array;
    const dx = new Float32Array(batch * inHeight * inWidth * channels);
    let src = 0;
    for (let b = 0; b < batch; b++) {
      for (let r = 0; r < outHeight; r++) {
        const rowBase = (b * inHeight + rows[r]) * inWidth;
        for (let c = 0; c < outWidth; c++) {
          const dst = (rowBase + cols[c]) * channels;
          for (let d = 0; d < channels; d++) dx[dst + d] += grad[src++];
        }
      }
    }
    return { dataId: backend.write(dx, images.shape, 'float32'), shape: images.shape, dtype: 'float32' };
  };
  return { kernelName: 'ResizeNearestNeighborGrad', backendName, kernelFunc };
}
