import { describe, it, expect } from 'vitest';
import { computeNormalization, normalize } from '../../src/data/normalize.js';
import { batches, batchIndices } from '../../src/data/batches.js';
import { probeInputs } from '../../src/data/probe.js';
import { Rng, permutation, deriveSeed } from '../../src/base/random.js';
import { segmentation } from '../../src/data/transforms/segmentation.js';
import { bytesOf, syntheticDataset } from './synthetic.js';

describe('normalisation', () => {
  it('computes per-channel mean and population std (hand-worked)', () => {
    // channel 0: pixels alternate 0 and 1 -> mean 0.5, std 0.5; channel 1: all 0.25 -> std floor 1
    const ds = syntheticDataset([0, 1, 0], [2, 2, 2], (_, ch, r, c) => (ch === 0 ? (r + c) % 2 : 0.25));
    const norm = computeNormalization(ds);
    expect(norm.mean[0]).toBeCloseTo(0.5, 12);
    expect(norm.std[0]).toBeCloseTo(0.5, 12);
    expect(norm.mean[1]).toBeCloseTo(0.25, 7);
    expect(norm.std[1]).toBe(1);
    const z = normalize(ds, norm);
    expect(Array.from(z.inputs.subarray(0, 8))).toEqual([-1, 1, 1, -1, 0, 0, 0, 0]);
    expect(() => normalize(z, norm)).toThrow(/already normalised/);
    expect(() => normalize(ds, { mean: [0], std: [1] })).toThrow(/needs 2 finite means/);
    expect(() => normalize(ds, { mean: [0, 0], std: [1, 0] })).toThrow(/positive stds/);
  });

  it('yields mean ~0 and std ~1 on a random training split', () => {
    const rng = new Rng(3);
    const ds = syntheticDataset(new Array(200).fill(0), [3, 4, 4], (_, ch) => rng.next() * (ch + 1) + ch);
    const z = normalize(ds, computeNormalization(ds));
    for (let ch = 0; ch < 3; ch++) {
      const values: number[] = [];
      for (let i = 0; i < 200; i++) values.push(...z.inputs.subarray((i * 3 + ch) * 16, (i * 3 + ch + 1) * 16));
      const mean = values.reduce((a, b) => a + b, 0) / values.length;
      const std = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
      expect(Math.abs(mean)).toBeLessThan(1e-6);
      expect(std).toBeCloseTo(1, 5);
    }
  });
});

describe('random', () => {
  it('permutation is a bijection and seeded', () => {
    const p = permutation(1000, 5);
    expect([...p].sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(bytesOf(permutation(1000, 5)).equals(bytesOf(p))).toBe(true);
    expect(bytesOf(permutation(1000, 6)).equals(bytesOf(p))).toBe(false);
    expect(deriveSeed(1, 'a')).not.toBe(deriveSeed(1, 'b'));
    expect(deriveSeed(1, 'a')).not.toBe(deriveSeed(2, 'a'));
  });

  it('uniform and normal draws have the right moments', () => {
    const rng = new Rng(11);
    let s = 0;
    let s2 = 0;
    let u = 0;
    const n = 100_000;
    for (let i = 0; i < n; i++) {
      const x = rng.normal();
      s += x;
      s2 += x * x;
      u += rng.next();
    }
    expect(Math.abs(s / n)).toBeLessThan(0.015);
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.02);
    expect(Math.abs(u / n - 0.5)).toBeLessThan(0.005);
  });
});

describe('batches', () => {
  const ds = syntheticDataset(
    Array.from({ length: 23 }, (_, i) => i % 3),
    [1, 2, 2],
    (i) => i,
  );

  it('one epoch visits every example once; same seed -> same batches', () => {
    const a = [...batches(ds, 5, { seed: 1 })];
    expect(a.map((b) => b.labels.length)).toEqual([5, 5, 5, 5, 3]);
    const seen = a.flatMap((b) => Array.from({ length: b.labels.length }, (_, i) => b.inputs[i * 4]));
    expect([...seen].sort((x, y) => x - y)).toEqual(Array.from({ length: 23 }, (_, i) => i));
    for (const b of a) for (let i = 0; i < b.labels.length; i++) expect(b.labels[i]).toBe(b.inputs[i * 4] % 3);
    const again = [...batches(ds, 5, { seed: 1 })];
    again.forEach((b, k) => expect(bytesOf(b.inputs).equals(bytesOf(a[k].inputs))).toBe(true));
    const other = [...batches(ds, 5, { seed: 2 })];
    expect(bytesOf(other[0].inputs).equals(bytesOf(a[0].inputs))).toBe(false);
    const nextEpoch = [...batches(ds, 5, { seed: 1, epoch: 1 })];
    expect(bytesOf(nextEpoch[0].inputs).equals(bytesOf(a[0].inputs))).toBe(false);
  });

  it('dropLast and unshuffled order', () => {
    expect([...batchIndices(23, 5, { seed: 0, dropLast: true })].length).toBe(4);
    expect([...batchIndices(7, 3, { seed: 0, shuffle: false })].map((b) => [...b])).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
    expect(() => [...batchIndices(7, 0, { seed: 0 })]).toThrow(/batch size/);
  });

  it('batches dense datasets with their targets', () => {
    const seg = segmentation(ds, { size: 3, maxDigits: 1, seed: 0 });
    const [first] = batches(seg, 4, { seed: 0, shuffle: false });
    expect(first.kind).toBe('segmentation');
    expect(first.masks.length).toBe(4 * 9);
    expect(bytesOf(first.masks).equals(bytesOf(seg.masks.subarray(0, 36)))).toBe(true);
  });
});

describe('probeInputs', () => {
  const ds = syntheticDataset([0, 1, 2, 0, 1], [1, 2, 2], (i, _, r, c) => (i + r + c) / 10);

  it('returns the first n inputs, normalised, as an NCHW tensor', () => {
    const norm = computeNormalization(ds);
    const t = probeInputs(ds, 3);
    expect(t.dtype).toBe('float32');
    expect(t.shape).toEqual([3, 1, 2, 2]);
    for (let k = 0; k < 12; k++) expect(t.data[k]).toBeCloseTo((ds.inputs[k] - norm.mean[0]) / norm.std[0], 6);
    const given = probeInputs(ds, 2, { mean: [0.5], std: [2] });
    expect(given.data[0]).toBeCloseTo(-0.25, 7);
    const pre = normalize(ds, { mean: [0], std: [0.5] });
    expect(Array.from(probeInputs(pre, 1).data)).toEqual(Array.from(pre.inputs.subarray(0, 4)));
    expect(() => probeInputs(ds, 6)).toThrow(/cannot take 6 probe inputs from 5/);
  });
});
