import { describe, it, expect } from 'vitest';
import { parseTaskSpec, formatTaskSpec, TaskSpecError } from '../../src/data/task-spec.js';
import { loadTask } from '../../src/data/load-task.js';
import { datasetSize, type Dataset, type DatasetSplits } from '../../src/data/types.js';
import { bytesOf, labelsWithCounts, syntheticDataset } from './synthetic.js';

describe('parseTaskSpec', () => {
  it('parses the documented forms into steps', () => {
    expect(parseTaskSpec('fashion:subset=0-4').steps).toEqual([{ op: 'subset', classes: [0, 1, 2, 3, 4] }]);
    expect(parseTaskSpec('mnist:rot=90').steps).toEqual([{ op: 'rot', degrees: 90 }]);
    expect(parseTaskSpec('mnist:perm=s3').steps).toEqual([{ op: 'perm', seed: 3 }]);
    expect(parseTaskSpec('fashion:fewshot=10:s1').steps).toEqual([{ op: 'fewshot', k: 10, seed: 1 }]);
    expect(parseTaskSpec('mnist:imbalanced=100').steps).toEqual([{ op: 'imbalanced', ratio: 100, seed: 0 }]);
    expect(parseTaskSpec('mnist:invert:noise=0.25:s4:seg=56x3:s2').steps).toEqual([
      { op: 'invert' },
      { op: 'noise', sigma: 0.25, seed: 4 },
      { op: 'seg', size: 56, maxDigits: 3, seed: 2 },
    ]);
    expect(parseTaskSpec('mnist:det=48x1').steps).toEqual([{ op: 'det', size: 48, maxObjects: 1, seed: 0 }]);
  });

  it('gives canonical ids that parse back to themselves', () => {
    const cases: [string, string][] = [
      ['fashion:subset=4,0-3,7', 'fashion:subset=0-4,7'],
      ['mnist:rot=-90', 'mnist:rot=270'],
      ['mnist:rot=450', 'mnist:rot=90'],
      ['mnist:rot=12.50', 'mnist:rot=12.5'],
      ['mnist:imbalanced=100', 'mnist:imbalanced=100:s0'],
      ['mnist:noise=1e-1:s2', 'mnist:noise=0.1:s2'],
      ['mnist:perm=s3', 'mnist:perm=s3'],
      ['fashion:fewshot=10:s1', 'fashion:fewshot=10:s1'],
      ['mnist', 'mnist'],
    ];
    for (const [spec, id] of cases) {
      const parsed = parseTaskSpec(spec);
      expect(parsed.id).toBe(id);
      expect(parseTaskSpec(id).id).toBe(id);
      expect(formatTaskSpec(parsed.base, parsed.steps)).toBe(id);
    }
  });

  it('rejects bad specs with the list of valid forms', () => {
    const bad: [string, RegExp][] = [
      ['mnist:rotate=90', /unknown step 'rotate=90'/],
      ['mnist:rot=abc', /angle 'abc'/],
      ['mnist:fewshot=0', /few-shot k 0 must be at least 1/],
      ['mnist:fewshot=2.5', /not an integer/],
      ['mnist:imbalanced=0.5', /must be at least 1/],
      ['mnist:perm=3', /perm=s3/],
      ['mnist:rot=90:s1', /takes no seed/],
      ['mnist:s1', /does not follow a seeded step/],
      ['mnist:seg=56', /seg=56x3/],
      ['mnist:seg=56x3:rot=90', /seg\/det must be the last step/],
      ['mnist:subset=a', /bad class list/],
      ['mnist:invert=1', /takes no value/],
      ['9mnist', /base dataset/],
      ['mnist:fewshot=5:s99999999999', /below 2\^32/],
    ];
    for (const [spec, message] of bad) {
      let caught: unknown;
      try {
        parseTaskSpec(spec);
      } catch (err) {
        caught = err;
      }
      expect(caught, spec).toBeInstanceOf(TaskSpecError);
      expect((caught as Error).message).toMatch(message);
      expect((caught as Error).message).toMatch(/valid forms[\s\S]*fewshot=<k>/);
    }
  });
});

