/**
 * DepthwiseConv2dNativeBackpropInput, which tfjs-backend-wasm 4.22 lacks. Same trick as
 * Conv2DBackpropInput, per channel: a stride-1 depthwise conv of the zero-inserted, padded dy (C*M
 * channels) with the flipped filter as [KH,KW,C*M,1], then the M multiplier outputs of each input
 * channel summed.
 */
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { BackendKernels, withScratch } from './backend-kernels.js';
import { convGeometry, sameShape } from './conv-geometry.js';
import { transposedConvInput } from './transposed-conv-input.js';

export function depthwiseBackpropInputConfig(backendName: string): KernelConfig {
  const kernelFunc: KernelFunc = ({ inputs, backend, attrs = {} }) => {
    const k = new BackendKernels(backend, backendName);
    const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
    const inputShape = attrs['inputShape'] as number[];
    const g = convGeometry(inputShape, filter.shape, { ...attrs, dataFormat: 'NHWC' }, true);
    if (!sameShape(dy.shape, g.outShape)) {
      throw new Error(`DepthwiseConv2dNativeBackpropInput: dy has shape [${dy.shape}], the convolution gives [${g.outShape}]`);
    }
    const [kh, kw, channels, multiplier] = filter.shape;
    return withScratch(k, (keep) => {
      const flipped = keep(k.reshape(keep(k.reverse(filter, [0, 1])), [kh, kw, channels * multiplier, 1]));
      const { input, pads } = transposedConvInput(k, dy, g, keep);
      const perOutput = k.depthwiseConv2d(input, flipped, [1, 1], g.dilations, pads);
      if (multiplier === 1) return perOutput;
      keep(perOutput);
      const [n, h, w] = perOutput.shape;
      return k.sum(keep(k.reshape(perOutput, [n, h, w, channels, multiplier])), [4]);
    });
  };
  return { kernelName: 'DepthwiseConv2dNativeBackpropInput', backendName, kernelFunc };
}
