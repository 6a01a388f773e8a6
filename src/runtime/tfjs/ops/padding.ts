/** Resolves ONNX conv/pool padding attributes (pads, auto_pad, ceil_mode) to explicit amounts. */
import { intAttr, intsAttr, stringAttr } from '../../../graph/ir.js';
import type { OpContext } from './types.js';

export interface WindowGeometry {
  kernel: number[];
  strides: number[];
  dilations: number[];
  /** Padding before and after each spatial axis. */
  padBegin: number[];
  padEnd: number[];
  /** Output spatial size. */
  out: number[];
}

/**
 * Window geometry of a Conv or pool over `spatial` input sizes. `kernel` is the kernel size before
 * dilation. With ceil_mode the output may need extra padding at the end beyond padEnd: `extraEnd`.
 */
export function windowGeometry(ctx: OpContext, spatial: readonly number[], kernel: readonly number[]): WindowGeometry & { extraEnd: number[] } {
  const rank = spatial.length;
  const ones = spatial.map(() => 1);
  const strides = intsAttr(ctx.node, 'strides', ones) as number[];
  const dilations = intsAttr(ctx.node, 'dilations', ones) as number[];
  const pads = intsAttr(ctx.node, 'pads', [...ones.map(() => 0), ...ones.map(() => 0)]) as number[];
  if (strides.length !== rank || dilations.length !== rank || pads.length !== 2 * rank || kernel.length !== rank) {
    ctx.fail(`strides/dilations/pads/kernel_shape do not match ${rank} spatial dimensions`);
  }
  if ([...strides, ...dilations, ...kernel].some((v) => !Number.isInteger(v) || v < 1) || pads.some((p) => !Number.isInteger(p) || p < 0)) {
    ctx.fail(
      `invalid window attributes: kernel [${kernel.join(',')}], strides [${strides.join(',')}], dilations [${dilations.join(',')}], pads [${pads.join(',')}]`,
    );
  }
  const autoPad = stringAttr(ctx.node, 'auto_pad', 'NOTSET');
  const ceilMode = intAttr(ctx.node, 'ceil_mode', 0) !== 0;
  const padBegin: number[] = [];
  const padEnd: number[] = [];
  const out: number[] = [];
  const extraEnd: number[] = [];
  for (let i = 0; i < rank; i++) {
    const span = (kernel[i] - 1) * dilations[i] + 1;
    let begin = pads[i];
    let end = pads[i + rank];
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
      const size = Math.ceil(spatial[i] / strides[i]);
      const total = Math.max((size - 1) * strides[i] + span - spatial[i], 0);
      const small = Math.floor(total / 2);
      begin = autoPad === 'SAME_UPPER' ? small : total - small;
      end = total - begin;
    } else if (autoPad === 'VALID') {
      begin = 0;
      end = 0;
    } else if (autoPad !== 'NOTSET') {
      ctx.fail(`auto_pad='${autoPad}' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID`);
    }
    const padded = spatial[i] + begin + end;
    if (padded < span) ctx.fail(`window of ${span} does not fit the padded input of ${padded} along spatial axis ${i}`);
    let size = Math.floor((padded - span) / strides[i]) + 1;
    if (ceilMode) {
      size = Math.ceil((padded - span) / strides[i]) + 1;
      // The last window must start inside the input or the begin padding (PyTorch, ONNX Runtime).
      if ((size - 1) * strides[i] >= spatial[i] + begin) size -= 1;
    }
    padBegin.push(begin);
    padEnd.push(end);
    out.push(size);
    extraEnd.push(Math.max((size - 1) * strides[i] + span - padded, 0));
  }
  return { kernel: [...kernel], strides, dilations, padBegin, padEnd, out, extraEnd };
}
