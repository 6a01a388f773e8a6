import { describe, expect, it } from 'vitest';
import { InputError } from '../../../src/base/errors.js';
import { Rng } from '../../../src/base/random.js';
import { blockOf } from '../../../src/lineage/block-names.js';
import { type MergeCandidate, fitMerge, taskArithmetic } from '../../../src/lineage/relations/merge.js';
import { memorySource } from '../../../src/source/memory.js';
import type { ModelSource } from '../../../src/source/types.js';
import { type Weights, float32Tensor, toFloat32 } from '../../../src/tensor.js';
import { GGUF_LLAMA_METADATA, llamaCppPermute, llamaSpecs, llamaToGguf } from '../weights/models.js';

/** A Llama-shaped model with N(0, 1) weights from a seeded generator: independent candidates. */
function randomLlama(seed: number): Weights {
  const rng = new Rng(seed);
  const out: Weights = new Map();
  for (const spec of llamaSpecs()) {
    const n = spec.shape.reduce((a, b) => a * b, 1);
    out.set(
      spec.name,
      float32Tensor(
        spec.shape,
        Float64Array.from({ length: n }, () => rng.normal()),
      ),
    );
  }
  return out;
}

/** sum_k w_k * model_k per tensor, computed in float64 and stored once as float32; `weightsFor` may vary the weights by tensor. */
function combine(models: readonly Weights[], weightsFor: (name: string) => readonly number[]): Weights {
  const out: Weights = new Map();
  for (const [name, t] of models[0]) {
    const w = weightsFor(name);
    const values = models.map((m) => toFloat32(m.get(name)!));
    const mixed = new Float64Array(values[0].length);
    values.forEach((v, k) => {
      for (let i = 0; i < v.length; i++) mixed[i] += w[k] * v[i];
    });
    out.set(name, float32Tensor(t.shape, mixed));
  }
  return out;
}

/** `base` plus N(0, scale^2) noise: a fine-tune. */
function fineTune(base: Weights, seed: number, scale: number): Weights {
  const rng = new Rng(seed);
  const out: Weights = new Map();
  for (const [name, t] of base)
    out.set(
      name,
      float32Tensor(
        t.shape,
        Float64Array.from(toFloat32(t), (x) => x + scale * rng.normal()),
      ),
    );
  return out;
}

/** min over s of ||y - s x|| / ||y|| summed over all tensors = sqrt(1 - cos^2(x, y)), straight from the definition. */
function expectedSingleResidual(candidate: Weights, child: Weights): number {
  let xy = 0;
  let xx = 0;
  let yy = 0;
  for (const [name, t] of child) {
    const y = toFloat32(t);
    const x = toFloat32(candidate.get(name)!);
    for (let i = 0; i < y.length; i++) {
      xy += x[i] * y[i];
      xx += x[i] * x[i];
      yy += y[i] * y[i];
    }
  }
  return Math.sqrt(1 - (xy * xy) / (xx * yy));
}

const hf = (weights: Weights, path: string): ModelSource => memorySource(weights, path, { format: 'safetensors' });
const gguf = (weights: Weights, path: string): ModelSource => memorySource(llamaToGguf(weights), path, { format: 'gguf', metadata: GGUF_LLAMA_METADATA });

/**
 * The same conversion read as 2 query heads and 1 KV head (head size 8). With LLAMA's head size 4
 * llama.cpp's permute only swaps rows 1 and 2 of each head, its own inverse, so a fit that permuted
 * where it should unpermute would pass; with 8 rows per head the two differ.
 */
function ggufWideHeads(weights: Weights, path: string): ModelSource {
  const renamed = llamaToGguf(weights, false);
  for (const [name, t] of renamed) {
    if (/\.attn_q\./.test(name)) renamed.set(name, llamaCppPermute(t, 2));
    if (/\.attn_k\./.test(name)) renamed.set(name, llamaCppPermute(t, 1));
  }
  const metadata = { ...GGUF_LLAMA_METADATA, 'llama.attention.head_count': '2', 'llama.attention.head_count_kv': '1' };
  return memorySource(renamed, path, { format: 'gguf', metadata });
}
const candidates = (entries: Record<string, ModelSource>): MergeCandidate[] => Object.entries(entries).map(([id, source]) => ({ id, source }));
const parameterCount = (w: Weights): number => [...w.values()].reduce((s, t) => s + t.shape.reduce((a, b) => a * b, 1), 0);