describe('loadTask', () => {
  const make = (n: number, offset: number): Dataset =>
    syntheticDataset(labelsWithCounts([n, n, n, n]), [1, 8, 8], (i, _, r, c) => ((i * 7 + r * 3 + c + offset) % 11) / 10);
  const base: DatasetSplits = { train: make(20, 0), test: make(5, 1) };
  const datasets = { toy: base };

  it('applies the chain to both splits; few-shot only to training', async () => {
    const task = await loadTask('toy:subset=1-3:fewshot=4:s2', { datasets });
    expect(task.id).toBe('toy:subset=1-3:fewshot=4:s2');
    expect(task.kind).toBe('classification');
    expect(datasetSize(task.train)).toBe(12);
    expect(datasetSize(task.test)).toBe(15);
    expect(task.train.numClasses).toBe(3);
    expect(task.train.name).toBe(task.id);
    expect(task.test.name).toBe(task.id);
  });

  it('normalises both splits with training statistics, recorded as JSON', async () => {
    const task = await loadTask('toy:invert', { datasets });
    const raw = await loadTask('toy:invert', { datasets, normalize: false });
    expect(raw.train.normalization).toBeUndefined();
    expect(task.train.normalization).toEqual(task.normalization);
    expect(task.test.normalization).toEqual(task.normalization);
    const { mean, std } = task.normalization;
    for (let i = 0; i < 50; i++) expect(task.test.inputs[i]).toBeCloseTo((raw.test.inputs[i] - mean[0]) / std[0], 5);
    let sum = 0;
    for (const v of task.train.inputs) sum += v;
    expect(Math.abs(sum / task.train.inputs.length)).toBeLessThan(1e-6);
  });

  it('same spec -> identical bytes; noise differs between splits and seeds', async () => {
    const a = await loadTask('toy:noise=0.3:s1', { datasets, normalize: false });
    const b = await loadTask('toy:noise=0.3:s1', { datasets, normalize: false });
    const c = await loadTask('toy:noise=0.3:s2', { datasets, normalize: false });
    expect(bytesOf(a.train.inputs).equals(bytesOf(b.train.inputs))).toBe(true);
    expect(bytesOf(a.train.inputs).equals(bytesOf(c.train.inputs))).toBe(false);
    // the test split draws its own noise: the first test image's noise is not the first train image's
    const diff = (x: Float32Array, y: Float32Array): number[] => Array.from({ length: 64 }, (_, i) => x[i] - y[i]);
    expect(diff(a.train.inputs, base.train.inputs)).not.toEqual(diff(a.test.inputs, base.test.inputs));
  });

  it('builds dense tasks', async () => {
    const seg = await loadTask('toy:seg=16x2:s1', { datasets });
    expect(seg.kind).toBe('segmentation');
    expect(seg.train.shape).toEqual([1, 16, 16]);
    const det = await loadTask('toy:det=16x1', { datasets });
    expect(det.kind).toBe('detection');
    expect(det.id).toBe('toy:det=16x1:s0');
  });

  it('names unknown bases and the ones it knows', async () => {
    await expect(loadTask('cifar:rot=90', { datasets })).rejects.toThrow(/unknown base dataset 'cifar' \(known: mnist, fashion, fashion-mini, toy\)/);
  });

  it('loads real tasks from MNIST', async () => {
    const task = await loadTask('mnist:subset=0-4:imbalanced=10:s1');
    // smallest training class of 0-4 has 784 digits (80 % of the package's 980 fours)
    const counts = new Array(5).fill(0);
    for (const y of (task.train as Dataset).labels) counts[y] += 1;
    expect(counts).toEqual([0, 1, 2, 3, 4].map((c) => Math.round(784 * 10 ** (-c / 4))));
    // test split: per class, the package count minus 80 % rounded (1001-801, 1127-902, 991-793, 1032-826, 980-784)
    expect(datasetSize(task.test)).toBe(200 + 225 + 198 + 206 + 196);
  });
});
