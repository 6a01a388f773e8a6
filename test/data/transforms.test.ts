import { describe, it, expect } from 'vitest';
import { rotate } from '../../src/data/transforms/rotate.js';
import { permuteLabels } from '../../src/data/transforms/permute-labels.js';
import { classSubset } from '../../src/data/transforms/class-subset.js';
import { invert } from '../../src/data/transforms/invert.js';
import { addNoise } from '../../src/data/transforms/noise.js';
import { fewShot } from '../../src/data/transforms/few-shot.js';
import { imbalanced, imbalancedCounts } from '../../src/data/transforms/imbalanced.js';
import { normalize, computeNormalization } from '../../src/data/normalize.js';
import type { Dataset } from '../../src/data/types.js';
import { bytesOf, labelsWithCounts, syntheticDataset } from './synthetic.js';

/** Distinct value per (example, channel, row, col), so every pixel can be traced. */
const traced = (labels: number[], shape: [number, number, number]): Dataset =>
  syntheticDataset(labels, shape, (i, ch, r, c) => (i * 1000 + ch * 100 + r * 10 + c) / 10000);

const at = (ds: Dataset, i: number, ch: number, r: number, c: number): number => {
  const [C, H, W] = ds.shape;
  return ds.inputs[((i * C + ch) * H + r) * W + c];
};

function onePixel(h: number, w: number, r: number, c: number): Dataset {
  return syntheticDataset([0], [1, h, w], (_, __, rr, cc) => (rr === r && cc === c ? 1 : 0));
}

function nonzero(ds: Dataset): [number, number][] {
  const [, H, W] = ds.shape;
  const out: [number, number][] = [];
  for (let r = 0; r < H; r++) for (let c = 0; c < W; c++) if (at(ds, 0, 0, r, c) !== 0) out.push([r, c]);
  return out;
}

describe('rotation', () => {
  it('turns a hand-placed pixel counterclockwise by 90', () => {
    // row 1, col 4 of a 5x5 image (right edge, near the top) goes to the top edge near the left:
    // counterclockwise, (r, c) -> (W-1-c, r) = (0, 1)
    expect(nonzero(rotate(onePixel(5, 5, 1, 4), 90))).toEqual([[0, 1]]);
    expect(nonzero(rotate(onePixel(5, 5, 1, 4), 180))).toEqual([[3, 0]]);
    expect(nonzero(rotate(onePixel(5, 5, 1, 4), 270))).toEqual([[4, 3]]);
    expect(nonzero(rotate(onePixel(5, 5, 1, 4), -90))).toEqual([[4, 3]]);
  });

  it('swaps height and width of non-square images', () => {
    const ds = onePixel(2, 3, 0, 2); // top-right corner of a 2x3 image
    const r = rotate(ds, 90);
    expect(r.shape).toEqual([1, 3, 2]);
    expect(nonzero(r)).toEqual([[0, 0]]); // top-right goes to top-left
  });

  it('four quarter turns are the identity; two make 180', () => {
    const ds = traced([0, 1, 2], [2, 6, 6]);
    let r = ds;
    for (let k = 0; k < 4; k++) r = rotate(r, 90);
    expect(bytesOf(r.inputs).equals(bytesOf(ds.inputs))).toBe(true);
    expect(bytesOf(rotate(rotate(ds, 90), 90).inputs).equals(bytesOf(rotate(ds, 180).inputs))).toBe(true);
    const odd = traced([0], [1, 3, 5]);
    let q = odd;
    for (let k = 0; k < 4; k++) q = rotate(q, 90);
    expect(q.shape).toEqual([1, 3, 5]);
    expect(bytesOf(q.inputs).equals(bytesOf(odd.inputs))).toBe(true);
  });

  it('bilinear sampling at a hand-worked point', () => {
    // 3x3, centre (1,1). Output (0,0) at 45 degrees samples source (row 1 - sqrt2, col 1), between
    // row -1 (outside, 0) and row 0 with weight 2 - sqrt2 on source (0,1).
    const ds = traced([0], [1, 3, 3]);
    const r = rotate(ds, 45);
    expect(at(r, 0, 0, 0, 0)).toBeCloseTo((2 - Math.SQRT2) * at(ds, 0, 0, 0, 1), 6);
    expect(at(r, 0, 0, 1, 1)).toBeCloseTo(at(ds, 0, 0, 1, 1), 6); // the centre stays
    expect(r.name).toBe('synthetic:rot=45');
  });

  it('bilinear rotation by 90.000001 agrees with the exact quarter turn', () => {
    const ds = traced([0, 1], [1, 7, 7]);
    const exact = rotate(ds, 90);
    const sampled = rotate(ds, 90.000001);
    for (let i = 0; i < exact.inputs.length; i++) expect(sampled.inputs[i]).toBeCloseTo(exact.inputs[i], 4);
  });

  it('refuses normalised inputs', () => {
    const ds = traced([0, 1], [1, 4, 4]);
    expect(() => rotate(normalize(ds, computeNormalization(ds)), 90)).toThrow(/before normalisation/);
  });
});

