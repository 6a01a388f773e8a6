/** Loads the PyTorch reference fixtures written by scripts/make_arch_fixtures.py. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseNpy } from '../../src/formats/npy.js';
import { type Tensor, type Weights, makeTensor } from '../../src/tensor.js';
import { type SyntheticTensorSpec, syntheticStateDict } from '../../src/testing/synthetic-weights.js';

export const FIXTURE_DIR = join(import.meta.dirname, '..', '..', 'fixtures', 'archs');

export interface KeySpec {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int64';
}

export interface ArchFixture {
  model: string;
  seed: number;
  inputShape: number[];
  expected: Record<string, unknown>;
  taps: string[];
  keys: KeySpec[];
  samples: Record<string, { first: number[]; last?: number[] }>;
  onnx?: string;
}

export const FIXTURE_MODELS = ['mlp', 'convnet', 'resnet18', 'resnet18_cifar', 'resnet50', 'vit'] as const;

export function readFixture(model: string): ArchFixture {
  return JSON.parse(readFileSync(join(FIXTURE_DIR, `${model}.json`), 'utf8')) as ArchFixture;
}

export function readArray(model: string, what: string): Tensor {
  const file = join(FIXTURE_DIR, `${model}.${what}.npy`);
  return parseNpy(new Uint8Array(readFileSync(file)), file);
}

export function fixtureWeights(fixture: ArchFixture): Weights {
  return syntheticStateDict(fixture.keys as SyntheticTensorSpec[], fixture.seed);
}

/** torchvision's resnet18/34/50 key lists (3 channels, 1000 classes). */
export function torchvisionKeys(): Record<'resnet18' | 'resnet34' | 'resnet50', KeySpec[]> {
  return JSON.parse(readFileSync(join(FIXTURE_DIR, 'torchvision_keys.json'), 'utf8')) as Record<'resnet18' | 'resnet34' | 'resnet50', KeySpec[]>;
}

/** Zero-filled tensors with the given keys and shapes. */
export function zeroWeights(keys: readonly KeySpec[]): Weights {
  const w: Weights = new Map();
  for (const k of keys) {
    const n = k.shape.reduce((a, b) => a * b, 1);
    w.set(k.name, k.dtype === 'int64' ? makeTensor('int64', k.shape, new BigInt64Array(n)) : makeTensor('float32', k.shape, new Float32Array(n)));
  }
  return w;
}

/** max |a - b| / max |b|: the error relative to the reference's scale. */
export function relativeError(actual: Tensor, reference: Tensor): number {
  const a = actual.data as Float32Array;
  const r = reference.data as Float32Array;
  if (a.length !== r.length) throw new Error(`size mismatch: ${a.length} vs ${r.length}`);
  let err = 0;
  let scale = 0;
  for (let i = 0; i < r.length; i++) {
    err = Math.max(err, Math.abs(a[i] - r[i]));
    scale = Math.max(scale, Math.abs(r[i]));
  }
  return err / scale;
}