describe('fitMerge: linear merges', () => {
  const a = randomLlama(1);
  const b = randomLlama(2);

  it('child = 0.3 A + 0.7 B: coefficients 0.3 / 0.7, residual ~0, the best single candidate far worse', async () => {
    const child = combine([a, b], () => [0.3, 0.7]);
    const fit = await fitMerge(hf(child, 'child'), candidates({ A: hf(a, 'A'), B: hf(b, 'B') }));
    expect(fit.candidates).toEqual(['A', 'B']);
    expect(fit.coefficients[0]).toBeCloseTo(0.3, 6);
    expect(fit.coefficients[1]).toBeCloseTo(0.7, 6);
    expect(fit.residual).toBeLessThan(1e-6);
    expect(fit.blockResidual).toBeLessThan(1e-6);
    // B carries the larger weight: the best single fit is a scaled B, with residual sqrt(1 - cos^2(B, child)) ~ 0.39.
    expect(fit.single.candidate).toBe('B');
    expect(fit.single.residual).toBeCloseTo(expectedSingleResidual(b, child), 9);
    expect(fit.single.residual).toBeGreaterThan(0.3);
    expect(fit.fittedParameters).toBe(parameterCount(child));
    expect(fit.skipped).toEqual([]);
    for (const block of fit.blocks) {
      expect(block.coefficients[0], block.block).toBeCloseTo(0.3, 5);
      expect(block.coefficients[1], block.block).toBeCloseTo(0.7, 5);
    }
    expect(fit.blocks.reduce((s, x) => s + x.energy, 0)).toBeCloseTo(1, 12);
  });

  it('task arithmetic child = P + 0.6 (A - P) + 0.9 (B - P): coefficients [-0.5, 0.6, 0.9], lambdas 0.6 / 0.9 over base P', async () => {
    const p = randomLlama(3);
    const ftA = fineTune(p, 11, 0.3);
    const ftB = fineTune(p, 12, 0.3);
    const child = combine([p, ftA, ftB], () => [1 - 0.6 - 0.9, 0.6, 0.9]);
    const fit = await fitMerge(hf(child, 'child'), candidates({ P: hf(p, 'P'), A: hf(ftA, 'A'), B: hf(ftB, 'B') }));
    [-0.5, 0.6, 0.9].forEach((c, k) => expect(fit.coefficients[k]).toBeCloseTo(c, 5));
    expect(fit.residual).toBeLessThan(1e-6);
    const view = taskArithmetic(fit, 0);
    expect(view.base).toBe('P');
    expect(view.lambdas.map((l) => l.candidate)).toEqual(['A', 'B']);
    expect(view.lambdas[0].lambda).toBeCloseTo(0.6, 5);
    expect(view.lambdas[1].lambda).toBeCloseTo(0.9, 5);
    expect(view.sumCoefficients).toBeCloseTo(1, 5);
    expect(() => taskArithmetic(fit, 3)).toThrow(RangeError);
  });

  it('per-block weights: each block gets its own coefficients, blockResidual ~0 while one global pair cannot fit', async () => {
    const weightsFor = (name: string): number[] => (blockOf(name) === 'model.layers.0' ? [0.2, 0.8] : [0.7, 0.3]);
    const child = combine([a, b], weightsFor);
    const fit = await fitMerge(hf(child, 'child'), candidates({ A: hf(a, 'A'), B: hf(b, 'B') }));
    expect(fit.blocks.map((x) => x.block)).toEqual(['model.embed_tokens', 'model.layers.0', 'model.layers.1', 'model.norm', 'lm_head']);
    for (const block of fit.blocks) {
      const [wa, wb] = weightsFor(`${block.block}.x`);
      expect(block.coefficients[0], block.block).toBeCloseTo(wa, 5);
      expect(block.coefficients[1], block.block).toBeCloseTo(wb, 5);
      expect(block.residual, block.block).toBeLessThan(1e-6);
    }
    expect(fit.blockResidual).toBeLessThan(1e-6);
    expect(fit.residual).toBeCloseTo(globalResidual(a, b, child), 9);
    expect(fit.residual).toBeGreaterThan(0.05);
  });

  it('a fine-tune of A fits as about [1, 0], and A alone explains it about as well: not a merge', async () => {
    const child = fineTune(a, 21, 0.01);
    const fit = await fitMerge(hf(child, 'child'), candidates({ A: hf(a, 'A'), B: hf(b, 'B') }));
    expect(fit.coefficients[0]).toBeCloseTo(1, 3);
    expect(Math.abs(fit.coefficients[1])).toBeLessThan(1e-3);
    expect(fit.single.candidate).toBe('A');
    // Noise of 0.01 on N(0, 1) weights: ||noise|| / ||child|| ~ 0.01.
    expect(fit.residual).toBeGreaterThan(0.008);
    expect(fit.residual).toBeLessThan(0.012);
    expect(fit.single.residual).toBeCloseTo(expectedSingleResidual(a, child), 9);
    expect(fit.single.residual / fit.residual).toBeLessThan(1.01);
  });
});

