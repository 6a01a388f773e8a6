/**
 * Conv2DBackpropInput (also conv2dTranspose's forward), replacing tfjs-backend-wasm 4.22's naive
 * loop: one stride-1 conv2d of the zero-inserted, padded dy with the spatially flipped filter whose
 * in/out channels are swapped ([KH,KW,C_out,C_in]), at the forward dilation. Strided convs use the
 * equivalent phase split (strided-backprop-input.ts), which skips the products with inserted zeros
 * (4x fewer for stride 2). Accepts an optional `dilations` attr (tfjs's has none).
 */
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { BackendKernels, withScratch } from './backend-kernels.js';
import { NCHW_TO_NHWC, NHWC_TO_NCHW, convGeometry, sameShape } from './conv-geometry.js';
import { stridedBackpropInput } from './strided-backprop-input.js';
import { transposedConvInput } from './transposed-conv-input.js';

export function conv2dBackpropInputConfig(backendName: string): KernelConfig {
  const kernelFunc: KernelFunc = ({ inputs, backend, attrs = {} }) => {
    const k = new BackendKernels(backend, backendName);
    const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
    const inputShape = attrs['inputShape'] as number[];
    const g = convGeometry(inputShape, filter.shape, attrs, false);
    return withScratch(k, (keep) => {
      const dyNhwc = g.channelsLast ? dy : keep(k.transpose(dy, NCHW_TO_NHWC));
      if (!sameShape(dyNhwc.shape, g.outShape)) {
        throw new Error(`Conv2DBackpropInput: dy has shape [${dy.shape}], the convolution gives [${g.outShape}]`);
      }
      const strided = g.strides.some((s) => s > 1) && g.dilations.every((d) => d === 1);
      let dx: TensorInfo;
      if (strided) {
        dx = stridedBackpropInput(k, dyNhwc, k.backend.readSync(filter.dataId) as Float32Array, filter.shape, g);
      } else {
        const flipped = keep(k.transpose(keep(k.reverse(filter, [0, 1])), [0, 1, 3, 2]));
        const { input, pads } = transposedConvInput(k, dyNhwc, g, keep);
        dx = k.conv2d(input, flipped, [1, 1], g.dilations, pads);
      }
      if (!sameShape(dx.shape, g.inShape)) {
        k.release(dx);
        throw new Error(`Conv2DBackpropInput: internal shape error, got [${dx.shape}] for [${g.inShape}]`);
      }
      if (g.channelsLast) return dx;
      keep(dx);
      return k.transpose(dx, NHWC_TO_NCHW);
    });
  };
  return { kernelName: 'Conv2DBackpropInput', backendName, kernelFunc };
}
