/**
 * Gradients of convolutions and their backprops (ported from tfjs-core 4.22, extended): the
 * Conv2DBackpropFilter and depthwise backprop gradients are new (second order through conv), and
 * dilated conv2d / depthwise gradients work on backends with our fixed kernels, which take a
 * `dilations` attr (tfjs asserted dilation 1; the cpu backend's backprops would ignore it).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GradConfig, NamedAttrMap, NamedTensorMap, Tensor } from '@tensorflow/tfjs-core';
import { hasDilatedBackprop } from '../kernels/register.js';
import { gradient } from './grad-util.js';

function run(kernelName: string, inputs: NamedTensorMap, attrs: NamedAttrMap): Tensor {
  return tf.engine().runKernel(kernelName, inputs, attrs) as Tensor;
}

/** The geometry attrs every kernel of one convolution family shares, dilations only when > 1. */
function geometry(attrs: NamedAttrMap, kernelName: string, withDataFormat: boolean): NamedAttrMap {
  const dilations = (attrs['dilations'] ?? 1) as number | number[];
  const dilated = (Array.isArray(dilations) ? dilations : [dilations]).some((d) => d !== 1);
  if (dilated && !hasDilatedBackprop(tf.getBackend())) {
    throw new Error(
      `gradient of a dilated ${kernelName} needs backprop kernels that take dilations; ` + `backend '${tf.getBackend()}' has none (use initTfjs('wasm'))`,
    );
  }
  const common: NamedAttrMap = { strides: attrs['strides'], pad: attrs['pad'] };
  if (attrs['dimRoundingMode'] !== undefined) common['dimRoundingMode'] = attrs['dimRoundingMode'];
  if (withDataFormat) common['dataFormat'] = attrs['dataFormat'] ?? 'NHWC';
  if (dilated) common['dilations'] = dilations;
  return common;
}

/** The forward attrs (dilations included, 1 when absent) to run the forward kernel again. */
function forward(common: NamedAttrMap): NamedAttrMap {
  return { ...common, dilations: common['dilations'] ?? 1 };
}

const conv2dGradients: GradConfig[] = [
  gradient('Conv2D', { inputs: ['x', 'filter'] }, (dy, [x, filter], attrs) => {
    const g = geometry(attrs, 'conv2d', true);
    return {
      x: () => run('Conv2DBackpropInput', { dy, filter }, { ...g, inputShape: x.shape }),
      filter: () => run('Conv2DBackpropFilter', { x, dy }, { ...g, filterShape: filter.shape }),
    };
  }),
  gradient('Conv2DBackpropInput', { inputs: ['dy', 'filter'] }, (ddx, [dy, filter], attrs) => {
    const g = geometry(attrs, 'conv2dTranspose', true);
    return {
      dy: () => run('Conv2D', { x: ddx, filter }, forward(g)),
      filter: () => run('Conv2DBackpropFilter', { x: ddx, dy }, { ...g, filterShape: filter.shape }),
    };
  }),
  gradient('Conv2DBackpropFilter', { inputs: ['x', 'dy'] }, (ddw, [x, dy], attrs) => {
    const g = geometry(attrs, 'conv2d filter gradient', true);
    return {
      x: () => run('Conv2DBackpropInput', { dy, filter: ddw }, { ...g, inputShape: x.shape }),
      dy: () => run('Conv2D', { x, filter: ddw }, forward(g)),
    };
  }),
];

const depthwiseGradients: GradConfig[] = [
  gradient('DepthwiseConv2dNative', { inputs: ['x', 'filter'] }, (dy, [x, filter], attrs) => {
    const g = geometry(attrs, 'depthwiseConv2d', false);
    return {
      x: () => run('DepthwiseConv2dNativeBackpropInput', { dy, filter }, { ...forward(g), inputShape: x.shape }),
      filter: () => run('DepthwiseConv2dNativeBackpropFilter', { x, dy }, { ...forward(g), filterShape: filter.shape }),
    };
  }),
  gradient('DepthwiseConv2dNativeBackpropInput', { inputs: ['dy', 'filter'] }, (ddx, [dy, filter], attrs) => {
    const g = forward(geometry(attrs, 'depthwiseConv2d input gradient', false));
    return {
      dy: () => run('DepthwiseConv2dNative', { x: ddx, filter }, g),
      filter: () => run('DepthwiseConv2dNativeBackpropFilter', { x: ddx, dy }, { ...g, filterShape: filter.shape }),
    };
  }),
  gradient('DepthwiseConv2dNativeBackpropFilter', { inputs: ['x', 'dy'] }, (ddw, [x, dy], attrs) => {
    const g = forward(geometry(attrs, 'depthwiseConv2d filter gradient', false));
    return {
      x: () => run('DepthwiseConv2dNativeBackpropInput', { dy, filter: ddw }, { ...g, inputShape: x.shape }),
      dy: () => run('DepthwiseConv2dNative', { x, filter: ddw }, g),
    };
  }),
];

const conv3dGradients: GradConfig[] = [
  gradient('Conv3D', { inputs: ['x', 'filter'] }, (dy, [x, filter], attrs) => {
    const dilations = (attrs['dilations'] ?? 1) as number | number[];
    if ((Array.isArray(dilations) ? dilations : [dilations]).some((d) => d !== 1)) {
      throw new Error('gradient of conv3d: dilations > 1 are not supported');
    }
    const g = { strides: attrs['strides'], pad: attrs['pad'] };
    return {
      x: () => run('Conv3DBackpropInputV2', { dy, filter }, { ...g, inputShape: x.shape }),
      filter: () => run('Conv3DBackpropFilterV2', { x, dy }, { ...g, filterShape: filter.shape }),
    };
  }),
];

export const convGradients: GradConfig[] = [...conv2dGradients, ...depthwiseGradients, ...conv3dGradients];
