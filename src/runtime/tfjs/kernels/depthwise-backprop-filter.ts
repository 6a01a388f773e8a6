/**
 * DepthwiseConv2dNativeBackpropFilter, which tfjs-backend-wasm 4.22 lacks.
 *
 * dW[kh,kw,c,m] = sum_{n,oh,ow} xPadded[n, oh*s + kh*d, ow*s + kw*d, c] * dy[n,oh,ow,c*M+m]. With
 * (c,n) pairs as the channels of a one-image input [1,H,W,C*N] and dy rearranged as the depthwise
 * filter [OH,OW,C*N,M] (dilation <- forward stride, stride <- forward dilation), one depthwise conv
 * gives every (c,n,m) partial correlation; summing over n and slicing to [KH,KW] gives dW.
 */
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { BackendKernels, withScratch } from './backend-kernels.js';
import { convGeometry, explicitPads, sameShape } from './conv-geometry.js';

export function depthwiseBackpropFilterConfig(backendName: string): KernelConfig {
  const kernelFunc: KernelFunc = ({ inputs, backend, attrs = {} }) => {
    const k = new BackendKernels(backend, backendName);
    const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
    const filterShape = attrs['filterShape'] as [number, number, number, number];
    const g = convGeometry(x.shape, filterShape, { ...attrs, dataFormat: 'NHWC' }, true);
    if (!sameShape(dy.shape, g.outShape)) {
      throw new Error(`DepthwiseConv2dNativeBackpropFilter: dy has shape [${dy.shape}], the convolution gives [${g.outShape}]`);
    }
    const [n, h, w, channels] = x.shape;
    const [, oh, ow] = dy.shape;
    const [kh, kw, , multiplier] = filterShape;
    return withScratch(k, (keep) => {
      const images = keep(k.reshape(keep(k.transpose(x, [1, 2, 3, 0])), [1, h, w, channels * n]));
      const dyByChannel =
        multiplier === 1 ? keep(k.transpose(dy, [1, 2, 3, 0])) : keep(k.transpose(keep(k.reshape(dy, [n, oh, ow, channels, multiplier])), [1, 2, 3, 0, 4]));
      const filter = keep(k.reshape(dyByChannel, [oh, ow, channels * n, multiplier]));
      const { top, bottom, left, right } = g.pads;
      const corr = keep(k.depthwiseConv2d(images, filter, g.dilations, g.strides, explicitPads(top, bottom, left, right)));
      const [, khOut, kwOut] = corr.shape;
      const summed = keep(k.sum(keep(k.reshape(corr, [khOut, kwOut, channels, n, multiplier])), [3]));
      if (khOut === kh && kwOut === kw) return summed;
      return k.slice(summed, [0, 0, 0, 0], [kh, kw, channels, multiplier]);
    });
  };
  return { kernelName: 'DepthwiseConv2dNativeBackpropFilter', backendName, kernelFunc };
}
