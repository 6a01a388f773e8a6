/**
 * `lineage compare` on small language-model families stored in every form a user meets: Hugging
 * Face folders (float32, bfloat16, sharded), GGUF F16 / Q8_0 / Q4_0 with llama.cpp's names and
 * rotary row order, and GPT-2 with Conv1D weights and a tied head. Fixtures and their float64
 * expected distances: scripts/make_lm_fixtures.py (torch + numpy, independent of this code).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareModels } from '../../src/lineage/weights/compare.js';
import type { ModelComparison } from '../../src/lineage/weights/types.js';
import { openModelSource } from '../../src/source/index.js';
import { lineage } from '../cli/run-cli.js';

const DIR = join(import.meta.dirname, '..', '..', 'fixtures', 'lm');

interface Manifest {
  parents: Record<string, string>;
  forms: Record<string, { model: string; parameters: number; norm: number }>;
  distances: { a: string; b: string; distance: number }[];
}

const MANIFEST = JSON.parse(readFileSync(join(DIR, 'manifest.json'), 'utf8')) as Manifest;

async function compare(parent: string, child: string): Promise<ModelComparison> {
  const a = await openModelSource(join(DIR, parent));
  try {
    const b = await openModelSource(join(DIR, child));
    try {
      return await compareModels(a, b);
    } finally {
      await b.close();
    }
  } finally {
    await a.close();
  }
}

const cache = new Map<string, Promise<ModelComparison>>();
function compared(parent: string, child: string): Promise<ModelComparison> {
  const key = `${parent}\n${child}`;
  let result = cache.get(key);
  if (result === undefined) {
    result = compare(parent, child);
    cache.set(key, result);
  }
  return result;
}

/** The stored form's kind: '' for the float32 folder, else '-bf16', '-sharded', '.f16.gguf', ... */
function kindOf(form: string): string {
  return form.slice(MANIFEST.forms[form].model.length);
}

const LLAMA_PARENTS = ['llama-p1', 'llama-p2'];
const llamaForms = Object.keys(MANIFEST.forms).filter((f) => f.startsWith('llama-'));
const childForms = llamaForms.filter((f) => MANIFEST.parents[MANIFEST.forms[f].model] !== undefined);
const parentForms = llamaForms.filter((f) => LLAMA_PARENTS.includes(MANIFEST.forms[f].model));
/** Parent kinds: each P1 form against P2 in the same kind, or P2's float32 folder where P2 has no such copy (sharded). */
const parentKinds = [...new Set(parentForms.map(kindOf))];
function formOf(model: string, kind: string): string {
  const form = model + kind;
  return MANIFEST.forms[form] === undefined ? model : form;
}

/** Tensors per Llama fixture: embedding, final norm, head, and 9 per layer for 2 layers. */
const LLAMA_TENSORS = 3 + 9 * 2;

describe('compare on a Llama family in every stored form', () => {
  it('has the forms the issue asks for', () => {
    expect(childForms.sort()).toEqual(['llama-c1', 'llama-c1-bf16', 'llama-c1.f16.gguf', 'llama-c1.q4_0.gguf', 'llama-c1.q8_0.gguf', 'llama-c2']);
    expect(parentKinds.sort()).toEqual(['', '-sharded', '.f16.gguf', '.q4_0.gguf', '.q8_0.gguf']);
  });

  for (const child of childForms) {
    const truth = MANIFEST.parents[MANIFEST.forms[child].model];
    for (const kind of parentKinds) {
      const candidates = LLAMA_PARENTS.map((p) => formOf(p, kind));
      it(`${child}: the true parent is nearest among ${candidates.join(', ')}`, async () => {
        const results = await Promise.all(candidates.map((p) => compared(p, child)));
        const nearest = candidates[results.findIndex((r) => r.distance === Math.min(...results.map((s) => s.distance ?? Number.POSITIVE_INFINITY)))];
        expect(MANIFEST.forms[nearest].model).toBe(truth);
      });
    }
  }

  for (const { a, b, distance } of MANIFEST.distances.filter((d) => d.a.startsWith('llama-'))) {
    it(`${a} -> ${b}: every tensor paired, distance ${distance.toFixed(6)} as numpy computes it`, async () => {
      const r = await compared(a, b);
      expect(r.unmatched).toEqual([]);
      expect(r.excluded).toEqual([]);
      expect(r.lowCoverage).toBe(false);
      expect(r.coverage).toEqual({ a: 1, b: 1 });
      expect(r.matchedTensors).toBe(LLAMA_TENSORS);
      expect(r.matchedParameters).toBe(MANIFEST.forms[a].parameters);
      // Both sides hold float32 values of the same numbers; only the order of float64 sums differs.
      expect(Math.abs((r.distance ?? Number.NaN) - distance)).toBeLessThanOrEqual(1e-9 * distance + 1e-12);
      // GGUF's rotary rows are put back in Hugging Face order only where one side is GGUF and the other is not.
      const ropeUndone = r.tensors.filter((t) => t.transform === 'rope-unpermute').map((t) => t.aName);
      const oneSideGguf = a.endsWith('.gguf') !== b.endsWith('.gguf');
      expect(ropeUndone).toHaveLength(oneSideGguf ? 4 : 0);
    });
  }
});

