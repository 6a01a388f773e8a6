/**
 * ResizeBilinearGrad, replacing tfjs-backend-wasm 4.22's, which ignores halfPixelCenters (its
 * gradient is then off by ~0.5%; the cpu backend's also mixes up height and width when they
 * differ). The exact adjoint of the forward: each dy pixel is split over the four source pixels
 * with the forward's weights.
 */
import type { KernelConfig } from '@tensorflow/tfjs-core';
import { type ResizeGeometry, resizeGradConfig, resizeRatio } from './resize-grad.js';

interface AxisTaps {
  low: Int32Array;
  high: Int32Array;
  frac: Float32Array;
}

/** Per output index: the two source indices and the weight of the high one, as the forward computes. */
function bilinearTaps(inSize: number, outSize: number, alignCorners: boolean, halfPixelCenters: boolean): AxisTaps {
  const ratio = resizeRatio(inSize, outSize, alignCorners);
  const taps = { low: new Int32Array(outSize), high: new Int32Array(outSize), frac: new Float32Array(outSize) };
  for (let i = 0; i < outSize; i++) {
    const source = halfPixelCenters ? ratio * (i + 0.5) - 0.5 : ratio * i;
    taps.low[i] = Math.max(0, Math.floor(source));
    taps.high[i] = Math.min(inSize - 1, Math.ceil(source));
    taps.frac[i] = source - taps.low[i];
  }
  return taps;
}

function scatterBilinear(geometry: ResizeGeometry, grad: Float32Array, dx: Float32Array): void {
  const { batch, inHeight, inWidth, channels, outHeight, outWidth, alignCorners, halfPixelCenters } = geometry;
  const rows = bilinearTaps(inHeight, outHeight, alignCorners, halfPixelCenters);
  const cols = bilinearTaps(inWidth, outWidth, alignCorners, halfPixelCenters);
  let src = 0;
  for (let b = 0; b < batch; b++) {
    for (let r = 0; r < outHeight; r++) {
      const top = (b * inHeight + rows.low[r]) * inWidth;
      const bottom = (b * inHeight + rows.high[r]) * inWidth;
      const rowFrac = rows.frac[r];
      for (let c = 0; c < outWidth; c++) {
        const colFrac = cols.frac[c];
        const topLeft = (top + cols.low[c]) * channels;
        const topRight = (top + cols.high[c]) * channels;
        const bottomLeft = (bottom + cols.low[c]) * channels;
        const bottomRight = (bottom + cols.high[c]) * channels;
        const wTopLeft = (1 - rowFrac) * (1 - colFrac);
        const wTopRight = (1 - rowFrac) * colFrac;
        const wBottomLeft = rowFrac * (1 - colFrac);
        const wBottomRight = rowFrac * colFrac;
        for (let d = 0; d < channels; d++) {
          const g = grad[src++];
          dx[topLeft + d] += g * wTopLeft;
          dx[topRight + d] += g * wTopRight;
          dx[bottomLeft + d] += g * wBottomLeft;
          dx[bottomRight + d] += g * wBottomRight;
        }
      }
    }
  }
}

export function resizeBilinearGradConfig(backendName: string): KernelConfig {
  return resizeGradConfig('ResizeBilinearGrad', backendName, scatterBilinear);
}