/** The global least-squares residual with two candidates, by Cramer's rule on the 2 x 2 normal equations over all tensors. */
function globalResidual(a: Weights, b: Weights, child: Weights): number {
  let [aa, ab, bb, ay, by, yy] = [0, 0, 0, 0, 0, 0];
  for (const [name, t] of child) {
    const y = toFloat32(t);
    const x1 = toFloat32(a.get(name)!);
    const x2 = toFloat32(b.get(name)!);
    for (let i = 0; i < y.length; i++) {
      aa += x1[i] * x1[i];
      ab += x1[i] * x2[i];
      bb += x2[i] * x2[i];
      ay += x1[i] * y[i];
      by += x2[i] * y[i];
      yy += y[i] * y[i];
    }
  }
  const det = aa * bb - ab * ab;
  const c1 = (ay * bb - by * ab) / det;
  const c2 = (aa * by - ab * ay) / det;
  let r2 = 0;
  for (const [name, t] of child) {
    const y = toFloat32(t);
    const x1 = toFloat32(a.get(name)!);
    const x2 = toFloat32(b.get(name)!);
    for (let i = 0; i < y.length; i++) r2 += (y[i] - c1 * x1[i] - c2 * x2[i]) ** 2;
  }
  return Math.sqrt(r2 / yy);
}

