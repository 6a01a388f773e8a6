/**
 * Weight kurtosis (m4 / m2^2 about the mean) of a model's matrices and kernels: fine-tuning adds
 * updates to weights, which moves each tensor's value distribution, so the kurtosis of the same
 * tensor in two related models hints at which one came later.
 */
import type { Tensor, Weights } from '../../tensor.js';

/** Tensors with fewer values give kurtosis estimates too noisy to compare. */
const MIN_VALUES = 64;

export function kurtosis(data: ArrayLike<number>): number {
  const n = data.length;
  if (n === 0) return Number.NaN;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += data[i];
  mean /= n;
  let m2 = 0;
  let m4 = 0;
  for (let i = 0; i < n; i++) {
    const d = data[i] - mean;
    const d2 = d * d;
    m2 += d2;
    m4 += d2 * d2;
  }
  m2 /= n;
  m4 /= n;
  return m2 > 0 ? m4 / (m2 * m2) : Number.NaN;
}

/** Kurtosis per compared tensor of rank >= 2 (weight matrices and kernels; biases and norms are too small). */
export function weightKurtosis(weights: Weights, compared: readonly string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const name of compared) {
    const t = weights.get(name) as Tensor | undefined;
    if (!t || t.dtype !== 'float32' || t.shape.length < 2 || t.data.length < MIN_VALUES) continue;
    const k = kurtosis(t.data as Float32Array);
    if (Number.isFinite(k)) out.set(name, k);
  }
  return out;
}