/**
 * Bounds on ||copy - original|| / ||original|| derived from each format's rounding, not fitted:
 *   bfloat16, round to nearest: 8 significant bits, so |e| <= 2^-8 |x| (bf16 keeps float32's
 *     exponent range; below 2^-126 the spacing is 2^-133, so |e| <= 2^-134 there).
 *   F16: 11 significant bits, |e| <= 2^-11 |x| for |x| >= 2^-14; below, subnormal spacing 2^-24, |e| <= 2^-25.
 *     Over N elements: ||e|| <= 2^-p ||x|| + sqrt(N) * (absolute floor).
 *   Q8_0 (32-value blocks, d = f16(max|x| / 127), q = round(x / d)): |e| <= d / 2 for every element
 *     (the largest one too, as f16 rounding moves 127 d by at most 127 d 2^-11 < d / 2), and the block
 *     holds max|x| = 127 d / (1 +- 2^-11), so ||e_block|| / ||x_block|| <= sqrt(32) (1 + 2^-11) / 254.
 *   Q4_0 (d = f16(-x_max / 8), q = clamp(floor(x / d + 8.5), 0, 15) - 8): the largest element maps to
 *     -8 d (error <= 8 |d| 2^-11); the others err by <= |d| / 2 unless x / d > 7.5 where the clamp at 7
 *     allows up to |d|, but such an element also adds more than (7.5 |d|)^2 to ||x||^2. The worst block
 *     is the one with no such element: ||e||^2 <= 31 (|d| / 2)^2 (1 + 2^-11)^2 + (8 |d| 2^-11)^2 against
 *     ||x||^2 >= (8 |d|)^2, i.e. a ratio <= sqrt(31) / 16 (1 + 2^-8). Norms (1-d) are stored as F32.
 * Block bounds hold for the whole model, as sum ||e_b||^2 <= c^2 sum ||x_b||^2.
 */
function roundingBound(kind: string, form: string): number {
  const { parameters, norm } = MANIFEST.forms[MANIFEST.forms[form].model];
  const floor = (absolute: number) => (Math.sqrt(parameters) * absolute) / norm;
  switch (kind) {
    case '-bf16':
      return 2 ** -8 + floor(2 ** -134);
    case '.f16.gguf':
      return 2 ** -11 + floor(2 ** -25);
    case '.q8_0.gguf':
      return (Math.sqrt(32) * (1 + 2 ** -11)) / 254;
    case '.q4_0.gguf':
      return (Math.sqrt(31) / 16) * (1 + 2 ** -8);
    case '-sharded':
      return 0;
    default:
      throw new Error(`no bound for ${kind}`);
  }
}

describe('a copy against its float32 original is within its format\u2019s rounding', () => {
  const copies = llamaForms.filter((f) => kindOf(f) !== '');
  it('covers every kind of copy', () => {
    expect([...new Set(copies.map(kindOf))].sort()).toEqual(['-bf16', '-sharded', '.f16.gguf', '.q4_0.gguf', '.q8_0.gguf']);
  });
  for (const copy of copies) {
    const original = MANIFEST.forms[copy].model;
    it(`${original} -> ${copy}`, async () => {
      const r = await compared(original, copy);
      expect(r.lowCoverage).toBe(false);
      expect(r.unmatched).toEqual([]);
      expect(r.distance).toBeLessThanOrEqual(roundingBound(kindOf(copy), copy));
      // A lossy copy is still a different file: zero would mean the copy was never decoded from its own bytes.
      if (kindOf(copy) !== '-sharded') expect(r.distance).toBeGreaterThan(0);
    });
  }
});

describe('compare on GPT-2 (Conv1D weights, tied head)', () => {
  it('a child is nearer its parent: compare G1 GC1 < compare G2 GC1', async () => {
    const [g1, g2] = await Promise.all([compared('gpt2-g1', 'gpt2-gc1'), compared('gpt2-g2', 'gpt2-gc1')]);
    expect(g1.distance).toBeLessThan((g2.distance ?? 0) / 2);
  });

  for (const { a, b, distance } of MANIFEST.distances.filter((d) => d.a.startsWith('gpt2-'))) {
    it(`${a} -> ${b}: the tied head counted once, distance as numpy computes it`, async () => {
      const r = await compared(a, b);
      expect(r.unmatched).toEqual([]);
      expect(r.excluded).toEqual([]);
      expect(r.coverage).toEqual({ a: 1, b: 1 });
      expect(r.totalParameters).toEqual({ a: MANIFEST.forms[a].parameters, b: MANIFEST.forms[b].parameters });
      expect(r.tensors.some((t) => t.aName === 'transformer.h.0.attn.c_attn.weight' && t.transform === 'identity')).toBe(true);
      expect(Math.abs((r.distance ?? Number.NaN) - distance)).toBeLessThanOrEqual(1e-9 * distance + 1e-12);
    });
  }

  it('the CLI prints the same answer: lineage compare gpt2-g1 gpt2-gc1 --json', async () => {
    const { code, stdout, stderr } = await lineage('compare', join(DIR, 'gpt2-g1'), join(DIR, 'gpt2-gc1'), '--json');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const json = JSON.parse(stdout) as { low_coverage: boolean; unmatched: unknown[]; distance: number };
    const expected = MANIFEST.distances.find((d) => d.a === 'gpt2-g1' && d.b === 'gpt2-gc1')?.distance ?? Number.NaN;
    expect(json.low_coverage).toBe(false);
    expect(json.unmatched).toEqual([]);
    expect(Math.abs(json.distance - expected)).toBeLessThanOrEqual(1e-9 * expected);
  }, 30_000);
});
