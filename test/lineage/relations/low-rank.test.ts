/**
 * Expected spectra are built in, not computed: a delta sum_i sigma_i u_i v_i^T with orthonormal
 * u_i and v_i has singular values sigma_i exactly. The vectors are Walsh functions (entries
 * +-1/sqrt(n), mutually orthogonal) with seeded coordinate permutations and sign flips, which keep
 * them orthonormal. With n a power of 4 and integer sigma, every entry of the delta and of a base of
 * multiples of the same power of two is exact in float32, so b - a is exactly the built delta.
 */
import { describe, expect, it } from 'vitest';
import { Rng, permutation } from '../../../src/base/random.js';
import { symmetricEigenvalues } from '../../../src/lineage/relations/jacobi.js';
import { DEFAULT_TOLERANCE, deltaSpectrum, effectiveRank } from '../../../src/lineage/relations/low-rank.js';
import { orthonormaliseColumns } from '../../../src/lineage/relations/orthonormal.js';
import { matchTensors } from '../../../src/lineage/weights/match.js';
import type { TensorPair, TensorTransform } from '../../../src/lineage/weights/types.js';
import { memorySource } from '../../../src/source/memory.js';
import type { ModelSource } from '../../../src/source/types.js';
import { type Weights, float32Tensor, toFloat32 } from '../../../src/tensor.js';
import { GGUF_LLAMA_METADATA, llamaToGguf, llamaWeights } from '../weights/models.js';

/** Walsh function `index` of length n (a power of 2), unit norm. */
function walsh(n: number, index: number): Float64Array {
  const out = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    let bits = index & r;
    let parity = 0;
    while (bits) {
      parity ^= bits & 1;
      bits >>= 1;
    }
    out[r] = (parity ? -1 : 1) / Math.sqrt(n);
  }
  return out;
}

/** Walsh functions `indices` of length n, all with the same seeded coordinate permutation and sign flips: still orthonormal. */
function orthonormalVectors(n: number, indices: number[], seed: number): Float64Array[] {
  const perm = permutation(n, seed);
  const rng = new Rng(seed + 1);
  const signs = Array.from({ length: n }, () => (rng.next() < 0.5 ? -1 : 1));
  return indices.map((index) => {
    const w = walsh(n, index);
    const out = new Float64Array(n);
    for (let r = 0; r < n; r++) out[r] = signs[r] * w[perm[r]];
    return out;
  });
}

/** sum_i sigma_i u_i v_i^T, row-major. */
function outerSum(sigma: number[], us: Float64Array[], vs: Float64Array[]): Float64Array {
  const rows = us[0].length;
  const cols = vs[0].length;
  const out = new Float64Array(rows * cols);
  sigma.forEach((s, i) => {
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[r * cols + c] += s * us[i][r] * vs[i][c];
  });
  return out;
}

/** Random multiples of 1/denominator in [-4, 4]: exact in float32, and so are their sums with a delta of the same grid. */
function dyadicBase(n: number, denominator: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => (rng.int(8 * denominator + 1) - 4 * denominator) / denominator);
}

function gaussian(n: number, seed: number, scale = 1): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => scale * rng.normal());
}

function addInFloat32(base: Float32Array, delta: Float64Array): Float32Array {
  return Float32Array.from(base, (x, i) => x + delta[i]);
}

/** A parent and a child holding one tensor 'w', and the identity pair between them. */
function models(shape: number[], parent: Float32Array, child: Float32Array): { a: ModelSource; b: ModelSource; pair: TensorPair } {
  const a = memorySource(new Map([['w', float32Tensor(shape, parent)]]), 'parent');
  const b = memorySource(new Map([['w', float32Tensor(shape, child)]]), 'child');
  return { a, b, pair: pairOf(a, b) };
}

function pairOf(a: ModelSource, b: ModelSource, transform: TensorTransform = { kind: 'identity' }): TensorPair {
  const ta = a.tensors[0];
  const elements = ta.shape.reduce((x, y) => x * y, 1);
  return { a: ta, b: b.tensors[0], by: 'name', transform, elements };
}

