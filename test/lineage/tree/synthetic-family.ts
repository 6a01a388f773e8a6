/**
 * In-memory model families for tree tests: an MLP root from synthetic weights, each descendant is
 * its parent plus a seeded synthetic perturbation (every tensor, head included), and a probe of
 * pseudo-random inputs.
 */
import type { LineageModel } from '../../../src/lineage/model.js';
import { makeTensor, type Tensor, type Weights } from '../../../src/tensor.js';
import { syntheticStateDict, type SyntheticTensorSpec } from '../../../src/testing/synthetic-weights.js';

export const SIZES = [784, 48, 32, 10];

export function mlpKeys(sizes: readonly number[] = SIZES): SyntheticTensorSpec[] {
  return sizes.slice(1).flatMap((out, i) => [
    { name: `fc${i + 1}.weight`, shape: [out, sizes[i]] },
    { name: `fc${i + 1}.bias`, shape: [out] },
  ]);
}

export function perturb(base: Weights, seed: number, scale: number): Weights {
  const noise = syntheticStateDict(
    [...base].map(([name, t]) => ({ name, shape: t.shape })),
    seed,
  );
  return new Map(
    [...base].map(([k, t]) => [
      k,
      makeTensor(
        'float32',
        t.shape,
        (t.data as Float32Array).map((v, i) => v + scale * (noise.get(k)!.data as Float32Array)[i]),
      ),
    ]),
  );
}

export interface FamilySpec {
  id: string;
  parent: string | null;
  /** Root: weight seed; descendant: perturbation seed. */
  seed: number;
  /** Perturbation size relative to the synthetic init scale (descendants only). */
  scale?: number;
}

export function buildFamily(specs: readonly FamilySpec[], sizes: readonly number[] = SIZES): LineageModel[] {
  const weights = new Map<string, Weights>();
  return specs.map((s) => {
    const w = s.parent === null ? syntheticStateDict(mlpKeys(sizes), s.seed) : perturb(weights.get(s.parent)!, s.seed, s.scale ?? 0.2);
    weights.set(s.id, w);
    return { id: s.id, file: `${s.id}.safetensors`, metadata: {}, weights: w };
  });
}

export function probe(rows: number, seed = 1): Tensor<'float32'> {
  const data = new Float32Array(rows * 784).map((_, i) => Math.sin((i + seed * 7919) * 12.9898) * 0.8);
  return makeTensor('float32', [rows, 1, 28, 28], data);
}

/** 1 root, 2 children, 2 grandchildren (one under each child). */
export const SMALL_FAMILY: FamilySpec[] = [
  { id: 'root', parent: null, seed: 11 },
  { id: 'a', parent: 'root', seed: 101, scale: 0.25 },
  { id: 'b', parent: 'root', seed: 102, scale: 0.2 },
  { id: 'a1', parent: 'a', seed: 103, scale: 0.2 },
  { id: 'b1', parent: 'b', seed: 104, scale: 0.25 },
];
