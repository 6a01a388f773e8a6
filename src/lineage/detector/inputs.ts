/**
 * Detector inputs as plain arrays: a layer's weight as a matrix (conv weights [out, in*kh*kw]),
 * features as N x D, both average-pooled to at most maxSize x maxSize, and (parent, child) pairs
 * interleaved into 2-channel NHWC images.
 *
 * Pooling is PyTorch's adaptive_avg_pool2d (bin i covers [floor(i*n/m), ceil((i+1)*n/m))) and only
 * ever shrinks. It is linear and acts on each channel alone, so each model's matrices are pooled
 * once and paired afterwards: the same numbers as pooling the 2-channel pair.
 */
import type { Tensor } from '../../tensor.js';
import { toFloat32 } from '../../tensor.js';
import type { InputNormalization } from './config.js';
import { isBufferName } from '../../base/naming.js';

export interface Matrix {
  rows: number;
  cols: number;
  /** Row-major, rows * cols. */
  data: Float32Array;
}

/** Adaptive average pooling of a matrix to at most maxRows x maxCols (sizes already below stay). */
export function poolMatrix(m: Matrix, maxRows: number, maxCols: number): Matrix {
  const rows = Math.min(m.rows, maxRows);
  const cols = Math.min(m.cols, maxCols);
  if (rows === m.rows && cols === m.cols) return m;
  const out = new Float32Array(rows * cols);
  const colStart = new Int32Array(cols);
  const colEnd = new Int32Array(cols);
  for (let j = 0; j < cols; j++) {
    colStart[j] = Math.floor((j * m.cols) / cols);
    colEnd[j] = Math.ceil(((j + 1) * m.cols) / cols);
  }
  const rowSums = new Float64Array(cols);
  for (let i = 0; i < rows; i++) {
    const r0 = Math.floor((i * m.rows) / rows);
    const r1 = Math.ceil(((i + 1) * m.rows) / rows);
    rowSums.fill(0);
    for (let r = r0; r < r1; r++) {
      const base = r * m.cols;
      for (let j = 0; j < cols; j++) {
        let s = 0;
        for (let c = colStart[j]; c < colEnd[j]; c++) s += m.data[base + c];
        rowSums[j] += s;
      }
    }
    for (let j = 0; j < cols; j++) out[i * cols + j] = rowSums[j] / ((r1 - r0) * (colEnd[j] - colStart[j]));
  }
  return { rows, cols, data: out };
}

/** A weight tensor of rank >= 2 as [out, in * kh * kw ...] (no copy for float32). */
export function weightMatrix(t: Tensor, name: string): Matrix {
  if (t.shape.length < 2) throw new RangeError(`tensor ${name} has shape [${t.shape.join(',')}]: a weight pair needs a matrix or a conv kernel`);
  const rows = t.shape[0];
  const data = toFloat32(t);
  return { rows, cols: rows === 0 ? 0 : data.length / rows, data };
}

/** Features N x ... as N x D. */
export function featureMatrix(t: Tensor<'float32'>, rows: number): Matrix {
  const n = Math.min(rows, t.shape[0] ?? 0);
  const perRow = (t.shape[0] ?? 0) === 0 ? 0 : t.data.length / t.shape[0];
  return { rows: n, cols: perRow, data: t.data.subarray(0, n * perRow) };
}

export interface LayerSpec {
  /** Named layer or graph value whose output gives the features. */
  feature: string;
  /** State-dict key or module prefix of the weight; inferred from `feature` when absent. */
  weight?: string;
}

/** `FEATURE[:WEIGHT]`. */
export function parseLayerSpec(spec: string): LayerSpec {
  const colon = spec.indexOf(':');
  if (colon < 0) return { feature: spec };
  const feature = spec.slice(0, colon);
  const weight = spec.slice(colon + 1);
  if (feature === '' || weight === '') throw new RangeError(`layer '${spec}': expected FEATURE or FEATURE:WEIGHT`);
  return { feature, weight };
}

function isMatrix(t: Tensor | undefined): boolean {
  return t !== undefined && t.shape.length >= 2 && (t.dtype === 'float32' || t.dtype === 'float16' || t.dtype === 'bfloat16' || t.dtype === 'float64');
}

/**
 * The state-dict key of a layer's weight: `W` itself or `W.weight` when it names a tensor of rank
 * >= 2; otherwise the last such `.weight` under the prefix `W.` (a stage such as `layer3` ends with
 * its last conv). With no WEIGHT part, FEATURE is tried the same way, and `penultimate` means the
 * last weight matrix before the head. Throws a RangeError that lists what would work.
 */
export function resolveWeightKey(weights: ReadonlyMap<string, Tensor>, headParams: readonly string[], spec: LayerSpec): string {
  const head = new Set(headParams);
  const candidates = [...weights.keys()].filter((k) => !isBufferName(k) && !head.has(k) && isMatrix(weights.get(k)));
  const name = spec.weight ?? spec.feature;
  if (spec.weight === undefined && name === 'penultimate') {
    const last = candidates.at(-1);
    if (last) return last;
  }
  if (isMatrix(weights.get(name)) && !isBufferName(name)) return name;
  if (isMatrix(weights.get(`${name}.weight`))) return `${name}.weight`;
  const under = candidates.filter((k) => k.startsWith(`${name}.`) && k.endsWith('.weight'));
  if (under.length > 0) return under[under.length - 1];
  const shown = candidates.slice(0, 8).join(', ');
  throw new RangeError(
    `layer '${spec.weight === undefined ? spec.feature : `${spec.feature}:${spec.weight}`}': no weight matrix named ${name}, ${name}.weight or under ${name}. ` +
      `(give it as FEATURE:WEIGHT; weight matrices: ${shown}${candidates.length > 8 ? ', ...' : ''})`,
  );
}

/** Interleaves a (parent, child) pair into one H x W x 2 image, standardised by `norm`. */
export function pairImage(parent: Matrix, child: Matrix, norm: InputNormalization, out: Float32Array, offset: number): void {
  if (parent.rows !== child.rows || parent.cols !== child.cols) {
    throw new RangeError(`pair of ${parent.rows}x${parent.cols} and ${child.rows}x${child.cols} matrices`);
  }
  const inv = 1 / norm.std;
  const p = parent.data;
  const c = child.data;
  for (let i = 0; i < p.length; i++) {
    out[offset + 2 * i] = (p[i] - norm.mean) * inv;
    out[offset + 2 * i + 1] = (c[i] - norm.mean) * inv;
  }
}

/** Running mean and standard deviation over many matrices (float64 sums). */
export class MomentAccumulator {
  private count = 0;
  private sum = 0;
  private sumSq = 0;

  add(m: Matrix): void {
    let s = 0;
    let s2 = 0;
    for (const v of m.data) {
      s += v;
      s2 += v * v;
    }
    this.count += m.data.length;
    this.sum += s;
    this.sumSq += s2;
  }

  /** Standard deviation floored so that a constant input cannot divide by zero. */
  result(): InputNormalization {
    if (this.count === 0) return { mean: 0, std: 1 };
    const mean = this.sum / this.count;
    const variance = Math.max(0, this.sumSq / this.count - mean * mean);
    return { mean, std: Math.max(Math.sqrt(variance), 1e-8) };
  }
}
