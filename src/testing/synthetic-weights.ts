/**
 * Deterministic synthetic weights, bit-identical to scripts/synthetic_weights.py, so reference
 * fixtures need not store the weights themselves (a ResNet-18 is 45 MB): PyTorch and TypeScript
 * both regenerate them from the key list and a seed.
 *
 * Element i of the tensor `key` is derived from h = fmix32(i * 0x9E3779B1 + seed(key)) with
 * seed(key) = FNV-1a-32(UTF-8 key) XOR the global seed; u = (h >>> 8) * 2^-24 is exact in float32.
 * Each value is one float32 rounding of an exact expression, so both languages agree bit for bit.
 */
import { type Tensor, type Weights, makeTensor } from '../tensor.js';

/** How a tensor's values are distributed; see `syntheticKind` for the default by key. */
export type SyntheticKind =
  | 'fan_in' // U(-a, a), a = sqrt(3 / fan_in): unit-variance outputs for unit-variance inputs
  | 'bias' // U(-0.1, 0.1)
  | 'norm_weight' // 0.5 + u
  | 'running_mean' // U(-0.2, 0.2)
  | 'running_var' // 0.5 + u
  | 'embedding' // U(-0.5, 0.5): class tokens, position embeddings
  | 'zeros'; // integer buffers such as num_batches_tracked

export interface SyntheticTensorSpec {
  name: string;
  shape: readonly number[];
  dtype?: 'float32' | 'int64';
  kind?: SyntheticKind;
}

const GOLDEN = 0x9e3779b1;
const TWO_POW_M23 = 2 ** -23;

export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    h ^= byte;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** murmur3's 32-bit finaliser applied to a Weyl sequence: a counter-based hash. */
export function hash32(seed: number, index: number): number {
  let x = (Math.imul(index, GOLDEN) + seed) >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/** The default kind of a state-dict entry, from its key, rank and dtype (same rule as the Python twin). */
export function syntheticKind(name: string, shape: readonly number[], dtype: 'float32' | 'int64' = 'float32'): SyntheticKind {
  if (dtype === 'int64') return 'zeros';
  if (name.endsWith('running_mean')) return 'running_mean';
  if (name.endsWith('running_var')) return 'running_var';
  if (name.endsWith('.bias') || name === 'bias') return 'bias';
  if (name.endsWith('.weight') || name === 'weight') return shape.length <= 1 ? 'norm_weight' : 'fan_in';
  return 'embedding';
}

function fanIn(shape: readonly number[]): number {
  let n = 1;
  for (let i = 1; i < shape.length; i++) n *= shape[i];
  return Math.max(n, 1);
}

export function syntheticTensor(spec: SyntheticTensorSpec, seed: number): Tensor {
  const dtype = spec.dtype ?? 'float32';
  const n = spec.shape.reduce((a, b) => a * b, 1);
  if (dtype === 'int64') return makeTensor('int64', spec.shape, new BigInt64Array(n));
  const kind = spec.kind ?? syntheticKind(spec.name, spec.shape, dtype);
  const tensorSeed = (fnv1a32(spec.name) ^ seed) >>> 0;
  const out = new Float32Array(n);
  // signed = 2u - 1 = ((h >>> 8) - 2^23) * 2^-23, exact; scaled products are rounded once.
  const scaled = (scale: number): void => {
    const s = Math.fround(scale);
    for (let i = 0; i < n; i++) out[i] = Math.fround(((hash32(tensorSeed, i) >>> 8) - 0x800000) * TWO_POW_M23 * s);
  };
  const offset = (): void => {
    for (let i = 0; i < n; i++) out[i] = Math.fround(0.5 + (hash32(tensorSeed, i) >>> 8) * 2 ** -24);
  };
  switch (kind) {
    case 'fan_in':
      scaled(Math.sqrt(3 / fanIn(spec.shape)));
      break;
    case 'bias':
      scaled(0.1);
      break;
    case 'running_mean':
      scaled(0.2);
      break;
    case 'embedding':
      scaled(0.5);
      break;
    case 'norm_weight':
    case 'running_var':
      offset();
      break;
    case 'zeros':
      break;
  }
  return makeTensor('float32', spec.shape, out);
}

/** A state dict with one synthetic tensor per spec, in the given order. */
export function syntheticStateDict(specs: readonly SyntheticTensorSpec[], seed: number): Weights {
  const weights: Weights = new Map();
  for (const spec of specs) weights.set(spec.name, syntheticTensor(spec, seed));
  return weights;
}

/** Synthetic weights with the keys, shapes and (float32 or int64) dtypes of `template`. */
export function syntheticLike(template: Weights, seed: number): Weights {
  const specs: SyntheticTensorSpec[] = [...template].map(([name, t]) => ({
    name,
    shape: t.shape,
    dtype: t.dtype === 'int64' || t.dtype === 'int32' ? 'int64' : 'float32',
  }));
  return syntheticStateDict(specs, seed);
}