function expectRelativelyClose(actual: number[], expected: number[], relative: number): void {
  expect(actual.length).toBeGreaterThanOrEqual(expected.length);
  expected.forEach((e, i) => expect(Math.abs(actual[i] - e), `singular value ${i}: ${actual[i]} vs ${e}`).toBeLessThanOrEqual(relative * e));
}

/** The Frobenius norm of what float32 rounding added to the delta: by Weyl's inequality, a bound on how far each singular value moved. */
function roundingNorm(base: Float32Array, child: Float32Array, delta: Float64Array): number {
  let s = 0;
  for (let i = 0; i < base.length; i++) s += (child[i] - base[i] - delta[i]) ** 2;
  return Math.sqrt(s);
}

describe('effectiveRank (worked by hand)', () => {
  it('counts the singular values needed to leave at most tolerance^2 of the energy', () => {
    // energy 14 = 9 + 4 + 1: all three leave 0.
    expect(effectiveRank([3, 2, 1], 14, 0)).toBe(3);
    // 0.3^2 * 14 = 1.26: after two values 1 is left (<= 1.26), after one 5 (> 1.26).
    expect(effectiveRank([3, 2, 1], 14, 0.3)).toBe(2);
    // energy 15 holds 1 beyond the values given: 1 > 0.1^2 * 15 = 0.15.
    expect(effectiveRank([3, 2, 1], 15, 0.1)).toBeNull();
    expect(effectiveRank([], 5, 0.1)).toBeNull();
    expect(effectiveRank([0, 0], 0, DEFAULT_TOLERANCE)).toBe(0);
  });

  it('refuses a negative or non-finite energy and a tolerance outside [0, 1)', () => {
    expect(() => effectiveRank([1], -1, 0.1)).toThrow(RangeError);
    expect(() => effectiveRank([1], Number.NaN, 0.1)).toThrow(RangeError);
    expect(() => effectiveRank([1], 1, 1)).toThrow(RangeError);
    expect(() => effectiveRank([1], 1, -0.1)).toThrow(RangeError);
  });
});

describe('symmetricEigenvalues (Jacobi)', () => {
  it('the second-difference matrix tridiag(-1, 2, -1) of size 3: 2 - 2 cos(j pi / 4) = 2 + sqrt 2, 2, 2 - sqrt 2', () => {
    const values = symmetricEigenvalues([2, -1, 0, -1, 2, -1, 0, -1, 2], 3);
    expectRelativelyClose(values, [2 + Math.SQRT2, 2, 2 - Math.SQRT2], 1e-14);
  });

  it('I + ones(3): the all-ones matrix has eigenvalues 3, 0, 0, so 4, 1, 1', () => {
    expectRelativelyClose(symmetricEigenvalues([2, 1, 1, 1, 2, 1, 1, 1, 2], 3), [4, 1, 1], 1e-14);
  });

  it('a diagonal matrix is its own answer, sorted descending; the input is not modified', () => {
    const m = [1, 0, 0, 0, -5, 0, 0, 0, 3];
    expect(symmetricEigenvalues(m, 3)).toEqual([3, 1, -5]);
    expect(m).toEqual([1, 0, 0, 0, -5, 0, 0, 0, 3]);
  });

  it('refuses a matrix that is not symmetric or not n x n', () => {
    expect(() => symmetricEigenvalues([1, 2, 3, 4], 2)).toThrow(/not symmetric/);
    expect(() => symmetricEigenvalues([1, 2, 3], 2)).toThrow(RangeError);
  });
});

