/**
 * Weight-space baselines: they compare parameters directly, with no probe data.
 *   weights-l2:  -(mean over tensors of the mean squared difference)   (the reference code's baseline)
 *   weights-cos: cosine similarity of all shared parameters flattened into one vector
 * Both take the parameter names to compare (head and buffers already excluded by the caller).
 */
import { type Tensor, toFloat32 } from '../tensor.js';

export function weightsL2(child: ReadonlyMap<string, Tensor>, parent: ReadonlyMap<string, Tensor>, names: readonly string[]): number {
  if (names.length === 0) return Number.NaN;
  let total = 0;
  for (const name of names) {
    const a = toFloat32(child.get(name) as Tensor);
    const b = toFloat32(parent.get(name) as Tensor);
    let sum = 0;
    for (let i = 0; i < a.length; i++) {
      const d = a[i] - b[i];
      sum += d * d;
    }
    total += a.length === 0 ? 0 : sum / a.length;
  }
  return -total / names.length;
}

export function weightsCosine(child: ReadonlyMap<string, Tensor>, parent: ReadonlyMap<string, Tensor>, names: readonly string[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (const name of names) {
    const a = toFloat32(child.get(name) as Tensor);
    const b = toFloat32(parent.get(name) as Tensor);
    for (let i = 0; i < a.length; i++) {
      dot += a[i] * b[i];
      na += a[i] * a[i];
      nb += b[i] * b[i];
    }
  }
  return na === 0 || nb === 0 ? Number.NaN : dot / Math.sqrt(na * nb);
}
