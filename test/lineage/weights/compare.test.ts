import { describe, expect, it } from 'vitest';
import { compareModels } from '../../../src/lineage/weights/compare.js';
import { pairRelation, relationJson } from '../../../src/lineage/relations/relation.js';
import { pairPValue } from '../../../src/lineage/independence/pair-p-value.js';
import { comparisonJson } from '../../../src/lineage/weights/json.js';
import { memorySource } from '../../../src/source/memory.js';
import type { ModelSource } from '../../../src/source/types.js';
import { type Weights, float32Tensor, toFloat32 } from '../../../src/tensor.js';
import { syntheticStateDict } from '../../../src/testing/synthetic-weights.js';
import { expectedDistances, perturbed } from './models.js';
import { COMPARE_JSON_KEYS } from './documented-keys.js';

/** Tensors of every rank the readers produce: 0-d, 1-d, 2-d and a 4-d convolution kernel. */
const SPECS = [
  { name: 'scale', shape: [], kind: 'embedding' as const },
  { name: 'conv.weight', shape: [6, 3, 3, 3] },
  { name: 'conv.bias', shape: [6] },
  { name: 'fc.weight', shape: [40, 54] },
  { name: 'fc.bias', shape: [40] },
];

function pairsOf(a: Weights, b: Weights, names: readonly string[]): [Float32Array, Float32Array][] {
  return names.map((n) => [toFloat32(a.get(n)!), toFloat32(b.get(n)!)]);
}

/** Wraps a source to record the size of every read, to check that nothing is read whole. */
function recording(source: ModelSource): { source: ModelSource; largestRead: () => number; wholeReads: string[] } {
  let largest = 0;
  const wholeReads: string[] = [];
  const wrapped: ModelSource = {
    ...source,
    tensors: source.tensors,
    async readFloat32(name) {
      wholeReads.push(name);
      return source.readFloat32(name);
    },
    async readRows(name, start, count) {
      const values = await source.readRows(name, start, count);
      largest = Math.max(largest, values.length * 4);
      return values;
    },
    close: () => source.close(),
  };
  return { source: wrapped, largestRead: () => largest, wholeReads };
}

describe('compareModels: the numbers', () => {
  const parent = syntheticStateDict(SPECS, 21);
  const child = perturbed(parent, 22, 0.03);
  const names = SPECS.map((s) => s.name);

  it('per-tensor rel_l2 and cos, and the overall distance, equal the float64 formulas whatever the block size', async () => {
    const expected = expectedDistances(pairsOf(parent, child, names));
    for (const blockBytes of [4, 12, 1000, 1 << 24]) {
      const result = await compareModels(memorySource(parent, 'a'), memorySource(child, 'b'), { blockBytes });
      expect(result.tensors.map((t) => t.aName)).toEqual(names);
      result.tensors.forEach((t, i) => {
        expect(t.relL2, `${t.aName} at ${blockBytes} B`).toBeCloseTo(expected.relL2[i], 12);
        expect(t.cos, `${t.aName} at ${blockBytes} B`).toBeCloseTo(expected.cos[i], 12);
      });
      expect(result.distance).toBeCloseTo(expected.distance, 12);
      expect(result.distance).toBeGreaterThan(0);
    }
  });

  it('reads large tensors by row blocks, never whole, within the block budget', async () => {
    const a = recording(memorySource(parent, 'a'));
    const b = recording(memorySource(child, 'b'));
    const blockBytes = 54 * 4 * 3; // three rows of fc.weight
    await compareModels(a.source, b.source, { blockBytes });
    for (const r of [a, b]) {
      expect(r.largestRead()).toBeLessThanOrEqual(blockBytes);
      expect(r.wholeReads).toEqual(['scale']); // only the 0-d tensor, which has no rows
    }
  });

  it('identical models are at distance 0 with cosine 1; the direction matters (relative to a)', async () => {
    const same = await compareModels(memorySource(parent, 'a'), memorySource(parent, 'b'));
    expect(same.distance).toBe(0);
    for (const t of same.tensors) expect(t.cos).toBeCloseTo(1, 12);
    const doubled: Weights = new Map(
      [...parent].map(([n, t]) => [
        n,
        float32Tensor(
          t.shape,
          toFloat32(t).map((v) => 2 * v),
        ),
      ]),
    );
    const up = await compareModels(memorySource(parent, 'a'), memorySource(doubled, 'b'));
    const down = await compareModels(memorySource(doubled, 'a'), memorySource(parent, 'b'));
    expect(up.distance).toBeCloseTo(1, 6); // ||2a - a|| / ||a||
    expect(down.distance).toBeCloseTo(0.5, 6); // ||a - 2a|| / ||2a||
  });

  it('a zero tensor has no relative distance (null) and non-finite values give null, never NaN in JSON', async () => {
    const a: Weights = new Map([
      ['zero', float32Tensor([3])],
      ['bad', float32Tensor([2], [1, 2])],
    ]);
    const b: Weights = new Map([
      ['zero', float32Tensor([3], [1, 0, 0])],
      ['bad', float32Tensor([2], [Number.NaN, 2])],
    ]);
    const result = await compareModels(memorySource(a, 'a'), memorySource(b, 'b'));
    expect(result.tensors.map((t) => [t.relL2, t.cos])).toEqual([
      [null, null],
      [null, null],
    ]);
    expect(result.distance).toBeNull();
    expect(JSON.stringify(comparisonJson(result))).not.toMatch(/NaN|Infinity/);
  });

  it('coverage counts each model; under half of either is low coverage', async () => {
    const big: Weights = new Map([...parent, ['extra.weight', float32Tensor([100, 50])]]);
    const result = await compareModels(memorySource(parent, 'a'), memorySource(big, 'b'));
    const parentSize = SPECS.reduce((n, s) => n + s.shape.reduce((x, y) => x * y, 1), 0);
    expect(result.matchedParameters).toBe(parentSize);
    expect(result.totalParameters).toEqual({ a: parentSize, b: parentSize + 5000 });
    expect(result.coverage.a).toBe(1);
    expect(result.coverage.b).toBeCloseTo(parentSize / (parentSize + 5000), 12);
    expect(result.lowCoverage).toBe(true);
    expect(result.unmatched).toEqual([{ name: 'extra.weight', side: 'b' }]);
    const full = await compareModels(memorySource(parent, 'a'), memorySource(child, 'b'));
    expect(full.lowCoverage).toBe(false);
  });

  it('the JSON form has exactly the documented keys', async () => {
    const [a, b] = [memorySource(parent, 'a'), memorySource(child, 'b')];
    const result = await compareModels(a, b);
    const json = comparisonJson(result, relationJson(await pairRelation(a, b, result)), await pairPValue(a, b, { candidate: 'a', child: 'b' }));
    expect(Object.keys(json).sort()).toEqual([...COMPARE_JSON_KEYS].sort());
    expect(json.version).toBe(1);
    expect(Object.keys(json.tensors[0]).sort()).toEqual(['a_name', 'b_name', 'cos', 'rel_l2']);
    expect(json.seconds).toBeGreaterThanOrEqual(0);
  });
});
