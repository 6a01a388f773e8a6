/**
 * Conv2DBackpropInput for strides > 1 (dilation 1) without multiplying by inserted zeros.
 *
 * The zero-inserted dy of the plain transposed convolution makes s_h*s_w - 1 of every s_h*s_w
 * products zero. Split by output phase instead: the dx rows h with (h + padTop) = rho (mod s) only
 * receive filter taps k = rho (mod s), so each of the s_h*s_w phases is one stride-1 conv2d of the
 * undilated dy with a sub-filter (those taps, flipped, in/out swapped). The phases are then
 * interleaved back into dx. Same result, s_h*s_w times fewer multiply-adds.
 */
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendKernels } from './backend-kernels.js';
import type { ConvGeometry } from './conv-geometry.js';
import { explicitPads } from './conv-geometry.js';

interface AxisPhase {
  /** Filter taps of this phase, flipped (last tap first). */
  taps: number[];
  /** Crop (if negative) or pad (if positive) of dy before / after, for a stride-1 conv. */
  before: number;
  after: number;
  /** Number of dx indices in this phase: first, first + s, ... */
  count: number;
}

/** Phase of the dx indices first, first + stride, ... along one axis. */
function axisPhase(first: number, padBefore: number, stride: number, filter: number, inSize: number, outSize: number): AxisPhase {
  const rho = (first + padBefore) % stride;
  const taps: number[] = [];
  for (let k = rho; k < filter; k += stride) taps.unshift(k);
  // dx[first + s*i] = sum_j dy[m0 + i - j] * w[rho + s*j], m0 = (first + padBefore - rho) / s.
  const m0 = (first + padBefore - rho) / stride;
  const count = first < inSize ? Math.ceil((inSize - first) / stride) : 0;
  const before = taps.length - 1 - m0;
  const after = count + taps.length - 1 - outSize - before;
  return { taps, before, after, count };
}

/**
 * dx of a stride > 1, dilation 1 conv2d, NHWC. `filterValues` is the [KH,KW,C_in,C_out] filter read
 * back (sub-filters are cut in JS: filters are small). Returns a new TensorInfo owned by the caller.
 */
export function stridedBackpropInput(
  k: BackendKernels,
  dy: TensorInfo,
  filterValues: Float32Array,
  filterShape: readonly number[],
  g: ConvGeometry,
): TensorInfo {
  const [n, outH, outW] = dy.shape;
  const [kh, kw, cin, cout] = filterShape;
  const [, inH, inW] = g.inShape;
  const [sh, sw] = g.strides;
  const dx = new Float32Array(n * inH * inW * cin);
  for (let firstH = 0; firstH < sh; firstH++) {
    const rows = axisPhase(firstH, g.pads.top, sh, kh, inH, outH);
    for (let firstW = 0; firstW < sw; firstW++) {
      const cols = axisPhase(firstW, g.pads.left, sw, kw, inW, outW);
      if (rows.count === 0 || cols.count === 0 || rows.taps.length === 0 || cols.taps.length === 0) continue;
      const phase = phaseConv(k, dy, subFilter(filterValues, kw, cin, cout, rows.taps, cols.taps), rows, cols, cin, cout);
      try {
        scatterPhase(k.backend.readSync(phase.dataId) as Float32Array, dx, n, rows.count, cols.count, cin, inH, inW, firstH, firstW, sh, sw);
      } finally {
        k.release(phase);
      }
    }
  }
  return k.fromValues(dx, [n, inH, inW, cin], 'float32');
}

/** [taps_h, taps_w, C_out, C_in] from [KH,KW,C_in,C_out]: the phase's taps, already flipped. */
function subFilter(w: Float32Array, kw: number, cin: number, cout: number, rowTaps: number[], colTaps: number[]): Float32Array {
  const out = new Float32Array(rowTaps.length * colTaps.length * cout * cin);
  let dst = 0;
  for (const r of rowTaps) {
    for (const c of colTaps) {
      const base = (r * kw + c) * cin * cout;
      for (let co = 0; co < cout; co++) {
        for (let ci = 0; ci < cin; ci++) out[dst++] = w[base + ci * cout + co];
      }
    }
  }
  return out;
}

function phaseConv(k: BackendKernels, dy: TensorInfo, filter: Float32Array, rows: AxisPhase, cols: AxisPhase, cin: number, cout: number): TensorInfo {
  const [n, outH, outW] = dy.shape;
  const scratch: TensorInfo[] = [];
  try {
    let input = dy;
    const crop = [Math.max(0, -rows.before), Math.max(0, -rows.after), Math.max(0, -cols.before), Math.max(0, -cols.after)];
    if (crop.some((c) => c > 0)) {
      input = k.slice(dy, [0, crop[0], crop[2], 0], [n, outH - crop[0] - crop[1], outW - crop[2] - crop[3], cout]);
      scratch.push(input);
    }
    const weights = k.fromValues(filter, [rows.taps.length, cols.taps.length, cout, cin], 'float32');
    scratch.push(weights);
    const pads = explicitPads(Math.max(0, rows.before), Math.max(0, rows.after), Math.max(0, cols.before), Math.max(0, cols.after));
    return k.conv2d(input, weights, [1, 1], [1, 1], pads);
  } finally {
    k.release(...scratch);
  }
}

/** dx[b, firstH + sh*i, firstW + sw*j, :] = phase[b, i, j, :]. */
function scatterPhase(
  phase: Float32Array,
  dx: Float32Array,
  n: number,
  countH: number,
  countW: number,
  channels: number,
  inH: number,
  inW: number,
  firstH: number,
  firstW: number,
  sh: number,
  sw: number,
): void {
  let src = 0;
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < countH; i++) {
      const row = (b * inH + firstH + sh * i) * inW;
      for (let j = 0; j < countW; j++) {
        const dst = (row + firstW + sw * j) * channels;
        dx.set(phase.subarray(src, src + channels), dst);
        src += channels;
      }
    }
  }
}
