/**
 * What the resize gradient kernels (bilinear, nearest) share: the geometry from images and dy,
 * reading dy, a zeroed dx in the images' shape, and the forward's source-coordinate scale. Each
 * kernel supplies only how a dy pixel is spread over the source pixels its forward read.
 */
import type { KernelBackend, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';

export interface ResizeGeometry {
  batch: number;
  inHeight: number;
  inWidth: number;
  channels: number;
  outHeight: number;
  outWidth: number;
  alignCorners: boolean;
  halfPixelCenters: boolean;
}

/** Adds each value of `dy` (NHWC, output size) into `dx` (NHWC, input size, zeroed). */
export type ResizeScatter = (geometry: ResizeGeometry, dy: Float32Array, dx: Float32Array) => void;

/** Source coordinates per output step along one axis, as tfjs's forward resize computes them. */
export function resizeRatio(inSize: number, outSize: number, alignCorners: boolean): number {
  const aligned = alignCorners && outSize > 1;
  return (aligned ? inSize - 1 : inSize) / (aligned ? outSize - 1 : outSize);
}

export function resizeGradConfig(kernelName: string, backendName: string, scatter: ResizeScatter): KernelConfig {
  const kernelFunc: KernelFunc = ({ inputs, backend: anyBackend, attrs = {} }) => {
    const backend = anyBackend as KernelBackend;
    const { images, dy } = inputs as { images: TensorInfo; dy: TensorInfo };
    const [batch, inHeight, inWidth, channels] = images.shape;
    const [, outHeight, outWidth] = dy.shape;
    const alignCorners = attrs['alignCorners'] === true;
    const halfPixelCenters = attrs['halfPixelCenters'] === true;
    const dx = new Float32Array(batch * inHeight * inWidth * channels);
    scatter({ batch, inHeight, inWidth, channels, outHeight, outWidth, alignCorners, halfPixelCenters }, backend.readSync(dy.dataId) as Float32Array, dx);
    return { dataId: backend.write(dx, images.shape, 'float32'), shape: images.shape, dtype: 'float32' };
  };
  return { kernelName, backendName, kernelFunc };
}
