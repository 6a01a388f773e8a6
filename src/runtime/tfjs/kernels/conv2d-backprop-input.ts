/**
 * Conv2DBackpropInput (also conv2dTranspose's forward), replacing tfjs-backend-wasm 4.22's naive
 * loop: one stride-1 conv2d of the zero-inserted, padded dy with the spatially flipped filter whose
 * in/out channels are swapped ([KH,KW,C_out,C_in]), at the forward dilation. Accepts an optional
 * `dilations` attr (tfjs's has none).
 */
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { BackendKernels, withScratch } from './backend-kernels.js';
import { NCHW_TO_NHWC, NHWC_TO_NCHW, convGeometry, sameShape } from './conv-geometry.js';
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
      const flipped = keep(k.transpose(keep(k.reverse(filter, [0, 1])), [0, 1, 3, 2]));
      const { input, pads } = transposedConvInput(k, dyNhwc, g, keep);
      const dx = k.conv2d(input, flipped, [1, 1], g.dilations, pads);
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
