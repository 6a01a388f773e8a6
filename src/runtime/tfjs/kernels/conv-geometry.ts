/** The shapes, strides, dilations and resolved paddings of one 2-D convolution, from kernel attrs. */
import * as tf from '@tensorflow/tfjs-core';
import type { NamedAttrMap } from '@tensorflow/tfjs-core';
import type { ExplicitPads } from './backend-kernels.js';

type Shape4 = [number, number, number, number];
type PadAttr = 'valid' | 'same' | number | ExplicitPads;
type Rounding = 'floor' | 'round' | 'ceil' | undefined;

export interface ConvGeometry {
  /** NHWC shapes, whatever the data format of the kernel call. */
  inShape: Shape4;
  outShape: Shape4;
  filterH: number;
  filterW: number;
  strides: [number, number];
  dilations: [number, number];
  /** Padding along height and width, resolved from 'same'/'valid'/numbers/explicit pads. */
  pads: { top: number; bottom: number; left: number; right: number };
  channelsLast: boolean;
}

/**
 * `xShape` is in the call's data format; `dilations` is our extension for backprop kernels (tfjs's
 * Conv2DBackprop* attrs have none), absent means 1.
 */
export function convGeometry(xShape: readonly number[], filterShape: readonly number[], attrs: NamedAttrMap, depthwise: boolean): ConvGeometry {
  const strides = attrs['strides'] as number | [number, number];
  const dilations = (attrs['dilations'] ?? 1) as number | [number, number];
  const dataFormat = (attrs['dataFormat'] ?? 'NHWC') as 'NHWC' | 'NCHW';
  const info = tf.backend_util.computeConv2DInfo(
    [...xShape] as Shape4,
    [...filterShape] as Shape4,
    strides,
    dilations,
    attrs['pad'] as PadAttr,
    attrs['dimRoundingMode'] as Rounding,
    depthwise,
    tf.backend_util.convertConv2DDataFormat(dataFormat),
  );
  const channelsLast = info.dataFormat === 'channelsLast';
  return {
    inShape: [info.batchSize, info.inHeight, info.inWidth, info.inChannels],
    outShape: [info.batchSize, info.outHeight, info.outWidth, info.outChannels],
    filterH: info.filterHeight,
    filterW: info.filterWidth,
    strides: [info.strideHeight, info.strideWidth],
    dilations: [info.dilationHeight, info.dilationWidth],
    pads: { top: info.padInfo.top, bottom: info.padInfo.bottom, left: info.padInfo.left, right: info.padInfo.right },
    channelsLast,
  };
}

export function explicitPads(top: number, bottom: number, left: number, right: number): ExplicitPads {
  return [
    [0, 0],
    [top, bottom],
    [left, right],
    [0, 0],
  ];
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

export const NCHW_TO_NHWC = [0, 2, 3, 1];
export const NHWC_TO_NCHW = [0, 3, 1, 2];
