/**
 * The unit-matching independence test (issue 17). Fixtures: scripts/make_independence_fixtures.py
 * (24 MLPs trained from their own seeds, 6 fine-tuned children, and the statistic T of some pairs
 * computed in float64 numpy) and scripts/make_lm_fixtures.py (tiny Llama parents, children and
 * their GGUF copies with llama.cpp's rotary row order).
 *
 * Calibration is checked the way a user relies on it: over all 276 pairs of the independent models,
 * p <= 0.01 happens no more often than chance allows for an exact test (the binomial allowance) and
 * the p-values as a whole do not depart from Uniform(0, 1) (Kolmogorov-Smirnov at 0.01). Each pair
 * has its own seed, derived from one base, so the pairs' Monte Carlo draws are not shared. With
 * B = 999 a p-value is a multiple of 1/1000, a discreteness far below what a KS test on 276 values
 * can see (its critical distance at 0.01 is about 0.1).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveSeed } from '../../../src/base/random.js';
import { chooseUnits, type IndependenceTest, independenceTest } from '../../../src/lineage/independence/unit-test.js';
import { openModelSource } from '../../../src/source/index.js';
import { memorySource } from '../../../src/source/memory.js';
import type { ModelSource } from '../../../src/source/types.js';
import { float32Tensor, type Weights } from '../../../src/tensor.js';
import { binomialAllowance, binomialCdf, ksPValue, ksStatisticUniform } from './calibration-stats.js';

const ROOT = join(import.meta.dirname, '..', '..', '..', 'fixtures');
const DIR = join(ROOT, 'independence');
const LM = join(ROOT, 'lm');

interface Manifest {
  independent: string[];
  derived: { parent: string; child: string; relative_l2: number }[];
  statistics: { a: string; b: string; statistic: number }[];
}

const MANIFEST = JSON.parse(readFileSync(join(DIR, 'manifest.json'), 'utf8')) as Manifest;
const BASE_SEED = 1717;

const sources = new Map<string, ModelSource>();
beforeAll(async () => {
  const names = [...MANIFEST.independent, ...MANIFEST.derived.map((d) => d.child)];
  for (const name of names) sources.set(name, await openModelSource(join(DIR, `${name}.safetensors`)));
});
afterAll(async () => {
  for (const s of sources.values()) await s.close();
});

function mlp(name: string): ModelSource {
  const s = sources.get(name);
  if (s === undefined) throw new Error(`no fixture ${name}`);
  return s;
}

async function withLm<T>(a: string, b: string, run: (sa: ModelSource, sb: ModelSource) => Promise<T>): Promise<T> {
  const sa = await openModelSource(join(LM, a));
  try {
    const sb = await openModelSource(join(LM, b));
    try {
      return await run(sa, sb);
    } finally {
      await sb.close();
    }
  } finally {
    await sa.close();
  }
}

describe('calibration helpers', () => {
  it('binomial CDF and the Kolmogorov tail agree with textbook values', () => {
    expect(binomialCdf(0, 10, 0.5)).toBeCloseTo(1 / 1024, 12);
    expect(binomialCdf(5, 10, 0.5)).toBeCloseTo(638 / 1024, 12);
    // Kolmogorov's critical values: Q(1.358) = 0.05, Q(1.628) = 0.01 (lambda at n -> infinity).
    expect(ksPValue(1.358 / Math.sqrt(1e8), 1e8)).toBeCloseTo(0.05, 3);
    expect(ksPValue(1.628 / Math.sqrt(1e8), 1e8)).toBeCloseTo(0.01, 3);
    expect(ksStatisticUniform([0.5])).toBe(0.5);
  });
});

describe('independenceTest on small MLPs', () => {
  it('computes the statistic numpy computes, using fc1 and fc2 and leaving out the head and biases', async () => {
    for (const { a, b, statistic } of MANIFEST.statistics) {
      const r = await independenceTest(mlp(a), mlp(b), { permutations: 9 });
      expect(r.statistic).toBeCloseTo(statistic, 9);
      expect(r.matrices).toBe(2);
      expect(r.units).toBe(128 + 64);
    }
    const r = await independenceTest(mlp('mlp-i00'), mlp('mlp-i01'), { permutations: 9 });
    const reasons = new Map(r.skipped.map((s) => [s.a_name, s.reason]));
    expect(reasons.get('head.weight')).toMatch(/output head/);
    expect(reasons.get('fc1.bias')).toMatch(/1-d/);
    expect(r.skipped).toHaveLength(4);
  });

  it('is calibrated over the 276 pairs of 24 independently trained models', async () => {
    const names = MANIFEST.independent;
    const p: number[] = [];
    for (let i = 0; i < names.length; i++) {
      for (let j = i + 1; j < names.length; j++) {
        const r = await independenceTest(mlp(names[i]), mlp(names[j]), { seed: deriveSeed(BASE_SEED, `${names[i]}|${names[j]}`) });
        p.push(r.pValue);
      }
    }
    expect(p).toHaveLength(276);
    // An exact test rejects at 0.01 a Binomial(276, 0.01) number of times (pairs sharing a model are
    // independent given it, so the count's variance is the binomial one); more than the allowance
    // happens with probability under 1%.
    const allowance = binomialAllowance(p.length, 0.01, 0.99);
    expect(allowance).toBe(7);
    const rejected01 = p.filter((x) => x <= 0.01).length;
    const rejected05 = p.filter((x) => x <= 0.05).length;
    expect(rejected01).toBeLessThanOrEqual(allowance);
    expect(rejected05).toBeLessThanOrEqual(binomialAllowance(p.length, 0.05, 0.99));
    const d = ksStatisticUniform(p);
    expect(ksPValue(d, p.length)).toBeGreaterThan(0.01);
    console.info(
      `calibration: ${rejected01}/276 at 0.01 (allowance ${allowance}), ${rejected05}/276 at 0.05, KS D = ${d.toFixed(4)}, p = ${ksPValue(d, p.length).toFixed(3)}`,
    );
  });

  it('gives every parent -> fine-tuned child pair p <= 1e-3 (no permutation reaches T)', async () => {
    for (const { parent, child } of MANIFEST.derived) {
      const r = await independenceTest(mlp(parent), mlp(child), { seed: deriveSeed(BASE_SEED, `${parent}|${child}`) });
      expect(r.pValue, `${parent} -> ${child}`).toBeLessThanOrEqual(1e-3);
      // Power, not just significance: the fine-tune keeps its units far above the permutation null.
      expect(r.statistic).toBeGreaterThan(1);
    }
  });

  it('pairs a matrix stored transposed with its rows read as columns', async () => {
    const child = mlp('mlp-c00');
    const weights: Weights = new Map();
    for (const t of child.tensors) {
      const v = await child.readFloat32(t.name);
      if (t.shape.length !== 2) weights.set(t.name, float32Tensor(t.shape, v));
      else {
        const [r, c] = t.shape;
        const out = new Float32Array(r * c);
        for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = v[i * c + j];
        weights.set(t.name, float32Tensor([c, r], out));
      }
    }
    const transposed = memorySource(weights, 'mlp-c00-transposed');
    const plain = await independenceTest(mlp('mlp-i00'), child, { permutations: 99 });
    const r = await independenceTest(mlp('mlp-i00'), transposed, { permutations: 99, blockBytes: 1024 });
    expect(r.matrices).toBe(2);
    expect(r.statistic).toBeCloseTo(plain.statistic, 12);
    expect(r.pValue).toBe(plain.pValue);
  });

  it('is reproducible for a seed, and other seeds move p by Monte Carlo noise only', async () => {
    const run = (seed: number): Promise<IndependenceTest> => independenceTest(mlp('mlp-i03'), mlp('mlp-i07'), { seed });
    expect(await run(5)).toEqual(await run(5));
    const runs = await Promise.all([1, 2, 3, 4, 5, 6].map(run));
    // Every row is used (fewer than 256): T does not depend on the seed, only the null draws do.
    expect(new Set(runs.map((r) => r.statistic)).size).toBe(1);
    const ps = runs.map((r) => r.pValue);
    const mean = ps.reduce((s, x) => s + x, 0) / ps.length;
    const sd = Math.sqrt((mean * (1 - mean)) / 999);
    expect(new Set(ps).size).toBeGreaterThan(1);
    for (const x of ps) expect(Math.abs(x - mean)).toBeLessThan(5 * sd + 2e-3);
  });

  it('samples a seeded subset of units when a matrix has more rows than maxUnits', async () => {
    const a = await independenceTest(mlp('mlp-i00'), mlp('mlp-c00'), { maxUnits: 16, seed: 1 });
    const b = await independenceTest(mlp('mlp-i00'), mlp('mlp-c00'), { maxUnits: 16, seed: 2 });
    expect(a.units).toBe(32);
    expect(a.statistic).not.toBe(b.statistic);
    expect(a.pValue).toBeLessThanOrEqual(1e-3);
    expect(b.pValue).toBeLessThanOrEqual(1e-3);
  });

  it('gives NaN and says why when no matrix pair is eligible', async () => {
    const r = await withLm('llama-p1', 'llama-p2', (sa) => independenceTest(sa, mlp('mlp-i00')));
    expect(r.pValue).toBeNaN();
    expect(r.matrices).toBe(0);
    expect(r.skipped.at(-1)?.reason).toMatch(/no eligible matrix pair/);
  });
});

describe('independenceTest on the tiny Llama fixtures', () => {
  it('finds the fine-tune, across formats and rotary row orders, and not the other parent', async () => {
    const child = await withLm('llama-p1', 'llama-c1', (a, b) => independenceTest(a, b));
    expect(child.pValue).toBeLessThanOrEqual(1e-3);
    // 2 layers x (q, k, v, o, gate, up, down); embeddings, the LM head and the norms are left out.
    expect(child.matrices).toBe(14);
    const other = await withLm('llama-p1', 'llama-p2', (a, b) => independenceTest(a, b));
    expect(other.pValue).toBeGreaterThan(0.01);
    const gguf = await withLm('llama-p1', 'llama-c1.q4_0.gguf', (a, b) => independenceTest(a, b));
    expect(gguf.pValue).toBeLessThanOrEqual(1e-3);
    expect(gguf.matrices).toBe(14);
  });

  it('uses at most maxMatrices matrices, spread from the first layer to the last', async () => {
    const r = await withLm('llama-p1', 'llama-c1', (a, b) => independenceTest(a, b, { maxMatrices: 4, permutations: 99 }));
    expect(r.matrices).toBe(4);
    const spread = r.skipped.filter((s) => /spread evenly/.test(s.reason)).map((s) => s.a_name);
    expect(spread).toHaveLength(10);
    const eligible = child14Names();
    const used = eligible.filter((n) => !spread.includes(n));
    expect(used.some((n) => n.includes('layers.0.'))).toBe(true);
    expect(used.some((n) => n.includes('layers.1.'))).toBe(true);
  });

  it('reads a GGUF copy row for row in Hugging Face order (rotary unpermute)', async () => {
    // The same model: every unit meets itself, so T is 14 up to f16 rounding; a wrong rotary row map would pair q/k units with other units.
    const same = await withLm('llama-c1', 'llama-c1.f16.gguf', (a, b) => independenceTest(a, b, { permutations: 99 }));
    expect(same.matrices).toBe(14);
    expect(same.statistic).toBeGreaterThan(14 - 1e-4);
  });
});

/** The 14 weight matrices of the tiny Llama fixtures whose rows are hidden units. */
function child14Names(): string[] {
  const stems = ['self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj', 'self_attn.o_proj', 'mlp.gate_proj', 'mlp.up_proj', 'mlp.down_proj'];
  return [0, 1].flatMap((l) => stems.map((s) => `model.layers.${l}.${s}.weight`));
}

describe('chooseUnits', () => {
  it('takes a seeded subset of distinct rows, ascending, or every row when there are few', () => {
    const u = chooseUnits(1000, 256, 7);
    expect(u).toHaveLength(256);
    expect(new Set(u).size).toBe(256);
    for (let i = 1; i < u.length; i++) expect(u[i]).toBeGreaterThan(u[i - 1]);
    expect(u[255]).toBeLessThan(1000);
    expect(chooseUnits(1000, 256, 7)).toEqual(u);
    expect(chooseUnits(1000, 256, 8)).not.toEqual(u);
    expect(Array.from(chooseUnits(5, 256, 7))).toEqual([0, 1, 2, 3, 4]);
  });
});