describe('label transforms', () => {
  const ds = traced(labelsWithCounts([3, 3, 3, 3, 3]), [1, 2, 2]);

  it('permutation is a seeded bijection applied consistently', () => {
    const p = permuteLabels(ds, 3);
    const mapping = new Map<number, number>();
    ds.labels.forEach((y, i) => {
      const to = p.labels[i];
      if (mapping.has(y)) expect(mapping.get(y)).toBe(to);
      mapping.set(y, to);
    });
    expect(new Set(mapping.values()).size).toBe(5);
    expect([...mapping.values()].every((v) => v >= 0 && v < 5)).toBe(true);
    mapping.forEach((to, from) => expect(p.classNames?.[to]).toBe(`c${from}`));
    expect(bytesOf(p.inputs).equals(bytesOf(ds.inputs))).toBe(true);
    expect(bytesOf(permuteLabels(ds, 3).labels).equals(bytesOf(p.labels))).toBe(true);
    const others = [1, 2, 4, 5, 6].map((s) => bytesOf(permuteLabels(ds, s).labels));
    expect(others.some((b) => !b.equals(bytesOf(p.labels)))).toBe(true);
  });

  it('class subset keeps those classes and relabels them 0..k-1', () => {
    const s = classSubset(ds, [4, 1]);
    expect(s.numClasses).toBe(2);
    expect(s.classNames).toEqual(['c1', 'c4']);
    expect(s.labels.length).toBe(6);
    for (let i = 0; i < s.labels.length; i++) {
      // traced pixel (0,0) of example j is j/10 -> recover the source example and its label
      const source = Math.round(at(s, i, 0, 0, 0) * 10);
      expect(s.labels[i]).toBe(ds.labels[source] === 1 ? 0 : 1);
    }
    expect(() => classSubset(ds, [5])).toThrow(/distinct classes in 0..4/);
  });

  it('inversion is 1 - x', () => {
    const v = invert(ds);
    for (let i = 0; i < v.inputs.length; i++) expect(v.inputs[i]).toBeCloseTo(1 - ds.inputs[i], 6);
  });
});

describe('noise', () => {
  const gray = syntheticDataset(new Array(50).fill(0), [1, 20, 20], () => 0.5);

  it('has the requested sigma and no bias', () => {
    const n = addNoise(gray, 0.05, 7);
    let sum = 0;
    let sq = 0;
    for (const v of n.inputs) sum += v - 0.5;
    for (const v of n.inputs) sq += (v - 0.5) ** 2;
    const m = n.inputs.length; // 20,000 draws: standard error of the mean 0.00035
    expect(Math.abs(sum / m)).toBeLessThan(0.0015);
    expect(Math.sqrt(sq / m)).toBeGreaterThan(0.048);
    expect(Math.sqrt(sq / m)).toBeLessThan(0.052);
  });

  it('same seed gives identical bytes, another seed differs, output stays in [0, 1]', () => {
    const a = addNoise(gray, 0.5, 1);
    expect(bytesOf(addNoise(gray, 0.5, 1).inputs).equals(bytesOf(a.inputs))).toBe(true);
    expect(bytesOf(addNoise(gray, 0.5, 2).inputs).equals(bytesOf(a.inputs))).toBe(false);
    expect(a.inputs.every((v) => v >= 0 && v <= 1)).toBe(true);
    expect(bytesOf(addNoise(gray, 0, 1).inputs).equals(bytesOf(gray.inputs))).toBe(true);
  });
});

describe('few-shot and imbalanced', () => {
  const ds = traced(labelsWithCounts([40, 30, 50, 35]), [1, 3, 3]);

  const counts = (d: Dataset): number[] => {
    const c = new Array(d.numClasses).fill(0);
    for (const y of d.labels) c[y] += 1;
    return c;
  };
  const sourceIndices = (d: Dataset): number[] => Array.from({ length: d.labels.length }, (_, i) => Math.round(at(d, i, 0, 0, 0) * 10));

  it('few-shot keeps k examples per class, in dataset order, seeded', () => {
    const f = fewShot(ds, 5, 1);
    expect(counts(f)).toEqual([5, 5, 5, 5]);
    const src = sourceIndices(f);
    expect([...src].sort((a, b) => a - b)).toEqual(src);
    src.forEach((j, i) => expect(f.labels[i]).toBe(ds.labels[j]));
    expect(bytesOf(fewShot(ds, 5, 1).inputs).equals(bytesOf(f.inputs))).toBe(true);
    expect(bytesOf(fewShot(ds, 5, 2).inputs).equals(bytesOf(f.inputs))).toBe(false);
    expect(() => fewShot(ds, 31, 0)).toThrow(/class 1 has only 30 examples/);
    expect(f.name).toBe('synthetic:fewshot=5:s1');
  });

  it('imbalanced counts follow n_max * ratio^(-c/(C-1))', () => {
    // hand-worked: 3 classes, ratio 100 -> 1000, 1000/10, 1000/100
    expect(imbalancedCounts(1000, 3, 100)).toEqual([1000, 100, 10]);
    // 5 classes, ratio 16 -> 1600 * 16^(-c/4) = 1600, 800, 400, 200, 100
    expect(imbalancedCounts(1600, 5, 16)).toEqual([1600, 800, 400, 200, 100]);
    // the smallest class (30) sets n_max; ratio 8 over 4 classes -> 30 * 8^(-c/3) = 30, 15, 7.5, 3.75
    const im = imbalanced(ds, 8, 3);
    expect(counts(im)).toEqual([30, 15, 8, 4]);
    const src = sourceIndices(im);
    expect(new Set(src).size).toBe(src.length);
    src.forEach((j, i) => expect(im.labels[i]).toBe(ds.labels[j]));
    expect(bytesOf(imbalanced(ds, 8, 3).inputs).equals(bytesOf(im.inputs))).toBe(true);
    expect(bytesOf(imbalanced(ds, 8, 4).inputs).equals(bytesOf(im.inputs))).toBe(false);
  });
});
