/**
 * Per-channel normalisation x' = (x - mean_c) / std_c with statistics of the training split. The
 * statistics travel with the dataset (`normalization`) so they can be stored with each model.
 */
import type { AnyDataset, ImageShape, Normalization } from './types.js';

/** Mean and population standard deviation of each channel over all examples and pixels. */
export function computeNormalization(ds: { readonly inputs: Float32Array; readonly shape: ImageShape; readonly name?: string }): Normalization {
  const [c, h, w] = ds.shape;
  const plane = h * w;
  const n = ds.inputs.length / (c * plane);
  if (!(n >= 1)) throw new Error(`${ds.name ?? 'dataset'}: cannot compute normalisation of an empty dataset`);
  const mean: number[] = [];
  const std: number[] = [];
  for (let ch = 0; ch < c; ch++) {
    // two passes in float64: one-pass sums of squares lose digits on millions of pixels
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const from = (i * c + ch) * plane;
      for (let p = from; p < from + plane; p++) sum += ds.inputs[p];
    }
    const m = sum / (n * plane);
    let sq = 0;
    for (let i = 0; i < n; i++) {
      const from = (i * c + ch) * plane;
      for (let p = from; p < from + plane; p++) {
        const d = ds.inputs[p] - m;
        sq += d * d;
      }
    }
    const s = Math.sqrt(sq / (n * plane));
    mean.push(m);
    // a constant channel carries no information; dividing by 1 keeps it finite
    std.push(s > 1e-12 ? s : 1);
  }
  return { mean, std };
}

export function checkNormalization(norm: Normalization, channels: number, where: string): void {
  const ok =
    Array.isArray(norm.mean) &&
    Array.isArray(norm.std) &&
    norm.mean.length === channels &&
    norm.std.length === channels &&
    norm.mean.every(Number.isFinite) &&
    norm.std.every((s) => Number.isFinite(s) && s > 0);
  if (!ok) throw new Error(`${where}: normalisation needs ${channels} finite means and ${channels} positive stds, got ${JSON.stringify(norm)}`);
}

/** Normalised copy of `inputs` (shape N x C x H x W). */
export function normalizeInputs(inputs: Float32Array, shape: ImageShape, norm: Normalization): Float32Array {
  const [c, h, w] = shape;
  const plane = h * w;
  const out = new Float32Array(inputs.length);
  for (let base = 0; base < inputs.length; base += c * plane) {
    for (let ch = 0; ch < c; ch++) {
      const m = norm.mean[ch];
      const inv = 1 / norm.std[ch];
      const from = base + ch * plane;
      for (let p = from; p < from + plane; p++) out[p] = (inputs[p] - m) * inv;
    }
  }
  return out;
}

/** A copy with normalised inputs and the statistics recorded; normalising twice is an error. */
export function normalize<T extends AnyDataset>(ds: T, norm: Normalization): T {
  if (ds.normalization) throw new Error(`${ds.name}: inputs are already normalised`);
  checkNormalization(norm, ds.shape[0], ds.name);
  return { ...ds, inputs: normalizeInputs(ds.inputs, ds.shape, norm), normalization: { mean: [...norm.mean], std: [...norm.std] } };
}
