/**
 * ResizeBilinearGrad, replacing tfjs-backend-wasm 4.22's, which ignores halfPixelCenters (its
 * gradient is then off by ~0.5%; the cpu backend's also mixes up height and width when they
 * differ). The exact adjoint of the forward: each dy pixel is split over the four source pixels
 * with the forward's weights.
 */
import type { KernelBackend, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';

interface AxisTaps {
  low: Int32Array;
  high: Int32Array;
  frac: Float32Array;
}

/** Per output index: the two source indices and the weight of the high one, as the forward computes. */
function bilinearTaps(inSize: number, outSize: number, alignCorners: boolean, halfPixelCenters: boolean): AxisTaps {
  const aligned = alignCorners && outSize > 1;
  const ratio = (aligned ? inSize - 1 : inSize) / (aligned ? outSize - 1 : outSize);
  const taps = { low: new Int32Array(outSize), high: new Int32Array(outSize), frac: new Float32Array(outSize) };
  for (let i = 0; i < outSize; i++) {
    const source = halfPixelCenters ? ratio * (i + 0.5) - 0.5 : ratio * i;
    taps.low[i] = Math.max(0, Math.floor(source));
    taps.high[i] = Math.min(inSize - 1, Math.ceil(source));
    taps.frac[i] = source - taps.low[i];
  }
  return taps;
}

export function resizeBilinearGradConfig(backendName: string): KernelConfig {
  const kernelFunc: KernelFunc = ({ inputs, backend: anyBackend, attrs = {} }) => {
    const backend = anyBackend as KernelBackend;
    const { images, dy } = inputs as { images: TensorInfo; dy: TensorInfo };
    const alignCorners = attrs['alignCorners'] === true;
    const halfPixelCenters = attrs['halfPixelCenters'] === true;
    const [batch, inHeight, inWidth, channels] = images.shape;
    const [, outHeight, outWidth] = dy.shape;
    const rows = bilinearTaps(inHeight, outHeight, alignCorners, halfPixelCenters);
    const cols = bilinearTaps(inWidth, outWidth, alignCorners, halfPixelCenters);
    const grad = backend.readSync(dy.dataId) as Float32Array;
    const dx = new Float32Array(batch * inHeight * inWidth * channels);
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
    return { dataId: backend.write(dx, images.shape, 'float32'), shape: images.shape, dtype: 'float32' };
  };
  return { kernelName: 'ResizeBilinearGrad', backendName, kernelFunc };
}