describe('orthonormaliseColumns', () => {
  it('orthonormalises independent columns and zeroes one in the span of those before it', () => {
    const x = [1, 2, 0, 1];
    const y = [0, 1, 1, 3];
    const columns = Float64Array.from([...x, ...y, ...x.map((v, i) => 2 * v - 3 * y[i]), 1, 0, 0, 0]);
    expect(orthonormaliseColumns(columns, 4, 4)).toBe(3);
    const col = (j: number) => columns.subarray(j * 4, j * 4 + 4);
    const dot = (p: Float64Array, q: Float64Array) => p.reduce((s, v, i) => s + v * q[i], 0);
    expect([...col(2)]).toEqual([0, 0, 0, 0]);
    for (const [i, j] of [
      [0, 1],
      [0, 3],
      [1, 3],
    ])
      expect(Math.abs(dot(col(i), col(j)))).toBeLessThan(1e-15);
    for (const j of [0, 1, 3]) expect(dot(col(j), col(j))).toBeCloseTo(1, 15);
  });

  it('keeps nearly dependent columns orthogonal to working precision (x and x + 1e-9 y: one pass would leave ~1e-7)', () => {
    const n = 50;
    const x = gaussian(n, 61);
    const y = gaussian(n, 62);
    const columns = Float64Array.from([...x, ...Array.from(x, (v, i) => v + 1e-9 * y[i])]);
    expect(orthonormaliseColumns(columns, n, 2)).toBe(2);
    let dot = 0;
    for (let i = 0; i < n; i++) dot += columns[i] * columns[n + i];
    expect(Math.abs(dot)).toBeLessThan(1e-14);
  });
});