describe('fitMerge: what is fitted', () => {
  const a = randomLlama(1);
  const b = randomLlama(2);
  const child = combine([a, b], () => [0.3, 0.7]);

  it('a tensor missing from one candidate is skipped and listed; the rest still fits exactly', async () => {
    const missing = 'model.layers.1.mlp.up_proj.weight';
    const partial: Weights = new Map(b);
    partial.delete(missing);
    const fit = await fitMerge(hf(child, 'child'), candidates({ A: hf(a, 'A'), B: hf(partial, 'B') }));
    expect(fit.skipped.map((s) => s.tensor)).toEqual([missing]);
    expect(fit.skipped[0].reason).toContain('candidate B');
    expect(fit.fittedParameters).toBe(parameterCount(child) - 20 * 16);
    expect(fit.coefficients[0]).toBeCloseTo(0.3, 6);
    expect(fit.coefficients[1]).toBeCloseTo(0.7, 6);
  });

  it('a GGUF candidate (llama.cpp names, permuted Q/K rows) against a Hugging Face child', async () => {
    const fit = await fitMerge(hf(child, 'child'), candidates({ A: gguf(a, 'A.gguf'), B: hf(b, 'B') }));
    expect(fit.skipped).toEqual([]);
    expect(fit.coefficients[0]).toBeCloseTo(0.3, 6);
    expect(fit.coefficients[1]).toBeCloseTo(0.7, 6);
    expect(fit.residual).toBeLessThan(1e-6);
  });

  it('a GGUF child against one Hugging Face and one GGUF candidate: every block in the child row order', async () => {
    const fit = await fitMerge(gguf(child, 'child.gguf'), candidates({ A: hf(a, 'A'), B: gguf(b, 'B.gguf') }));
    expect(fit.skipped).toEqual([]);
    expect(fit.blocks.map((x) => x.block)).toContain('blk.0');
    expect(fit.coefficients[0]).toBeCloseTo(0.3, 6);
    expect(fit.coefficients[1]).toBeCloseTo(0.7, 6);
    expect(fit.residual).toBeLessThan(1e-6);
    expect(fit.single.residual).toBeCloseTo(expectedSingleResidual(b, child), 9);
  });

  it('the same with 8-row heads, where permuting and unpermuting rows differ', async () => {
    for (const [childSource, others] of [
      [hf(child, 'child'), candidates({ A: ggufWideHeads(a, 'A.gguf'), B: hf(b, 'B') })],
      [ggufWideHeads(child, 'child.gguf'), candidates({ A: hf(a, 'A'), B: ggufWideHeads(b, 'B.gguf') })],
    ] as const) {
      const fit = await fitMerge(childSource, others, { blockBytes: 64 });
      expect(fit.skipped, childSource.path).toEqual([]);
      expect(fit.coefficients[0], childSource.path).toBeCloseTo(0.3, 6);
      expect(fit.coefficients[1], childSource.path).toBeCloseTo(0.7, 6);
      expect(fit.residual, childSource.path).toBeLessThan(1e-6);
    }
  });

  it('tiny blocks (64 bytes) give the same numbers', async () => {
    const weightsFor = (name: string): number[] => (blockOf(name) === 'model.layers.1' ? [0.5, 0.4] : [0.3, 0.7]);
    const mixed = fineTune(combine([a, b], weightsFor), 5, 0.05);
    const run = (blockBytes?: number) => fitMerge(gguf(mixed, 'child.gguf'), candidates({ A: hf(a, 'A'), B: hf(b, 'B') }), { blockBytes });
    const [small, large] = await Promise.all([run(64), run()]);
    expect(small.coefficients[0]).toBeCloseTo(large.coefficients[0], 12);
    expect(small.coefficients[1]).toBeCloseTo(large.coefficients[1], 12);
    expect(small.residual).toBeCloseTo(large.residual, 12);
    expect(small.blockResidual).toBeCloseTo(large.blockResidual, 12);
    expect(small.residual).toBeGreaterThan(small.blockResidual);
    small.blocks.forEach((block, i) => {
      expect(block.coefficients[0]).toBeCloseTo(large.blocks[i].coefficients[0], 12);
      expect(block.coefficients[1]).toBeCloseTo(large.blocks[i].coefficients[1], 12);
      expect(block.residual).toBeCloseTo(large.blocks[i].residual, 12);
    });
    expect(small.fittedParameters).toBe(large.fittedParameters);
  });
});

describe('fitMerge: bad input', () => {
  const a = randomLlama(1);

  it('refuses no candidates, more than 16, and repeated ids with a RangeError', async () => {
    const source = hf(a, 'A');
    await expect(fitMerge(source, [])).rejects.toThrow(RangeError);
    const many = Array.from({ length: 17 }, (_, i) => ({ id: `m${i}`, source }));
    await expect(fitMerge(source, many)).rejects.toThrow(/17 candidates.*at most 16/);
    await expect(fitMerge(source, [...candidates({ A: source }), ...candidates({ A: source })])).rejects.toThrow(/repeat/);
  });

  it('a child sharing no tensor with the candidates is an InputError naming the child', async () => {
    const other: Weights = new Map([['encoder.fc.weight', float32Tensor([2, 2], [1, 2, 3, 4])]]);
    await expect(fitMerge(hf(other, 'other'), candidates({ A: hf(a, 'A') }))).rejects.toThrow(InputError);
    await expect(fitMerge(hf(other, 'other'), candidates({ A: hf(a, 'A') }))).rejects.toThrow(/^other: /);
  });

  it('NaN in a candidate is an InputError naming its file and tensor', async () => {
    const bad: Weights = new Map(a);
    const values = toFloat32(a.get('model.norm.weight')!).slice();
    values[3] = Number.NaN;
    bad.set('model.norm.weight', float32Tensor([values.length], values));
    await expect(fitMerge(hf(a, 'child'), candidates({ A: hf(a, 'A'), B: hf(bad, 'B') }))).rejects.toThrow(/^B: tensor 'model.norm.weight'/);
  });
});
