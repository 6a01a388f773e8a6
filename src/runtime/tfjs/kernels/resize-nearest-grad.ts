/**
 * ResizeNearestNeighborGrad, replacing tfjs-backend-wasm 4.22's (wrong for batch > 1). Each dy
 * pixel is added to the source pixel the forward resize copied it from, with the forward's exact
 * mapping (alignCorners, halfPixelCenters) - the cpu backend's gradient ignores halfPixelCenters.
 */
import type { KernelConfig } from '@tensorflow/tfjs-core';
import { type ResizeGeometry, resizeGradConfig, resizeRatio } from './resize-grad.js';

/** The source index of each output index along one axis, as tfjs's forward resize computes it. */
export function nearestSources(inSize: number, outSize: number, alignCorners: boolean, halfPixelCenters: boolean): Int32Array {
  const ratio = resizeRatio(inSize, outSize, alignCorners);
  const sources = new Int32Array(outSize);
  for (let i = 0; i < outSize; i++) {
    const frac = halfPixelCenters ? ratio * (i + 0.5) : ratio * i;
    const nearest = Math.min(inSize - 1, alignCorners ? Math.round(frac) : Math.floor(frac));
    sources[i] = halfPixelCenters ? Math.max(0, nearest) : nearest;
  }
  return sources;
}

function scatterNearest(geometry: ResizeGeometry, grad: Float32Array, dx: Float32Array): void {
  const { batch, inHeight, inWidth, channels, outHeight, outWidth, alignCorners, halfPixelCenters } = geometry;
  const rows = nearestSources(inHeight, outHeight, alignCorners, halfPixelCenters);
  const cols = nearestSources(inWidth, outWidth, alignCorners, halfPixelCenters);
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
}

export function resizeNearestGradConfig(backendName: string): KernelConfig {
  return resizeGradConfig('ResizeNearestNeighborGrad', backendName, scatterNearest);
}
