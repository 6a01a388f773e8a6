/**
 * The input side of a transposed convolution: dy with (stride - 1) zeros inserted between pixels, and
 * the paddings that make a stride-1 convolution of it with the flipped filter land exactly on the
 * forward input's size. Negative paddings (forward pads wider than the dilated filter) become crops.
 */
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendKernels, ExplicitPads } from './backend-kernels.js';
import type { ConvGeometry } from './conv-geometry.js';
import { explicitPads } from './conv-geometry.js';

export interface TransposedConvInput {
  input: TensorInfo;
  pads: ExplicitPads;
}

/** `dy` is NHWC; every TensorInfo made here is passed to `keep` (the caller releases them). */
export function transposedConvInput(k: BackendKernels, dy: TensorInfo, g: ConvGeometry, keep: (t: TensorInfo) => TensorInfo): TransposedConvInput {
  const [n, oh, ow, c] = dy.shape;
  const [sh, sw] = g.strides;
  // Zero insertion by reshape + pad at the end of a unit axis, which leaves s-1 trailing zeros.
  let dilated = dy;
  if (sw > 1) {
    const cols = keep(
      k.pad(keep(k.reshape(dilated, [n * oh, ow, 1, c])), [
        [0, 0],
        [0, 0],
        [0, sw - 1],
        [0, 0],
      ]),
    );
    dilated = keep(k.reshape(cols, [n, oh, ow * sw, c]));
  }
  if (sh > 1) {
    const rows = keep(
      k.pad(keep(k.reshape(dilated, [n, oh, 1, ow * sw * c])), [
        [0, 0],
        [0, 0],
        [0, sh - 1],
        [0, 0],
      ]),
    );
    dilated = keep(k.reshape(rows, [n, oh * sh, ow * sw, c]));
  }
  const rowsPad = sidePads(g.inShape[1], oh, sh, g.filterH, g.dilations[0], g.pads.top);
  const colsPad = sidePads(g.inShape[2], ow, sw, g.filterW, g.dilations[1], g.pads.left);
  const cropTop = Math.max(0, -rowsPad.before);
  const cropBottom = Math.max(0, -rowsPad.after);
  const cropLeft = Math.max(0, -colsPad.before);
  const cropRight = Math.max(0, -colsPad.after);
  if (cropTop + cropBottom + cropLeft + cropRight > 0) {
    const [, h, w] = dilated.shape;
    dilated = keep(k.slice(dilated, [0, cropTop, cropLeft, 0], [n, h - cropTop - cropBottom, w - cropLeft - cropRight, c]));
  }
  return {
    input: dilated,
    pads: explicitPads(Math.max(0, rowsPad.before), Math.max(0, rowsPad.after), Math.max(0, colsPad.before), Math.max(0, colsPad.after)),
  };
}

/**
 * Paddings along one axis for the stride-1 convolution of the zero-inserted dy (which has s*out
 * rows, the last s-1 of them zeros) with a filter of effective extent d*(k-1)+1, giving `inSize` rows.
 */
function sidePads(inSize: number, outSize: number, stride: number, filter: number, dilation: number, padBefore: number) {
  const extent = dilation * (filter - 1) + 1;
  const before = extent - 1 - padBefore;
  const rows = stride * outSize;
  const after = inSize + extent - 1 - rows - before;
  return { before, after };
}
