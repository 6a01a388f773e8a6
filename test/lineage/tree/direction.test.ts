import { describe, it, expect } from 'vitest';
import { kurtosis, weightKurtosis } from '../../../src/lineage/tree/kurtosis.js';
import {
  centralityEvidence,
  directionEvidence,
  familyMeanDistance,
  fitEvidence,
  kurtosisEvidence,
  parseDirectionWeights,
  type DirectionContext,
} from '../../../src/lineage/tree/direction.js';
import { makeTensor } from '../../../src/tensor.js';

describe('kurtosis', () => {
  it('matches hand-computed moment ratios', () => {
    expect(kurtosis([1, -1, 1, -1])).toBe(1);
    // mean 0, m2 = 8/5, m4 = 32/5: 6.4 / 2.56 = 2.5
    expect(kurtosis([0, 0, 0, 2, -2])).toBeCloseTo(2.5, 12);
    // shifting does not matter (moments about the mean)
    expect(kurtosis([10, 10, 10, 12, 8])).toBeCloseTo(2.5, 12);
    // a fine uniform grid tends to 9/5
    const grid = Array.from({ length: 100001 }, (_, i) => i / 100000 - 0.5);
    expect(kurtosis(grid)).toBeCloseTo(1.8, 4);
    expect(kurtosis([3, 3, 3])).toBeNaN();
  });

  it('keeps matrices only', () => {
    const big = makeTensor(
      'float32',
      [8, 16],
      new Float32Array(128).map((_, i) => (i % 2 ? 1 : -1)),
    );
    const bias = makeTensor(
      'float32',
      [128],
      new Float32Array(128).map((_, i) => i),
    );
    const k = weightKurtosis(
      new Map([
        ['fc.weight', big],
        ['fc.bias', bias],
      ]),
      ['fc.weight', 'fc.bias'],
    );
    expect([...k]).toEqual([['fc.weight', 1]]);
  });
});

function context(n: number, distances: number[][], score?: number[][], kurt?: number[]): DirectionContext {
  const distance = new Float64Array(distances.flat());
  return {
    n,
    score: score ? new Float64Array(score.flat()) : new Float64Array(n * n),
    distance,
    family: new Int32Array(n),
    kurtosis: (kurt ?? new Array(n).fill(3)).map((k) => new Map([['w', k]])),
  };
}

describe('direction evidence', () => {
  it('fit: score of a as parent of b minus the reverse', () => {
    const ctx = context(
      2,
      [
        [0, 1],
        [1, 0],
      ],
      [
        [0, -0.2],
        [-0.5, 0],
      ],
    );
    // score[p][c]: 0 -> 1 scores -0.2, 1 -> 0 scores -0.5
    expect(fitEvidence(ctx, 0, 1)).toBeCloseTo(0.3, 12);
    expect(fitEvidence(ctx, 1, 0)).toBeCloseTo(-0.3, 12);
  });

  it('kurtosis: mean log ratio over shared tensors, positive when b moved further', () => {
    const a = new Map([
      ['x', 2],
      ['y', 4],
    ]);
    const b = new Map([
      ['x', 4],
      ['y', 4],
      ['z', 9],
    ]);
    expect(kurtosisEvidence(a, b)).toBeCloseTo(Math.log(2) / 2, 12);
    expect(kurtosisEvidence(b, a)).toBeCloseTo(-Math.log(2) / 2, 12);
  });

  it('centrality: the hub of a star is older than its leaves', () => {
    // star: 0 joined to 1, 2, 3 at distance 1; leaves 2 apart
    const d = [
      [0, 1, 1, 1],
      [1, 0, 2, 2],
      [1, 2, 0, 2],
      [1, 2, 2, 0],
    ];
    const mean = familyMeanDistance(context(4, d));
    expect([...mean]).toEqual([1, 5 / 3, 5 / 3, 5 / 3]);
    expect(centralityEvidence(mean, 0, 1)).toBeCloseTo(2 / 3, 12);
  });

  it('combines heuristics into antisymmetric values in [-1, 1]', () => {
    const d = [
      [0, 1, 1],
      [1, 0, 2],
      [1, 2, 0],
    ];
    const ctx = context(
      3,
      d,
      [
        [0, -1, -1.1],
        [-1.2, 0, -2],
        [-1, -2, 0],
      ],
      [2, 2.2, 2.4],
    );
    const e = directionEvidence(ctx, { kurtosis: 1, fit: 1, centrality: 2 });
    for (let a = 0; a < 3; a++) {
      for (let b = 0; b < 3; b++) {
        expect(e[a * 3 + b]).toBeCloseTo(-e[b * 3 + a], 12);
        expect(Math.abs(e[a * 3 + b])).toBeLessThanOrEqual(1);
      }
    }
    // kurtosis alone: tanh(raw / rms) with rms over the three pairs
    const raw = [Math.log(1.1), Math.log(1.2), Math.log(2.4 / 2.2)];
    const rms = Math.sqrt(raw.reduce((s, r) => s + r * r, 0) / 3);
    const k = directionEvidence(ctx, { kurtosis: 1 });
    expect(k[0 * 3 + 1]).toBeCloseTo(Math.tanh(raw[0] / rms), 12);
    expect(k[2 * 3 + 1]).toBeCloseTo(-Math.tanh(raw[2] / rms), 12);
    expect([...directionEvidence(ctx, {})].every((v) => v === 0)).toBe(true);
    // a negative weight turns a heuristic round
    const flipped = directionEvidence(ctx, { kurtosis: -1 });
    expect(flipped[0 * 3 + 1]).toBeCloseTo(-k[0 * 3 + 1], 12);
  });

  it('parses heuristic lists', () => {
    expect(parseDirectionWeights('kurtosis')).toEqual({ kurtosis: 1 });
    expect(parseDirectionWeights('kurtosis=2, fit=0.5')).toEqual({ kurtosis: 2, fit: 0.5 });
    expect(parseDirectionWeights('none')).toEqual({});
    expect(() => parseDirectionWeights('age')).toThrow(/unknown direction heuristic 'age'/);
    expect(parseDirectionWeights('fit=-1')).toEqual({ fit: -1 });
    expect(() => parseDirectionWeights('fit=x')).toThrow(/must be a number/);
  });
});
