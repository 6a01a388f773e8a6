/**
 * Conv2DBackpropFilter, which tfjs-backend-wasm 4.22 lacks (CNN training fails without it).
 *
 * dW[kh,kw,ci,co] = sum_{n,oh,ow} xPadded[n, oh*s + kh*d, ow*s + kw*d, ci] * dy[n,oh,ow,co] is itself
 * one convolution: batch <- C_in, channels <- N, filter <- dy, dilation <- forward stride,
 * stride <- forward dilation. So: conv2d(x^T [C_in,H,W,N], dy^T [OH,OW,N,C_out]) with the forward
 * paddings, sliced to [C_in,KH,KW,C_out] (strided geometry can leave an extra row/column), then
 * transposed to [KH,KW,C_in,C_out]. Accepts an optional `dilations` attr (tfjs's has none).
 */
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { BackendKernels, withScratch } from './backend-kernels.js';
import { NCHW_TO_NHWC, convGeometry, explicitPads, sameShape } from './conv-geometry.js';

export function conv2dBackpropFilterConfig(backendName: string): KernelConfig {
  const kernelFunc: KernelFunc = ({ inputs, backend, attrs = {} }) => {
    const k = new BackendKernels(backend, backendName);
    const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
    const filterShape = attrs['filterShape'] as [number, number, number, number];
    const g = convGeometry(x.shape, filterShape, attrs, false);
    return withScratch(k, (keep) => {
      const xNhwc = g.channelsLast ? x : keep(k.transpose(x, NCHW_TO_NHWC));
      const dyNhwc = g.channelsLast ? dy : keep(k.transpose(dy, NCHW_TO_NHWC));
      if (!sameShape(dyNhwc.shape, g.outShape)) {
        throw new Error(`Conv2DBackpropFilter: dy has shape [${dy.shape}], the convolution gives [${g.outShape}]`);
      }
      const xT = keep(k.transpose(xNhwc, [3, 1, 2, 0]));
      const dyT = keep(k.transpose(dyNhwc, [1, 2, 0, 3]));
      const { top, bottom, left, right } = g.pads;
      const corr = keep(k.conv2d(xT, dyT, g.dilations, g.strides, explicitPads(top, bottom, left, right)));
      const [cin, kh, kw, cout] = corr.shape;
      const fitted = kh === g.filterH && kw === g.filterW ? corr : keep(k.slice(corr, [0, 0, 0, 0], [cin, g.filterH, g.filterW, cout]));
      return k.transpose(fitted, [1, 2, 0, 3]);
    });
  };
  return { kernelName: 'Conv2DBackpropFilter', backendName, kernelFunc };
}