describe('deltaSpectrum', () => {
  const rows = 256;
  const cols = 64;
  const sigma = [9, 5, 2];
  const us = orthonormalVectors(rows, [3, 77, 200], 11);
  const vs = orthonormalVectors(cols, [5, 17, 40], 12);
  const rank3 = outerSum(sigma, us, vs); // entries are multiples of 1/(16 * 8)
  const base = dyadicBase(rows * cols, 128, 13);
  const exact = models([rows, cols], base, addInFloat32(base, rank3));

  it('finds rank 3 and the singular values 9, 5, 2 of an exactly rank-3 delta on a random base (k = 32 < 64)', async () => {
    const result = await deltaSpectrum(exact.a, exact.b, exact.pair);
    expect([result.rows, result.cols, result.sketch]).toEqual([rows, cols, 32]);
    expect(result.energy).toBe(81 + 25 + 4);
    expectRelativelyClose(result.singularValues, sigma, 1e-9);
    for (const s of result.singularValues.slice(3)) expect(s).toBeLessThan(1e-12);
    expect(result.effectiveRank).toBe(3);
    // 0.25^2 * 110 = 6.875 >= 4, what the third value leaves: rank 2 at that tolerance.
    expect((await deltaSpectrum(exact.a, exact.b, exact.pair, { tolerance: 0.25 })).effectiveRank).toBe(2);
  });

  it('sees past float32 rounding of the merge at the default tolerance, not at 1e-6 (the noise floor is full rank)', async () => {
    const gaussianBase = gaussian(rows * cols, 14);
    const small = outerSum([0.09, 0.05, 0.02], us, vs);
    const child = addInFloat32(gaussianBase, small);
    const { a, b, pair } = models([rows, cols], gaussianBase, child);
    const result = await deltaSpectrum(a, b, pair);
    expect(result.effectiveRank).toBe(3);
    const bound = roundingNorm(gaussianBase, child, small);
    expect(bound).toBeGreaterThan(0);
    [0.09, 0.05, 0.02].forEach((s, i) => expect(Math.abs(result.singularValues[i] - s)).toBeLessThanOrEqual(bound));
    expect((await deltaSpectrum(a, b, pair, { tolerance: 1e-6 })).effectiveRank).toBeNull();
  });

  it('a full-rank random delta has no effective rank within a k below min(rows, cols), and k = min gives all the energy', async () => {
    const [r, c] = [96, 80];
    const parent = gaussian(r * c, 21);
    const child = gaussian(r * c, 22);
    let energy = 0;
    for (let i = 0; i < parent.length; i++) energy += (child[i] - parent[i]) ** 2;
    const { a, b, pair } = models([r, c], parent, child);
    const sketched = await deltaSpectrum(a, b, pair, { sketch: 16 });
    expect(sketched.sketch).toBe(16);
    expect(sketched.singularValues).toHaveLength(16);
    expect(sketched.energy / energy - 1).toBeLessThan(1e-12);
    expect(sketched.effectiveRank).toBeNull();
    for (let i = 1; i < 16; i++) expect(sketched.singularValues[i]).toBeLessThanOrEqual(sketched.singularValues[i - 1]);
    const full = await deltaSpectrum(a, b, pair, { sketch: 1000 });
    expect(full.sketch).toBe(80);
    const captured = full.singularValues.reduce((s, v) => s + v * v, 0);
    expect(Math.abs(captured / energy - 1)).toBeLessThan(1e-10);
    expect(full.effectiveRank).not.toBeNull();
    // The sketch sees Q Q^T delta, whose singular values cannot exceed delta's.
    sketched.singularValues.forEach((s, i) => expect(s).toBeLessThanOrEqual(full.singularValues[i] * (1 + 1e-12)));
  });

  describe('k >= min(rows, cols): exact', () => {
    const small = [7, 4, 2, 1];
    const u16 = orthonormalVectors(16, [1, 6, 9, 15], 31);
    const v4 = orthonormalVectors(4, [0, 1, 2, 3], 32);
    const tall = outerSum(small, u16, v4); // 16 x 4, entries multiples of 1/8
    const wide = outerSum(small, v4, u16); // 4 x 16
    const base = dyadicBase(64, 8, 33);

    it('tall (16 x 4): the four singular values by construction, rank 4, and 3 at tolerance 0.2', async () => {
      const { a, b, pair } = models([16, 4], base, addInFloat32(base, tall));
      const result = await deltaSpectrum(a, b, pair);
      expect(result.sketch).toBe(4);
      expect(result.energy).toBe(49 + 16 + 4 + 1);
      expectRelativelyClose(result.singularValues, small, 1e-12);
      expect(result.singularValues).toHaveLength(4);
      expect(result.effectiveRank).toBe(4);
      // 0.2^2 * 70 = 2.8: the last value leaves 1 (<= 2.8), the last two 5 (> 2.8).
      expect((await deltaSpectrum(a, b, pair, { tolerance: 0.2 })).effectiveRank).toBe(3);
    });

    it('wide (4 x 16), and the same viewed as a [4, 2, 8] tensor', async () => {
      for (const shape of [
        [4, 16],
        [4, 2, 8],
      ]) {
        const { a, b, pair } = models(shape, base, addInFloat32(base, wide));
        const result = await deltaSpectrum(a, b, pair, { sketch: 5 });
        expect([result.rows, result.cols, result.sketch]).toEqual([4, 16, 4]);
        expectRelativelyClose(result.singularValues, small, 1e-12);
        expect(result.effectiveRank).toBe(4);
      }
    });
  });

  it('a zero delta has rank 0 and energy 0', async () => {
    const { a, b, pair } = models([rows, cols], base, base);
    const result = await deltaSpectrum(a, b, pair, { sketch: 8 });
    expect(result).toEqual({ rows, cols, sketch: 8, singularValues: new Array(8).fill(0), energy: 0, effectiveRank: 0 });
  });

  it('reads in blocks of one row with blockBytes 256 and gets the same result', async () => {
    let largest = 0;
    let reads = 0;
    const counting = (source: ModelSource): ModelSource => ({
      ...source,
      readRows: (name, start, count) => {
        largest = Math.max(largest, count);
        reads++;
        return source.readRows(name, start, count);
      },
    });
    const reference = await deltaSpectrum(exact.a, exact.b, exact.pair);
    const result = await deltaSpectrum(counting(exact.a), counting(exact.b), exact.pair, { blockBytes: 256 });
    expect(largest).toBe(1);
    expect(reads).toBe(2 * 2 * rows); // two passes over two models
    expect(result).toEqual(reference);
  });

  it('the shared rows of an extended vocabulary: rank 1 over the first rows, whatever the added rows hold', async () => {
    const [vocab, extended, hidden] = [16, 20, 4];
    const parent = dyadicBase(vocab * hidden, 8, 41);
    const delta = outerSum([3], orthonormalVectors(vocab, [5], 42), orthonormalVectors(hidden, [2], 43));
    const child = new Float32Array(extended * hidden);
    child.set(addInFloat32(parent, delta));
    child.set(gaussian((extended - vocab) * hidden, 44), vocab * hidden);
    const a = memorySource(new Map([['emb', float32Tensor([vocab, hidden], parent)]]), 'parent');
    const b = memorySource(new Map([['emb', float32Tensor([extended, hidden], child)]]), 'child');
    const result = await deltaSpectrum(a, b, pairOf(a, b, { kind: 'shared-rows', rows: vocab }));
    expect([result.rows, result.cols]).toEqual([vocab, hidden]);
    expect(result.energy).toBe(9);
    expect(result.effectiveRank).toBe(1);
    expectRelativelyClose(result.singularValues, [3], 1e-12);
  });

  describe('a Llama child converted to GGUF (rotary rows permuted)', () => {
    const parent = llamaWeights(1);
    const name = 'model.layers.0.self_attn.q_proj.weight';
    const q = toFloat32(parent.get(name)!);
    const delta = outerSum([6, 2], orthonormalVectors(16, [3, 12], 51), orthonormalVectors(16, [7, 9], 52));
    const childQ = addInFloat32(q, delta);
    const child: Weights = new Map(parent);
    child.set(name, float32Tensor([16, 16], childQ));
    const hf = memorySource(parent, 'parent', { format: 'safetensors' });
    const bound = roundingNorm(q, childQ, delta);

    it('pairs q_proj with rope-unpermute and finds rank 2 with the built singular values (sketched, k = 4)', async () => {
      const gguf = memorySource(llamaToGguf(child), 'child.gguf', { format: 'gguf', metadata: GGUF_LLAMA_METADATA });
      const pair = (await matchTensors(hf, gguf)).pairs.find((p) => p.a.name === name)!;
      expect(pair.transform).toEqual({ kind: 'rope-unpermute', side: 'b', heads: 4 });
      const result = await deltaSpectrum(hf, gguf, pair, { sketch: 4 });
      expect(result.effectiveRank).toBe(2);
      [6, 2].forEach((s, i) => expect(Math.abs(result.singularValues[i] - s)).toBeLessThanOrEqual(bound));
      // The same child left in Hugging Face layout gives the very same numbers.
      const unconverted: TensorPair = { ...pair, b: pair.a, by: 'name', transform: { kind: 'identity' } };
      expect(result).toEqual(await deltaSpectrum(hf, memorySource(child, 'child'), unconverted, { sketch: 4 }));
    });

    it('left permuted (no head count, so no unpermute), the delta is full rank: the unpermute is doing the work', async () => {
      const gguf = memorySource(llamaToGguf(child), 'child.gguf', { format: 'gguf', metadata: { 'general.architecture': 'qwen2' } });
      const pair = (await matchTensors(hf, gguf)).pairs.find((p) => p.a.name === name)!;
      expect(pair.transform).toEqual({ kind: 'identity' });
      expect((await deltaSpectrum(hf, gguf, pair, { sketch: 4 })).effectiveRank).toBeNull();
    });
  });

  describe('refusals (RangeError: rank unknown)', () => {
    it('a transposed pair', async () => {
      await expect(deltaSpectrum(exact.a, exact.b, { ...exact.pair, transform: { kind: 'transpose' } })).rejects.toThrow(/transposed/);
    });

    it('0-d and 1-d tensors', async () => {
      for (const shape of [[], [8]]) {
        const values = new Float32Array(shape.length === 0 ? 1 : 8);
        const { a, b, pair } = models(shape, values, values);
        await expect(deltaSpectrum(a, b, pair)).rejects.toThrow(RangeError);
      }
    });

    it('a workspace over the limit, naming the tensor and the sizes', async () => {
      await expect(deltaSpectrum(exact.a, exact.b, exact.pair, { maxWorkspaceBytes: 1024 })).rejects.toThrow(/^w: a rank-32 sketch of a 256 x 64 delta needs/);
    });

    it('a delta holding NaN', async () => {
      const child = addInFloat32(base, rank3);
      child[5 * cols + 3] = Number.NaN;
      const { a, b, pair } = models([rows, cols], base, child);
      await expect(deltaSpectrum(a, b, pair)).rejects.toThrow(/row 5 of the delta holds NaN/);
    });

    it('a sketch below 1 or a tolerance outside [0, 1)', async () => {
      await expect(deltaSpectrum(exact.a, exact.b, exact.pair, { sketch: 0 })).rejects.toThrow(RangeError);
      await expect(deltaSpectrum(exact.a, exact.b, exact.pair, { tolerance: 1 })).rejects.toThrow(RangeError);
    });
  });
});
